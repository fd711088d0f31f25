/**
 * Key selection cost against the number of keys: acquire + release of a lease, round-robin over
 * 20 models, for 1, 100 and 10,000 keys, in-process (no HTTP). Prints a markdown table. Run:
 * `npm run bench:keys`; run.ts folds the 1 vs 10,000 figures into its table as row 4b.
 */

import { createKeyPool } from "../src/engine/key-pool.ts";

const MODELS = Array.from({ length: 20 }, (_, i) => `model-${i}`);
const ROUNDS = 200_000;

/** Per-key limits on every model, high enough that no key is ever held: what counting costs, not waiting. */
const UNREACHED_LIMITS = { perKey: { requestsPerMinute: 1_000_000, tokensPerMinute: 1_000_000_000, requestsPerDay: 1_000_000_000 }, source: "bench" };

/**
 * Acquire+release pairs per second with `keyCount` keys, after a warm-up. `limits`: every model has
 * declared limits (RATE_LIMIT_<P>), so each lease is checked against them, charged, and settled
 * with its tokens as a served answer is.
 */
export async function opsPerSecond(keyCount: number, rounds = ROUNDS, limits = false): Promise<number> {
  const keys = Array.from({ length: keyCount }, (_, i) => ({ secret: `sk-${i}`, id: `id${i}`, masked: `…${i}`, baseUrl: "http://127.0.0.1:9/v1", options: {} }));
  const pool = createKeyPool({ provider: "bench", keys, ...(limits ? { limits: () => UNREACHED_LIMITS, nextReset: (now: number) => now + 86_400_000 } : {}) });
  const none = new Set<number>();
  const deadline = Date.now() + 3_600_000;
  const once = async (i: number) => {
    const result = await pool.acquire(MODELS[i % MODELS.length]!, { exclude: none, deadline });
    if (result.kind !== "lease") throw new Error(result.kind);
    if (limits) pool.settleLimit(result.lease, 150);
    result.lease.release();
  };
  for (let i = 0; i < 20_000; i++) await once(i);
  const started = performance.now();
  for (let i = 0; i < rounds; i++) await once(i);
  return rounds / ((performance.now() - started) / 1000);
}

if (import.meta.main) {
  const rows: string[] = ["| keys | models | declared limits | acquire+release per second | vs 1 key without | µs per lease |", "|---:|---:|---|---:|---:|---:|"];
  let base = 0;
  for (const limits of [false, true]) {
    for (const count of [1, 100, 10_000]) {
      const heapBefore = process.memoryUsage().heapUsed;
      const rate = await opsPerSecond(count, ROUNDS, limits);
      base ||= rate;
      const grown = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
      rows.push(`| ${count.toLocaleString("en")} | ${MODELS.length} | ${limits ? "rpm, tpm, rpd per key" : "none"} | ${Math.round(rate).toLocaleString("en")} | ${((rate / base) * 100).toFixed(0)}% | ${(1e6 / rate).toFixed(2)} |`);
      if (limits) console.error(`heap after ${count} keys with limits: +${grown.toFixed(0)} MB`);
    }
  }
  console.log(rows.join("\n"));
}
