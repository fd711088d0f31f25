/**
 * {@link ResponseStore} in memory, for the library's memory state: a conversation continued with
 * `previous_response_id` works within the process and is forgotten at exit. Bounded like the SQLite
 * store: entries expire after the TTL, and beyond the size cap (the stored JSON's length) the oldest
 * go first — a Map keeps insertion order, so the first entry is the oldest.
 */

import type { ResponseStore, StoredResponse } from "./response-store.ts";

export interface MemoryResponseStoreOptions {
  /** Default 30 days, as the proxy keeps them. */
  ttlMs?: number;
  /** Total size of the stored JSON beyond which the oldest responses are removed. Default 512 MiB. */
  maxBytes?: number;
  now?: () => number;
}

const DEFAULT_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

export function createMemoryResponseStore(options: MemoryResponseStoreOptions = {}): ResponseStore {
  const { ttlMs = DEFAULT_TTL_MS, maxBytes = DEFAULT_MAX_BYTES, now = Date.now } = options;
  const entries = new Map<string, { response: StoredResponse; size: number }>();
  let total = 0;
  const remove = (id: string): boolean => {
    const entry = entries.get(id);
    if (entry === undefined) return false;
    entries.delete(id);
    total -= entry.size;
    return true;
  };
  return {
    async get(id) {
      const entry = entries.get(id);
      if (entry === undefined) return undefined;
      if (entry.response.createdAt + ttlMs > now()) return entry.response;
      remove(id);
      return undefined;
    },
    async put(response) {
      remove(response.id);
      const size = JSON.stringify(response.response).length + JSON.stringify(response.inputItems).length;
      entries.set(response.id, { response, size });
      total += size;
      while (total > maxBytes && entries.size > 1) remove(entries.keys().next().value!);
    },
    async delete(id) {
      return remove(id);
    },
    close() {
      entries.clear();
      total = 0;
    },
  };
}
