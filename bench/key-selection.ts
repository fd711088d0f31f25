/**
 * Key selection cost against the number of keys: acquire + release of a lease, round-robin over
 * 20 models, for 1, 100 and 10,000 keys, in-process (no HTTP). Prints a markdown table. Run:
 * `npm run bench:keys`; run.ts folds the 1 vs 10,000 figures into its table as row 4b.
 */

import { createKeyPool } from "../src/engine/key-pool.ts";

const MODELS = Array.from({ length: 20 }, (_, i) => `model-${i}`);
const ROUNDS = 200_000;

/** Acquire+release pairs per second with `keyCount` keys, after a warm-up. */
export async function opsPerSecond(keyCount: number, rounds = ROUNDS): Promise<number> {
  const keys = Array.from({ length: keyCount }, (_, i) => ({ secret: `sk-${i}`, id: `id${i}`, masked: `…${i}`, baseUrl: "http://127.0.0.1:9/v1", options: {} }));
  const pool = createKeyPool({ provider: "bench", keys });
  const none = new Set<number>();
  const deadline = Date.now() + 3_600_000;
  const once = async (i: number) => {
    const result = await pool.acquire(MODELS[i % MODELS.length]!, { exclude: none, deadline });
    if (result.kind !== "lease") throw new Error(result.kind);
    result.lease.release();
  };
  for (let i = 0; i < 20_000; i++) await once(i);
  const started = performance.now();
  for (let i = 0; i < rounds; i++) await once(i);
  return rounds / ((performance.now() - started) / 1000);
}

if (import.meta.main) {
  const rows: string[] = ["| keys | models | acquire+release per second | vs 1 key |", "|---:|---:|---:|---:|"];
  let base = 0;
  for (const count of [1, 100, 10_000]) {
    const rate = await opsPerSecond(count);
    base ||= rate;
    rows.push(`| ${count.toLocaleString("en")} | ${MODELS.length} | ${Math.round(rate).toLocaleString("en")} | ${((rate / base) * 100).toFixed(0)}% |`);
  }
  console.log(rows.join("\n"));
}
