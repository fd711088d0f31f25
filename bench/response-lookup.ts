#!/usr/bin/env bun
/**
 * The stored-response lookup alone, in process: `get(id)` per second on the SQLite response store
 * (src/store/sqlite-responses.ts) holding 1,000 and 20,000 responses (or the sizes given), the
 * recorded test/fixtures/openai-responses/text.json under distinct ids, random ids all present.
 * Each store is filled with one `put` per response, as the route does; then the stores are timed
 * in alternating 100 ms rounds (A B, B A, …) and the median rate of each is reported, so a noisy
 * moment of the machine hits both. A lookup that is O(1) in the number stored (the primary key's
 * B-tree: O(log n), a few pages) keeps the rates close. A 20,000-response store is about 35 MB,
 * past SQLite's default page cache (2 MB), so its random gets read pages through the OS cache.
 *
 * Used by run.ts (row 9h); alone: bun bench/response-lookup.ts [sizes…]
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { median } from "./clients.ts";
import { tempDir } from "./processes.ts";
import type { ResponseStore } from "../src/store/response-store.ts";

export interface LookupRate {
  stored: number;
  /** Median over the rounds. */
  getsPerSecond: number;
  /** Time to insert the rows, s. */
  fillSeconds: number;
}

const FIXTURE = join(import.meta.dir, "..", "test", "fixtures", "openai-responses", "text.json");
const ROUND_MS = 100;

async function filledStore(stored: number): Promise<{ store: ResponseStore; fillSeconds: number }> {
  const { openSqliteResponseStore } = await import("../src/store/sqlite-responses.ts");
  const response = JSON.parse(readFileSync(FIXTURE, "utf8")) as Record<string, unknown>;
  const inputItems = [{ id: "msg_bench", type: "message", role: "user", content: [{ type: "input_text", text: "Say hello in one short sentence." }] }];
  const store = openSqliteResponseStore({ dataDir: tempDir("response-lookup"), ttlMs: 24 * 3600 * 1000, maxBytes: 1024 ** 4 });
  const started = performance.now();
  const now = Date.now();
  for (let i = 0; i < stored; i++) {
    await store.put({ id: `resp_bench_${i}`, createdAt: now + i, previousId: null, response: { ...response, id: `resp_bench_${i}` }, inputItems });
  }
  return { store, fillSeconds: (performance.now() - started) / 1000 };
}

/** Gets of random present ids for ROUND_MS; the rate. */
async function round(store: ResponseStore, stored: number, seed: { x: number }): Promise<number> {
  let gets = 0;
  const started = performance.now();
  const deadline = started + ROUND_MS;
  while (performance.now() < deadline) {
    for (let i = 0; i < 50; i++) {
      // xorshift32: the same pseudo-random order for every size.
      seed.x ^= seed.x << 13;
      seed.x ^= seed.x >>> 17;
      seed.x ^= seed.x << 5;
      if ((await store.get(`resp_bench_${(seed.x >>> 0) % stored}`)) === undefined) throw new Error("a stored response was not found");
    }
    gets += 50;
  }
  return gets / ((performance.now() - started) / 1000);
}

/** One rate per store size; `rounds` alternating rounds each after one warm-up round. */
export async function measureLookup(sizes: readonly number[], rounds = 20): Promise<LookupRate[]> {
  const stores = [];
  for (const stored of sizes) stores.push({ stored, ...(await filledStore(stored)), seed: { x: 2463534242 }, rates: [] as number[] });
  try {
    for (const s of stores) await round(s.store, s.stored, s.seed);
    for (let r = 0; r < rounds; r++) {
      for (const s of r % 2 === 0 ? stores : [...stores].reverse()) s.rates.push(await round(s.store, s.stored, s.seed));
    }
    return stores.map((s) => ({ stored: s.stored, getsPerSecond: median(s.rates), fillSeconds: s.fillSeconds }));
  } finally {
    for (const s of stores) s.store.close();
  }
}

if (import.meta.main) {
  const sizes = process.argv.slice(2).map(Number);
  const rates = await measureLookup(sizes.length > 0 ? sizes : [1_000, 20_000]);
  for (const r of rates) {
    console.log(`${r.stored.toLocaleString("en")} stored: ${Math.round(r.getsPerSecond).toLocaleString("en")} gets/s (median of 100 ms rounds; filled in ${r.fillSeconds.toFixed(1)} s)`);
  }
  const { removeTempDirs } = await import("./processes.ts");
  removeTempDirs();
}
