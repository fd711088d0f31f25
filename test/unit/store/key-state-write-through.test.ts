/**
 * Key-state changes reach disk at once (a crash right after a key is disabled must not put it back
 * in service), while usage stays batched until the flush interval.
 */

import { afterEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../../src/store/sqlite.ts";
import type { LocalStore } from "../../../src/store/types.ts";

const dataDir = mkdtempSync(join(tmpdir(), "lkp-key-state-"));
let store: LocalStore | undefined;
afterEach(() => {
  store?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** What another connection sees: the state a restart after `kill -9` would load. */
function onDisk(sql: string): unknown[] {
  const db = new Database(join(dataDir, "usage.db"), { readonly: true });
  try {
    return db.query(sql).all();
  } finally {
    db.close();
  }
}

test("saveKeyState and clearKeyState are on disk before the flush interval", () => {
  store = openSqliteStore({ dataDir, flushIntervalMs: 60_000 });
  store.addUsage({ day: "2026-12-01", provider: "groq", keyId: "k_1", model: "m", requests: 1, successes: 0, failures: 1, promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 });
  store.saveKeyState({ provider: "groq", keyId: "k_1", model: "", until: 1_900_000_000_000, strikes: 3, reason: "invalid_key", pinned: true });
  expect(onDisk("SELECT key_id, strikes, reason, pinned FROM key_state")).toEqual([{ key_id: "k_1", strikes: 3, reason: "invalid_key", pinned: 1 }]);
  store.clearKeyState("groq", "k_1", "");
  expect(onDisk("SELECT key_id FROM key_state")).toEqual([]);
});

test("usage alone stays batched", () => {
  store = openSqliteStore({ dataDir, flushIntervalMs: 60_000 });
  store.addUsage({ day: "2026-12-01", provider: "groq", keyId: "k_1", model: "m", requests: 1, successes: 1, failures: 0, promptTokens: 5, completionTokens: 1, cachedTokens: 0, reasoningTokens: 0 });
  expect(onDisk("SELECT requests FROM usage")).toEqual([]);
});
