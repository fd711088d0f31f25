/**
 * Prompt-cache affinity: which key served a conversation last, so its next turn goes to the same
 * key and the provider's prompt cache (kept per key or account) hits. A bounded LRU of
 * (provider, model, conversation) → key id, each entry living as long as the provider's cache
 * (refreshed on use, as the providers refresh theirs). Only a preference: a key that is cooling,
 * disabled, failing or at its cap is passed over, and whichever key serves becomes the new one.
 */

/** Conversations remembered by default: about 1 MB of entries. */
export const AFFINITY_CAPACITY = 10_000;

export interface AffinityOptions {
  /** Longest idle time of an entry (the provider's cache lifetime). */
  ttlMs: number;
  /** Most conversations remembered; the least recently used goes first. */
  capacity: number;
  now?: () => number;
}

export interface Affinity {
  /** The key that served the conversation last, while the entry lives. */
  get(provider: string, model: string, conversation: string): string | undefined;
  /** The key that served it now. */
  set(provider: string, model: string, conversation: string, keyId: string): void;
  readonly size: number;
  /** Turns of a remembered conversation served by its key again (`kept`) or by another (`moved`: that key was not ready). */
  readonly turns: { kept: number; moved: number };
}

export function createAffinity(options: AffinityOptions): Affinity {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { keyId: string; expiresAt: number }>();
  const idOf = (provider: string, model: string, conversation: string): string => `${provider}\0${model}\0${conversation}`;
  const turns = { kept: 0, moved: 0 };
  return {
    get(provider, model, conversation) {
      const id = idOf(provider, model, conversation);
      const entry = entries.get(id);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(id);
        return undefined;
      }
      return entry.keyId;
    },
    set(provider, model, conversation, keyId) {
      const id = idOf(provider, model, conversation);
      const previous = entries.get(id);
      if (previous !== undefined && previous.expiresAt > now()) {
        if (previous.keyId === keyId) turns.kept += 1;
        else turns.moved += 1;
      }
      // Re-inserted so the map's order stays least recently used first.
      entries.delete(id);
      entries.set(id, { keyId, expiresAt: now() + options.ttlMs });
      if (entries.size > options.capacity) entries.delete(entries.keys().next().value!);
    },
    get size() {
      return entries.size;
    },
    turns,
  };
}
