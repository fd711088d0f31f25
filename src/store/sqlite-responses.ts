/**
 * {@link ResponseStore} on `bun:sqlite`: `<dataDir>/responses.db`, a file of its own so that large
 * conversation bodies never share a write lock or a checkpoint with the usage counters.
 *
 * Each response is one row looked up by its id (the primary key: O(1) in practice, O(log n) in
 * the B-tree). Rows expire after the TTL; beyond the size cap the oldest go first. Expired rows
 * are never returned, and are swept at open and then hourly.
 *
 * Writes are behind: a put lands in memory at once (a get finds it there, so the next turn can
 * follow straight away) and reaches disk with the others in one transaction a moment later, so a
 * response's serialising and commit are off its request path. A crash loses at most that moment.
 */

import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ResponseStore, StoredResponse } from "./response-store.ts";

export interface SqliteResponseStoreOptions {
  /** Created (recursively) when missing. */
  dataDir: string;
  /** How long a response is kept. */
  ttlMs: number;
  /** Total size of the stored JSON beyond which the oldest responses are removed. */
  maxBytes: number;
  /** Default "responses.db". */
  fileName?: string;
  /** Longest time a put waits in memory before reaching disk. Default 200. */
  flushIntervalMs?: number;
  /** Receives failures of timer-driven writes, which have no caller to throw to. Default console.error. */
  onFlushError?: (error: unknown) => void;
  /** For tests: the clock. */
  now?: () => number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS responses (
  id TEXT PRIMARY KEY NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  previous_id TEXT,
  size INTEGER NOT NULL,
  response TEXT NOT NULL,
  input_items TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_by_age ON responses (created_at);`;

const SWEEP_EVERY_MS = 60 * 60 * 1000;
const DEFAULT_FLUSH_INTERVAL_MS = 200;
/** A burst this large is written at once rather than held. */
const MAX_PENDING = 256;
/** Long enough to ride out another process's checkpoint. */
const BUSY_TIMEOUT_MS = 5000;

type Row = { id: string; created_at: number; previous_id: string | null; response: string; input_items: string };

export function openSqliteResponseStore(options: SqliteResponseStoreOptions): ResponseStore {
  const now = options.now ?? Date.now;
  mkdirSync(options.dataDir, { recursive: true });
  const db = new Database(join(options.dataDir, options.fileName ?? "responses.db"), { create: true, strict: true });
  db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  db.run(SCHEMA);

  const select = db.prepare<Row, { id: string; now: number }>(
    "SELECT id, created_at, previous_id, response, input_items FROM responses WHERE id = $id AND expires_at > $now",
  );
  const upsert = db.prepare<never, { id: string; createdAt: number; expiresAt: number; previousId: string | null; size: number; response: string; inputItems: string }>(
    `INSERT INTO responses (id, created_at, expires_at, previous_id, size, response, input_items)
     VALUES ($id, $createdAt, $expiresAt, $previousId, $size, $response, $inputItems)
     ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at,
       previous_id = excluded.previous_id, size = excluded.size, response = excluded.response,
       input_items = excluded.input_items`,
  );
  const sizeOf = db.prepare<{ size: number }, { id: string }>("SELECT size FROM responses WHERE id = $id");
  const remove = db.prepare<{ size: number }, { id: string }>("DELETE FROM responses WHERE id = $id RETURNING size");
  const removeExpired = db.prepare<{ size: number }, { now: number }>("DELETE FROM responses WHERE expires_at <= $now RETURNING size");
  const oldest = db.prepare<{ id: string; size: number }, []>("SELECT id, size FROM responses ORDER BY created_at LIMIT 64");
  let totalBytes = db.prepare<{ total: number | null }, []>("SELECT SUM(size) AS total FROM responses").get()?.total ?? 0;

  const sweep = (): void => {
    for (const row of removeExpired.all({ now: now() })) totalBytes -= row.size;
  };
  /** Oldest first until the cap holds; the response just written is the newest, so it stays. */
  const enforceCap = db.transaction(() => {
    while (totalBytes > options.maxBytes) {
      const batch = oldest.all();
      if (batch.length <= 1) break;
      for (const row of batch.slice(0, -1)) {
        remove.get({ id: row.id });
        totalBytes -= row.size;
        if (totalBytes <= options.maxBytes) break;
      }
    }
  });

  const pending = new Map<string, StoredResponse>();
  const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  const write = db.transaction((batch: StoredResponse[]) => {
    for (const stored of batch) {
      const response = JSON.stringify(stored.response);
      const inputItems = JSON.stringify(stored.inputItems);
      const size = response.length + inputItems.length;
      const previous = sizeOf.get({ id: stored.id })?.size ?? 0;
      upsert.run({ id: stored.id, createdAt: stored.createdAt, expiresAt: stored.createdAt + options.ttlMs, previousId: stored.previousId, size, response, inputItems });
      totalBytes += size - previous;
    }
  });
  const flush = (): void => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    pending.clear();
    write(batch);
    if (totalBytes > options.maxBytes) enforceCap();
  };
  /** From the timer: a failed write (a full disk) costs those responses, never the process. */
  const flushLater = (): void => {
    try {
      flush();
    } catch (error) {
      (options.onFlushError ?? ((reason: unknown) => console.error("response store write failed:", reason)))(error);
    }
  };

  sweep();
  const timer = setInterval(sweep, SWEEP_EVERY_MS);
  timer.unref?.();
  let closed = false;

  return {
    async get(id) {
      const held = pending.get(id);
      if (held !== undefined) return held.createdAt + options.ttlMs > now() ? held : undefined;
      const row = select.get({ id, now: now() });
      return row === null ? undefined : toStored(row);
    },
    async put(stored) {
      pending.set(stored.id, stored);
      if (pending.size >= MAX_PENDING) flush();
      else flushTimer ??= setTimeout(flushLater, flushIntervalMs);
    },
    async delete(id) {
      const held = pending.delete(id);
      const row = remove.get({ id });
      if (row !== null) totalBytes -= row.size;
      return held || row !== null;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      flush();
      db.close();
    },
  };
}

function toStored(row: Row): StoredResponse {
  return {
    id: row.id,
    createdAt: row.created_at,
    previousId: row.previous_id,
    response: JSON.parse(row.response),
    inputItems: JSON.parse(row.input_items),
  };
}
