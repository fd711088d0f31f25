/**
 * Persistence contract shared by every store backend (SQLite for a single
 * proxy, Redis in cluster mode).
 *
 * Provider API keys never reach a store: callers identify a key by a short,
 * non-reversible key id (a hash), so a copied database file or a Redis dump
 * leaks usage figures but no credentials.
 */

/** Counters to add to one (day, provider, key id, model) bucket. */
export interface UsageDelta {
  /** YYYY-MM-DD of the usage day. */
  day: string;
  provider: string;
  keyId: string;
  model: string;
  requests: number;
  successes: number;
  failures: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
}

/** A usage bucket as read back: the running totals of every delta added to it. */
export type UsageRow = UsageDelta;

/**
 * Live cooldown / disabled state of a key.
 * model "" means the whole key (disabled for every model). until is epoch ms.
 */
export interface KeyStateRecord {
  provider: string;
  keyId: string;
  model: string;
  until: number;
  strikes: number;
  reason: string;
  /** The provider said when this ends (Gemini's per-day quotas): the proxy's daily reset keeps it. */
  pinned: boolean;
}

/** Filter for {@link Store.usage}; omitted fields match everything. */
export interface UsageQuery {
  day?: string;
  provider?: string;
  keyId?: string;
}

export interface Store {
  /** Buffered in memory and merged by (day, provider, keyId, model); never blocks on disk. */
  addUsage(delta: UsageDelta): void;
  /** Buffered; last write wins per (provider, keyId, model). */
  saveKeyState(record: KeyStateRecord): void;
  /** Buffered. */
  clearKeyState(provider: string, keyId: string, model: string): void;
  /** Buffered; also drops pending saves in the same scope. */
  clearAllKeyState(provider?: string): void;
  /** Everything persisted, with pending writes applied. */
  loadKeyState(): KeyStateRecord[];
  /** Matching usage totals, pending deltas included. */
  usage(query: UsageQuery): UsageRow[];
  /** Small key/value table, read and written immediately. */
  getMeta(name: string): string | undefined;
  setMeta(name: string, value: string): void;
  /** Writes all buffered changes in one transaction. */
  flush(): void;
  /** Flushes, then closes the underlying database. */
  close(): void;
}
