/**
 * SQLite store: buffering and merging, restart durability, schema versioning,
 * and the guarantee that the file can hold no provider secrets.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STORE_SCHEMA_VERSION, openSqliteStore, type SqliteStoreOptions } from "../../../src/store/sqlite.ts";
import type { KeyStateRecord, LocalStore, UsageDelta } from "../../../src/store/types.ts";

const STORE_MODULE = join(import.meta.dir, "../../../src/store/sqlite.ts");

let dataDir: string;
const openStores: LocalStore[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "llm-key-proxy-store-"));
});

afterEach(() => {
  for (const store of openStores.splice(0)) store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function open(options: Partial<SqliteStoreOptions> = {}): LocalStore {
  const store = openSqliteStore({ dataDir, ...options });
  openStores.push(store);
  return store;
}

/** Closes a store opened with {@link open} so a test can reopen the same file. */
function closeStore(store: LocalStore): void {
  openStores.splice(openStores.indexOf(store), 1);
  store.close();
}

/** A second, independent connection: sees only what was actually flushed. */
function readDisk<T>(sql: string): T[] {
  const db = new Database(join(dataDir, "usage.db"), { readonly: true });
  try {
    return db.query<T, []>(sql).all();
  } finally {
    db.close();
  }
}

function delta(overrides: Partial<UsageDelta> = {}): UsageDelta {
  return {
    day: "2025-06-01",
    provider: "groq",
    keyId: "k_1a2b3c",
    model: "llama-3.3-70b",
    requests: 1,
    successes: 1,
    failures: 0,
    promptTokens: 100,
    completionTokens: 20,
    cachedTokens: 10,
    reasoningTokens: 5,
    ...overrides,
  };
}

function state(overrides: Partial<KeyStateRecord> = {}): KeyStateRecord {
  return {
    pinned: false,
    provider: "groq",
    keyId: "k_1a2b3c",
    model: "",
    until: 1_750_000_000_000,
    strikes: 1,
    reason: "rate_limited",
    ...overrides,
  };
}

function sortStates(records: KeyStateRecord[]): KeyStateRecord[] {
  const id = (record: KeyStateRecord) => `${record.provider}/${record.keyId}/${record.model}`;
  return records.toSorted((a, b) => id(a).localeCompare(id(b)));
}

describe("usage", () => {
  test("round-trips a delta through flush", () => {
    const store = open();
    store.addUsage(delta());
    store.flush();
    expect(store.usage({})).toEqual([delta()]);
    expect(readDisk<{ requests: number }>("SELECT requests FROM usage")).toEqual([{ requests: 1 }]);
  });

  test("merges deltas for the same bucket and keeps other buckets apart", () => {
    const store = open();
    store.addUsage(delta());
    const failed = { successes: 0, failures: 1, promptTokens: 7, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 };
    store.addUsage(delta(failed));
    store.addUsage(delta({ model: "llama-3.1-8b" }));
    store.flush();
    store.addUsage(delta({ promptTokens: 1 }));
    store.flush();
    expect(store.usage({})).toEqual([
      delta({ model: "llama-3.1-8b" }),
      delta({ requests: 3, successes: 2, failures: 1, promptTokens: 108, completionTokens: 40, cachedTokens: 20, reasoningTokens: 10 }),
    ]);
  });

  test("pending deltas are visible before flush and merge with persisted totals", () => {
    const store = open({ flushIntervalMs: 60_000 });
    store.addUsage(delta());
    expect(store.usage({})).toEqual([delta()]);
    expect(readDisk("SELECT * FROM usage")).toEqual([]);

    store.flush();
    store.addUsage(delta({ requests: 2 }));
    const doubled = { successes: 2, promptTokens: 200, completionTokens: 40, cachedTokens: 20, reasoningTokens: 10 };
    expect(store.usage({})).toEqual([delta({ requests: 3, ...doubled })]);
  });

  test("filters by day, provider and key id", () => {
    const store = open();
    store.addUsage(delta());
    store.addUsage(delta({ day: "2025-06-02" }));
    store.flush();
    store.addUsage(delta({ provider: "cerebras" }));
    store.addUsage(delta({ keyId: "k_other" }));

    expect(store.usage({ day: "2025-06-02" })).toEqual([delta({ day: "2025-06-02" })]);
    expect(store.usage({ provider: "cerebras" })).toEqual([delta({ provider: "cerebras" })]);
    expect(store.usage({ provider: "groq", keyId: "k_other" })).toEqual([delta({ keyId: "k_other" })]);
    expect(store.usage({ day: "2025-06-01", provider: "groq" }).map((row) => row.keyId)).toEqual(["k_1a2b3c", "k_other"]);
    expect(store.usage({})).toHaveLength(4);
  });

  test("does not keep a reference to the caller's object", () => {
    const store = open();
    const input = delta();
    store.addUsage(input);
    input.requests = 99;
    expect(store.usage({})[0]?.requests).toBe(1);
  });

  test("rejects counters that would poison the batch", () => {
    const store = open();
    expect(() => store.addUsage(delta({ promptTokens: Number.NaN }))).toThrow(TypeError);
    expect(() => store.addUsage(delta({ requests: -1 }))).toThrow(TypeError);
    expect(() => store.addUsage(delta({ completionTokens: 1.5 }))).toThrow(TypeError);
    store.flush();
    expect(store.usage({})).toEqual([]);
  });

  test("the flush timer writes pending changes without an explicit flush", async () => {
    const store = open({ flushIntervalMs: 20 });
    store.addUsage(delta());
    store.saveKeyState(state());
    await Bun.sleep(150);
    expect(readDisk<{ requests: number }>("SELECT requests FROM usage")).toEqual([{ requests: 1 }]);
    expect(readDisk<{ key_id: string }>("SELECT key_id FROM key_state")).toEqual([{ key_id: "k_1a2b3c" }]);
  });
});

describe("key state", () => {
  test("last write wins per provider, key and model", () => {
    const store = open();
    store.saveKeyState(state({ strikes: 1 }));
    store.saveKeyState(state({ strikes: 2, reason: "quota" }));
    store.saveKeyState(state({ model: "llama-3.3-70b", until: 5 }));
    expect(sortStates(store.loadKeyState())).toEqual([state({ strikes: 2, reason: "quota" }), state({ model: "llama-3.3-70b", until: 5 })]);
    store.flush();
    store.saveKeyState(state({ strikes: 3 }));
    store.flush();
    expect(sortStates(store.loadKeyState())).toEqual([state({ strikes: 3 }), state({ model: "llama-3.3-70b", until: 5 })]);
  });

  test("clearKeyState removes only the named row, pending or persisted", () => {
    const store = open();
    store.saveKeyState(state());
    store.saveKeyState(state({ model: "llama-3.3-70b" }));
    store.flush();
    store.clearKeyState("groq", "k_1a2b3c", "");
    expect(store.loadKeyState()).toEqual([state({ model: "llama-3.3-70b" })]);
    store.flush();
    expect(store.loadKeyState()).toEqual([state({ model: "llama-3.3-70b" })]);

    store.saveKeyState(state({ keyId: "k_new" }));
    store.clearKeyState("groq", "k_new", "");
    store.flush();
    expect(store.loadKeyState()).toEqual([state({ model: "llama-3.3-70b" })]);
  });

  test("clearAllKeyState(provider) clears that provider, persisted and pending, and nothing else", () => {
    const store = open();
    store.saveKeyState(state());
    store.saveKeyState(state({ provider: "cerebras" }));
    store.flush();
    store.saveKeyState(state({ keyId: "k_pending" }));
    store.clearAllKeyState("groq");
    expect(store.loadKeyState()).toEqual([state({ provider: "cerebras" })]);

    store.saveKeyState(state({ keyId: "k_after" }));
    store.flush();
    expect(sortStates(store.loadKeyState())).toEqual([state({ provider: "cerebras" }), state({ keyId: "k_after" })]);
  });

  test("clearAllKeyState() clears every provider but keeps later saves", () => {
    const store = open();
    store.saveKeyState(state());
    store.saveKeyState(state({ provider: "cerebras" }));
    store.flush();
    store.clearAllKeyState();
    store.saveKeyState(state({ provider: "mistral" }));
    expect(store.loadKeyState()).toEqual([state({ provider: "mistral" })]);
    store.flush();
    expect(store.loadKeyState()).toEqual([state({ provider: "mistral" })]);
  });

  test("a permanently disabled key (until = Infinity) survives the round trip", () => {
    const store = open();
    store.saveKeyState(state({ until: Number.POSITIVE_INFINITY, reason: "invalid_key" }));
    store.flush();
    expect(store.loadKeyState()).toEqual([state({ until: Number.POSITIVE_INFINITY, reason: "invalid_key" })]);
  });

  test("rejects a NaN deadline", () => {
    expect(() => open().saveKeyState(state({ until: Number.NaN }))).toThrow(TypeError);
  });
});

describe("lifecycle", () => {
  test("close flushes, and a reopened store keeps usage, key state and meta", () => {
    const first = open({ flushIntervalMs: 60_000 });
    first.addUsage(delta());
    first.saveKeyState(state());
    first.setMeta("instance", "abc");
    closeStore(first);

    const second = open();
    expect(second.usage({})).toEqual([delta()]);
    expect(second.loadKeyState()).toEqual([state()]);
    expect(second.getMeta("instance")).toBe("abc");
    second.addUsage(delta());
    closeStore(second);

    expect(open().usage({})[0]?.requests).toBe(2);
  });

  test("meta is written immediately and overwritten by name", () => {
    const store = open();
    expect(store.getMeta("missing")).toBeUndefined();
    store.setMeta("a", "1");
    store.setMeta("a", "2");
    expect(readDisk<{ name: string; value: string }>("SELECT name, value FROM meta")).toEqual([{ name: "a", value: "2" }]);
  });

  test("creates a missing data dir and honours fileName", () => {
    const nested = join(dataDir, "x", "y");
    const store = openSqliteStore({ dataDir: nested, fileName: "other.db" });
    store.addUsage(delta());
    store.close();
    const db = new Database(join(nested, "other.db"), { readonly: true });
    expect(db.query("SELECT count(*) AS n FROM usage").get()).toEqual({ n: 1 });
    db.close();
  });

  test("writes after close throw instead of vanishing; close is idempotent", () => {
    const store = open();
    closeStore(store);
    expect(() => store.addUsage(delta())).toThrow(/closed/);
    expect(() => store.saveKeyState(state())).toThrow(/closed/);
    expect(() => store.close()).not.toThrow();
  });

  test("the flush timer does not keep the process alive", async () => {
    const script = `
      const { openSqliteStore } = await import(${JSON.stringify(STORE_MODULE)});
      const store = openSqliteStore({ dataDir: ${JSON.stringify(dataDir)}, flushIntervalMs: 60000 });
      store.addUsage(${JSON.stringify(delta())});
    `;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    // A child held open by the timer gets killed, which makes the exit code non-zero.
    const deadline = setTimeout(() => child.kill(), 4_000);
    const exitCode = await child.exited;
    clearTimeout(deadline);
    expect(await new Response(child.stderr).text()).toBe("");
    expect(exitCode).toBe(0);
  }, 15_000);
});

describe("schema", () => {
  test("is migrated in WAL mode and records its version", () => {
    open();
    expect(STORE_SCHEMA_VERSION).toBeGreaterThanOrEqual(1);
    expect(readDisk("PRAGMA user_version")).toEqual([{ user_version: STORE_SCHEMA_VERSION }]);
    expect(readDisk("PRAGMA journal_mode")).toEqual([{ journal_mode: "wal" }]);
  });

  test("reopening an up-to-date database applies nothing twice", () => {
    closeStore(open());
    expect(() => closeStore(open())).not.toThrow();
    expect(readDisk("PRAGMA user_version")).toEqual([{ user_version: STORE_SCHEMA_VERSION }]);
  });

  test("a database from a newer release is refused with a clear error", () => {
    const db = new Database(join(dataDir, "usage.db"), { create: true });
    db.run(`PRAGMA user_version = ${STORE_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => open()).toThrow(/schema version .* newer than/);
  });

  test("has no column that could hold a key secret", () => {
    open();
    const columns = (table: string) => readDisk<{ name: string }>(`PRAGMA table_info(${table})`).map((column) => column.name);
    const tables = readDisk<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map((t) => t.name);

    expect(tables).toEqual(["key_state", "meta", "usage"]);
    expect(columns("usage")).toEqual([
      "day",
      "provider",
      "key_id",
      "model",
      "requests",
      "successes",
      "failures",
      "prompt_tokens",
      "completion_tokens",
      "cached_tokens",
      "reasoning_tokens",
    ]);
    expect(columns("key_state")).toEqual(["provider", "key_id", "model", "until_ms", "strikes", "reason", "pinned"]);
    // meta is generic name/value storage for the proxy's own settings, never keys.
    expect(columns("meta")).toEqual(["name", "value"]);
  });
});
