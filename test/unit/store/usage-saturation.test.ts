/**
 * Usage counters saturate at 2^53 - 1 instead of growing past exact integers: a row near the top
 * keeps accepting deltas, in the buffer and across flushes, and reads back as the ceiling.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../../src/store/sqlite.ts";
import type { UsageDelta } from "../../../src/store/types.ts";

const dataDir = mkdtempSync(join(tmpdir(), "lkp-saturation-"));
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const delta = (promptTokens: number): UsageDelta => ({
  day: "2026-12-01",
  provider: "gemini",
  keyId: "k1",
  model: "m",
  requests: 1,
  successes: 1,
  failures: 0,
  promptTokens,
  completionTokens: 0,
  cachedTokens: 0,
  reasoningTokens: 0,
});

test("prompt tokens near 2^53 saturate in the buffer and in the table", () => {
  const store = openSqliteStore({ dataDir, flushIntervalMs: 60_000 });
  const near = Number.MAX_SAFE_INTEGER - 5;
  store.addUsage(delta(near));
  store.addUsage(delta(near));
  expect(store.usage({})[0]!.promptTokens).toBe(Number.MAX_SAFE_INTEGER);
  store.flush();
  store.addUsage(delta(near));
  store.flush();
  store.addUsage(delta(10));
  expect(store.usage({})[0]).toMatchObject({ requests: 4, promptTokens: Number.MAX_SAFE_INTEGER });
  store.close();
});
