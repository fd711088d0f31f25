/**
 * Single-process {@link Store} on `bun:sqlite` (WAL mode, `<dataDir>/usage.db`).
 *
 * Usage writes land in in-memory buffers and reach disk in one transaction per
 * flush interval, so the request path never waits on I/O and a crash loses at
 * most one interval of usage. Key-state changes (rare) are written at once, so
 * a crash never loses one. Reads merge the buffers over what is on
 * disk, so callers never observe the batching. Only key ids are stored, never
 * key material; the schema has no column meant for a secret.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KeyStateRecord, LocalStore, UsageDelta, UsageRow } from "./types.ts";
import { addCounters, matchesUsageQuery, USAGE_COUNTERS } from "./usage-rows.ts";

export interface SqliteStoreOptions {
  /** Created (recursively) when missing. */
  dataDir: string;
  /** Longest time a buffered write waits before reaching disk. Default 1000. */
  flushIntervalMs?: number;
  /** Default "usage.db". */
  fileName?: string;
  /** Receives failures of timer-driven flushes, which have no caller to throw to. Default console.error. */
  onFlushError?: (error: unknown) => void;
}

/**
 * Ordered migrations: entry i upgrades the schema from version i to i + 1
 * (recorded in `PRAGMA user_version`). Released entries are never edited,
 * only appended to, so every existing database can be brought forward.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE usage (
     day TEXT NOT NULL,
     provider TEXT NOT NULL,
     key_id TEXT NOT NULL,
     model TEXT NOT NULL,
     requests INTEGER NOT NULL DEFAULT 0,
     successes INTEGER NOT NULL DEFAULT 0,
     failures INTEGER NOT NULL DEFAULT 0,
     prompt_tokens INTEGER NOT NULL DEFAULT 0,
     completion_tokens INTEGER NOT NULL DEFAULT 0,
     cached_tokens INTEGER NOT NULL DEFAULT 0,
     reasoning_tokens INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (day, provider, key_id, model)
   ) WITHOUT ROWID;
   CREATE TABLE key_state (
     provider TEXT NOT NULL,
     key_id TEXT NOT NULL,
     model TEXT NOT NULL,
     until_ms INTEGER NOT NULL,
     strikes INTEGER NOT NULL,
     reason TEXT NOT NULL,
     pinned INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (provider, key_id, model)
   ) WITHOUT ROWID;
   CREATE TABLE meta (
     name TEXT PRIMARY KEY NOT NULL,
     value TEXT NOT NULL
   ) WITHOUT ROWID;`,
];

/** Schema version this code writes; a database reporting a higher one is refused. */
export const STORE_SCHEMA_VERSION = MIGRATIONS.length;

const DEFAULT_FLUSH_INTERVAL_MS = 1000;
const DEFAULT_FILE_NAME = "usage.db";
/** Long enough to ride out another process's checkpoint or migration. */
const BUSY_TIMEOUT_MS = 5000;


// Mapped copies of the record types: bun:sqlite wants bindings with an index
// signature, which interfaces lack but anonymous object types satisfy.
type UsageParams = { [K in keyof UsageDelta]: UsageDelta[K] };
// SQLite has no boolean: `pinned` is stored as 0/1.
type KeyStateParams = { [K in keyof KeyStateRecord]: K extends "pinned" ? number : KeyStateRecord[K] };
type KeyStateScope = { provider: string; keyId: string; model: string };
type UsageFilter = { day: string | null; provider: string | null; keyId: string | null };

/** A buffered key-state change; record null means "delete this row". */
interface KeyStateWrite {
  scope: KeyStateScope;
  record: KeyStateRecord | null;
}

export function openSqliteStore(options: SqliteStoreOptions): LocalStore {
  const intervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  const onFlushError = options.onFlushError ?? ((error: unknown) => console.error("usage store flush failed:", error));
  mkdirSync(options.dataDir, { recursive: true });
  const path = join(options.dataDir, options.fileName ?? DEFAULT_FILE_NAME);
  const db = openDatabase(path);

  const upsertUsage = db.prepare<never, UsageParams>(
    `INSERT INTO usage (day, provider, key_id, model, requests, successes, failures,
                        prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens)
     VALUES ($day, $provider, $keyId, $model, $requests, $successes, $failures,
             $promptTokens, $completionTokens, $cachedTokens, $reasoningTokens)
     ON CONFLICT (day, provider, key_id, model) DO UPDATE SET
       requests = MIN(requests + excluded.requests, ${Number.MAX_SAFE_INTEGER}),
       successes = MIN(successes + excluded.successes, ${Number.MAX_SAFE_INTEGER}),
       failures = MIN(failures + excluded.failures, ${Number.MAX_SAFE_INTEGER}),
       prompt_tokens = MIN(prompt_tokens + excluded.prompt_tokens, ${Number.MAX_SAFE_INTEGER}),
       completion_tokens = MIN(completion_tokens + excluded.completion_tokens, ${Number.MAX_SAFE_INTEGER}),
       cached_tokens = MIN(cached_tokens + excluded.cached_tokens, ${Number.MAX_SAFE_INTEGER}),
       reasoning_tokens = MIN(reasoning_tokens + excluded.reasoning_tokens, ${Number.MAX_SAFE_INTEGER})`,
  );
  const selectUsage = db.prepare<UsageRow, UsageFilter>(
    `SELECT day, provider, key_id AS keyId, model, requests, successes, failures,
            prompt_tokens AS promptTokens, completion_tokens AS completionTokens,
            cached_tokens AS cachedTokens, reasoning_tokens AS reasoningTokens
     FROM usage
     WHERE ($day IS NULL OR day = $day)
       AND ($provider IS NULL OR provider = $provider)
       AND ($keyId IS NULL OR key_id = $keyId)`,
  );
  const upsertKeyState = db.prepare<never, KeyStateParams>(
    `INSERT INTO key_state (provider, key_id, model, until_ms, strikes, reason, pinned)
     VALUES ($provider, $keyId, $model, $until, $strikes, $reason, $pinned)
     ON CONFLICT (provider, key_id, model) DO UPDATE SET
       until_ms = excluded.until_ms, strikes = excluded.strikes, reason = excluded.reason, pinned = excluded.pinned`,
  );
  const deleteKeyState = db.prepare<never, KeyStateScope>(
    "DELETE FROM key_state WHERE provider = $provider AND key_id = $keyId AND model = $model",
  );
  const deleteProviderKeyState = db.prepare<never, { provider: string }>("DELETE FROM key_state WHERE provider = $provider");
  const deleteAllKeyState = db.prepare<never, []>("DELETE FROM key_state");
  const selectKeyState = db.prepare<Omit<KeyStateRecord, "pinned"> & { pinned: number }, []>(
    "SELECT provider, key_id AS keyId, model, until_ms AS until, strikes, reason, pinned FROM key_state",
  );
  const selectMeta = db.prepare<{ value: string }, { name: string }>("SELECT value FROM meta WHERE name = $name");
  const upsertMeta = db.prepare<never, { name: string; value: string }>(
    "INSERT INTO meta (name, value) VALUES ($name, $value) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
  );

  const pendingUsage = new Map<string, UsageDelta>();
  const pendingKeyState = new Map<string, KeyStateWrite>();
  // Scope clears run before the per-key writes at flush time; that order is
  // correct because clearAllKeyState drops the per-key writes it supersedes.
  const clearedProviders = new Set<string>();
  let clearedEverything = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const writePending = db.transaction(() => {
    if (clearedEverything) deleteAllKeyState.run();
    for (const provider of clearedProviders) deleteProviderKeyState.run({ provider });
    for (const write of pendingKeyState.values()) {
      if (write.record) upsertKeyState.run({ ...write.record, pinned: write.record.pinned ? 1 : 0 });
      else deleteKeyState.run(write.scope);
    }
    for (const delta of pendingUsage.values()) upsertUsage.run(delta);
  });

  function hasPending(): boolean {
    return pendingUsage.size > 0 || pendingKeyState.size > 0 || clearedProviders.size > 0 || clearedEverything;
  }

  // Armed by the first buffered write rather than ticking forever, so an idle
  // proxy never wakes up; unref'd so it never holds the process open.
  function scheduleFlush(): void {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      flushReporting();
    }, intervalMs);
    timer.unref();
  }

  /** A flush with no caller to throw to: its failure goes to `onFlushError`, and it is retried. */
  function flushReporting(): void {
    try {
      flush();
    } catch (error) {
      onFlushError(error);
    }
  }

  function cancelFlush(): void {
    clearTimeout(timer);
    timer = undefined;
  }

  // Buffered writes would otherwise be accepted and silently never persisted.
  function assertOpen(): void {
    if (closed) throw new Error(`usage store ${path} is closed`);
  }

  function flush(): void {
    cancelFlush();
    if (!hasPending()) return;
    try {
      writePending();
    } catch (error) {
      // The buffers are kept intact, so the next attempt retries everything.
      scheduleFlush();
      throw error;
    }
    pendingUsage.clear();
    pendingKeyState.clear();
    clearedProviders.clear();
    clearedEverything = false;
  }

  return {
    addUsage(delta) {
      assertOpen();
      assertUsageCounters(delta);
      const id = usageId(delta);
      const merged = pendingUsage.get(id);
      if (merged) addCounters(merged, delta);
      else pendingUsage.set(id, copyUsage(delta));
      scheduleFlush();
    },

    // Key-state changes are rare and a lost one (a disabled key back in service after a crash) is
    // costly, so they are written at once, together with whatever usage is pending.
    saveKeyState(record) {
      assertOpen();
      assertKeyState(record);
      const copy = copyKeyState(record);
      pendingKeyState.set(keyStateId(copy), { scope: scopeOf(copy), record: copy });
      flushReporting();
    },

    clearKeyState(provider, keyId, model) {
      assertOpen();
      const scope = { provider, keyId, model };
      pendingKeyState.set(keyStateId(scope), { scope, record: null });
      flushReporting();
    },

    clearAllKeyState(provider) {
      assertOpen();
      if (provider === undefined) {
        clearedEverything = true;
        clearedProviders.clear();
        pendingKeyState.clear();
      } else {
        clearedProviders.add(provider);
        for (const [id, write] of pendingKeyState) {
          if (write.scope.provider === provider) pendingKeyState.delete(id);
        }
      }
      flushReporting();
    },

    loadKeyState() {
      const rows = clearedEverything
        ? new Map<string, KeyStateRecord>()
        : new Map(
            selectKeyState
              .all()
              .filter((row) => !clearedProviders.has(row.provider))
              .map((row) => [keyStateId(row), { ...row, pinned: row.pinned === 1 }]),
          );
      for (const [id, write] of pendingKeyState) {
        if (write.record) rows.set(id, copyKeyState(write.record));
        else rows.delete(id);
      }
      return [...rows.values()];
    },

    usage(query) {
      const rows = new Map(
        selectUsage
          .all({ day: query.day ?? null, provider: query.provider ?? null, keyId: query.keyId ?? null })
          .map((row) => [usageId(row), row]),
      );
      for (const [id, delta] of pendingUsage) {
        if (!matchesUsageQuery(delta, query)) continue;
        const row = rows.get(id);
        if (row) addCounters(row, delta);
        else rows.set(id, copyUsage(delta));
      }
      return [...rows.values()].sort(compareUsageRows);
    },

    getMeta(name) {
      return selectMeta.get({ name })?.value;
    },

    setMeta(name, value) {
      upsertMeta.run({ name, value });
    },

    flush,

    close() {
      if (closed) return;
      try {
        flush();
      } finally {
        cancelFlush();
        closed = true;
        db.close();
      }
    },
  };
}

function openDatabase(path: string): Database {
  const db = new Database(path, { create: true, strict: true });
  try {
    // busy_timeout first so the WAL switch and migrations wait out other connections.
    db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.run("PRAGMA journal_mode = WAL");
    // NORMAL is durable across application crashes in WAL mode; only an OS
    // crash can drop the last commits, which the flush interval already allows.
    db.run("PRAGMA synchronous = NORMAL");
    migrate(db, path);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database, path: string): void {
  // IMMEDIATE takes the write lock before reading the version, so two
  // processes opening a fresh file cannot both run the same migration.
  db.transaction(() => {
    const current = db.prepare<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `${path} has schema version ${current}, newer than the ${MIGRATIONS.length} this llm-key-proxy understands; ` +
          "upgrade llm-key-proxy or use a different data dir",
      );
    }
    MIGRATIONS.slice(current).forEach((sql, index) => {
      db.run(sql);
      db.run(`PRAGMA user_version = ${current + index + 1}`);
    });
  }).immediate();
}

/** Day, provider and key id never contain NUL, and the model comes last, so the join is unambiguous. */
function usageId(row: Pick<UsageDelta, "day" | "provider" | "keyId" | "model">): string {
  return `${row.day}\u0000${row.provider}\u0000${row.keyId}\u0000${row.model}`;
}

function keyStateId(scope: KeyStateScope): string {
  return JSON.stringify([scope.provider, scope.keyId, scope.model]);
}

function scopeOf(record: KeyStateScope): KeyStateScope {
  return { provider: record.provider, keyId: record.keyId, model: record.model };
}

// Copies keep only the known fields: the caller may reuse or extend its object.
function copyKeyState(record: KeyStateRecord): KeyStateRecord {
  return { ...scopeOf(record), until: record.until, strikes: record.strikes, reason: record.reason, pinned: record.pinned };
}

function copyUsage(delta: UsageDelta): UsageDelta {
  const copy = { day: delta.day, provider: delta.provider, keyId: delta.keyId, model: delta.model } as UsageDelta;
  for (const field of USAGE_COUNTERS) copy[field] = delta[field];
  return copy;
}

function compareUsageRows(a: UsageRow, b: UsageRow): number {
  return (
    compareStrings(a.day, b.day) ||
    compareStrings(a.provider, b.provider) ||
    compareStrings(a.keyId, b.keyId) ||
    compareStrings(a.model, b.model)
  );
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// A bad value would otherwise surface only at flush time, where it would fail
// the whole batch (NaN binds as NULL) and keep failing on every retry.
function assertUsageCounters(delta: UsageDelta): void {
  for (const field of USAGE_COUNTERS) {
    const value = delta[field];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new TypeError(`usage ${field} must be a non-negative integer, got ${String(value)}`);
    }
  }
}

function assertKeyState(record: KeyStateRecord): void {
  // Infinity is allowed: it is how a permanently disabled key can be expressed.
  if (typeof record.until !== "number" || Number.isNaN(record.until)) {
    throw new TypeError(`key state until must be epoch ms, got ${String(record.until)}`);
  }
  if (!Number.isSafeInteger(record.strikes) || record.strikes < 0) {
    throw new TypeError(`key state strikes must be a non-negative integer, got ${String(record.strikes)}`);
  }
}
