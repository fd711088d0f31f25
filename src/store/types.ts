/**
 * Persistence contract shared by every store backend (SQLite for a single
 * proxy, Redis in cluster mode).
 *
 * Provider API keys never reach a store: callers identify a key by a short,
 * non-reversible key id (a hash), so a copied database file or a Redis dump
 * leaks usage figures but no credentials.
 */

import type { SharedLimitWindow, SharedRefusal } from "../engine/declared-limits.ts";

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

/** A value now, or later: a local store (SQLite, memory) answers at once, a networked one (Redis) later. */
export type Awaitable<T> = T | Promise<T>;

/** A key-state change made by another process sharing the store, as the store reports it. */
export type KeyStateChange =
  | { kind: "saved"; record: KeyStateRecord }
  | { kind: "cleared"; provider: string; keyId: string; model: string }
  /** Every record of `provider` (of every provider when absent) was cleared. */
  | { kind: "cleared_all"; provider?: string }
  /** A provider incident declared elsewhere (pause until `until`), or ended there (`until` 0). */
  | { kind: "incident"; provider: string; until: number; message: string };

/**
 * Writes are fire-and-forget: the store buffers them and deals with its own failures (a store that
 * is down must degrade, never throw into a request). Reads and lifecycle calls may be asynchronous.
 */
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
  loadKeyState(): Awaitable<KeyStateRecord[]>;
  /** Matching usage totals, pending deltas included. */
  usage(query: UsageQuery): Awaitable<UsageRow[]>;
  /** Small key/value table, read and written immediately. */
  getMeta(name: string): Awaitable<string | undefined>;
  setMeta(name: string, value: string): Awaitable<void>;
  /** Writes all buffered changes. */
  flush(): Awaitable<void>;
  /** Flushes, then closes the underlying database or connection. */
  close(): Awaitable<void>;
  /**
   * Present on a store other processes write too: `listener` hears each key-state change they
   * make (never this process's own), so every key pool applies it; returns the unsubscribe.
   */
  watchKeyState?(listener: (change: KeyStateChange) => void): () => void;
  /** Present on a shared store: tell the other processes of an incident declared or ended here (not kept). */
  shareIncident?(provider: string, incident: { until: number; message: string } | undefined): void;
  /**
   * Present on a shared store: one of the `cap` cluster-wide slots of (provider, key id, model), or
   * false while all are taken elsewhere. A slot expires by itself unless its holder keeps it (so a
   * process killed while holding one frees it within seconds); a store that cannot be reached
   * grants it (the per-instance cap still holds).
   */
  acquireSlot?(scope: { provider: string; keyId: string; model: string }, cap: number): Promise<{ release(): void } | false>;
  /**
   * Present on a shared store: count one request in every window of its declared limits, all or
   * none, across the processes sharing it: undefined when it fits, else the window that refused
   * last-freeing and when it frees. A store that cannot be reached admits (each process's own count
   * still holds).
   */
  chargeLimits?(windows: readonly SharedLimitWindow[], now: number): Promise<SharedRefusal | undefined>;
  /** Present on a shared store: move the token windows of a charge made at `second` by `tokens`; fire-and-forget. */
  adjustLimitTokens?(windows: readonly SharedLimitWindow[], second: number, tokens: number): void;
  /**
   * Present on a shared store: true for exactly one of the processes that claim `name` within
   * `ttlMs` (a store that cannot be reached says true: doing the work twice beats not at all).
   */
  claim?(name: string, ttlMs: number): Promise<boolean>;
  /** Present on a shared store: whether it is reachable, and what was lost while it was not. */
  health?(): StoreHealth;
}

/** How a shared store is doing, for `/healthz` and `/metrics`. */
export interface StoreHealth {
  /** Other processes share it (cluster mode). */
  shared: boolean;
  /** The last exchange with it succeeded. */
  reachable: boolean;
  /** Requests whose usage was dropped while it could not be reached. */
  droppedUsage: number;
}

/** A store that answers at once (SQLite, memory): the same contract, every call synchronous. */
export interface LocalStore extends Store {
  loadKeyState(): KeyStateRecord[];
  usage(query: UsageQuery): UsageRow[];
  getMeta(name: string): string | undefined;
  setMeta(name: string, value: string): void;
  flush(): void;
  close(): void;
}
