/**
 * Declared limits in key selection, with a hand-moved clock: a key at its limit is passed over
 * like a cooling key and shows the time it frees; with every key at its limit a request waits
 * when that time is inside its deadline and is told when it frees otherwise; a provider-wide limit
 * holds every key; a shared count (cluster mode) that refuses sends the request elsewhere.
 */

import { describe, expect, test } from "bun:test";
import { createKeyPool, type PoolKey, type SharedLimits } from "../../../src/engine/key-pool.ts";
import type { ModelLimits, SharedLimitWindow } from "../../../src/engine/declared-limits.ts";

const keys = (count: number): PoolKey[] => Array.from({ length: count }, (_, i) => ({ secret: `sk-secret-${i}`, id: `id${i}`, masked: `…${i}`, baseUrl: "http://127.0.0.1:9/v1", options: {} }));
const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);

function poolWith(limits: ModelLimits, count = 2, sharedLimits?: SharedLimits) {
  const clock = { now: T0 };
  const pool = createKeyPool({ provider: "p", keys: keys(count), limits: (model) => (model === "m" ? limits : undefined), nextReset: () => T0 + 15 * 3_600_000, sharedLimits, now: () => clock.now });
  const take = async (deadline = clock.now + 1_000) => {
    const got = await pool.acquire("m", { exclude: new Set(), deadline });
    if (got.kind === "lease") got.lease.release();
    return got;
  };
  return { pool, clock, take };
}

describe("a key at its declared limit", () => {
  test("is passed over for the next key, and shows as cooling with the time it frees", async () => {
    const { pool, take } = poolWith({ perKey: { requestsPerMinute: 1 }, source: "RATE_LIMIT_P" });
    const served = [];
    for (let i = 0; i < 2; i++) {
      const got = await take();
      served.push(got.kind === "lease" ? got.lease.slot : got.kind);
    }
    expect(served).toEqual([0, 1]);
    const third = await take();
    expect(third).toEqual({ kind: "cooling", retryAt: T0 + 60_000, limit: "1 requests per minute per key (RATE_LIMIT_P)" });
    const standing = pool.standing();
    expect(standing.cooling).toBe(2);
    expect(standing.keys[0]!.coolingModels).toEqual([{ model: "m", until: T0 + 60_000, reason: "at its declared limit: 1 requests per minute per key (RATE_LIMIT_P)", strikes: 0 }]);
    expect(pool.passedOver("m").map((entry) => entry.why)).toEqual(["cooling", "cooling"]);
  });

  test("another model of the same key is not held", async () => {
    const { pool, take } = poolWith({ perKey: { requestsPerMinute: 1 }, source: "R" }, 1);
    await take();
    expect((await take()).kind).toBe("cooling");
    const other = await pool.acquire("other", { exclude: new Set(), deadline: T0 + 1_000 });
    expect(other.kind).toBe("lease");
  });

  test("with every key at its limit, a request whose deadline reaches the time it frees waits for it", async () => {
    const clock = { now: T0 };
    const pool = createKeyPool({ provider: "p", keys: keys(1), limits: () => ({ perKey: { requestsPerMinute: 1 }, source: "R" }), nextReset: () => T0 + 86_400_000, now: () => clock.now });
    const first = await pool.acquire("m", { exclude: new Set(), deadline: T0 + 1 });
    if (first.kind === "lease") first.lease.release();
    // 10 ms before the minute ends; the minute passes while the request waits.
    clock.now = T0 + 59_990;
    setTimeout(() => (clock.now = T0 + 60_000), 5);
    const waited = await pool.acquire("m", { exclude: new Set(), deadline: T0 + 120_000 });
    expect(waited.kind).toBe("lease");
  });

  test("a provider-wide limit holds every key, whichever served", async () => {
    const { take } = poolWith({ perProvider: { requestsPerMinute: 2 }, source: "RATE_LIMIT_P_ORG" }, 5);
    expect((await take()).kind).toBe("lease");
    expect((await take()).kind).toBe("lease");
    expect(await take()).toEqual({ kind: "cooling", retryAt: T0 + 60_000, limit: "2 requests per minute per provider (RATE_LIMIT_P_ORG)" });
  });

  test("the lease carries its charge and settles it once, with the tokens its answer used", async () => {
    const { pool, clock } = poolWith({ perKey: { tokensPerMinute: 100 }, source: "R" }, 1);
    const first = await pool.acquire("m", { exclude: new Set(), deadline: T0 + 1 });
    if (first.kind !== "lease") throw new Error(first.kind);
    pool.settleLimit(first.lease, 150);
    pool.settleLimit(first.lease, 150);
    first.lease.release();
    clock.now += 1_000;
    const second = await pool.acquire("m", { exclude: new Set(), deadline: clock.now + 1 });
    expect(second).toEqual({ kind: "cooling", retryAt: T0 + 60_000, limit: "100 tokens per minute per key (R)" });
  });
});

test("a lease released without a served answer gives its reserved tokens back", async () => {
  const { pool } = poolWith({ perKey: { tokensPerMinute: 130 }, source: "R" }, 1);
  const lease = async () => {
    const got = await pool.acquire("m", { exclude: new Set(), deadline: T0 + 1 });
    if (got.kind !== "lease") throw new Error(got.kind);
    return got.lease;
  };
  const served = await lease();
  pool.settleLimit(served, 60);
  served.release();
  // 60 counted, 60 reserved by this one: a third would make 180 of 130.
  const failed = await lease();
  expect((await pool.acquire("m", { exclude: new Set([0]), deadline: T0 + 1 })).kind).not.toBe("lease");
  expect(pool.limitUse().keys.get(0)).toEqual([{ model: "m", unit: "tokensPerMinute", used: 120, limit: 130 }]);
  failed.release();
  expect(pool.limitUse().keys.get(0)).toEqual([{ model: "m", unit: "tokensPerMinute", used: 60, limit: 130 }]);
  (await lease()).release();
});

describe("a shared count (cluster mode)", () => {
  test("asked for every lease with the charge's windows; a refusal holds that key until it frees and takes the next", async () => {
    const asked: SharedLimitWindow[][] = [];
    const shared: SharedLimits = {
      charge: async (windows) => {
        asked.push([...windows]);
        return asked.length === 1 ? { window: 0, freesAt: T0 + 30_000 } : undefined;
      },
      adjustTokens: () => {},
    };
    const { pool, take } = poolWith({ perKey: { requestsPerMinute: 10 }, source: "R" }, 2, shared);
    const got = await take();
    expect(got.kind === "lease" && got.lease.slot).toBe(1);
    expect(asked.map((windows) => windows[0]!.name)).toEqual(["p\u0000id0\u0000m\u0000requestsPerMinute", "p\u0000id1\u0000m\u0000requestsPerMinute"]);
    expect(pool.standing().keys[0]!.coolingModels[0]).toMatchObject({ until: T0 + 30_000, reason: "at its declared limit: a per-key limit, counted across the cluster" });
  });

  test("a provider-wide window full across the cluster holds every key at once, with one question, not one per key", async () => {
    let asked = 0;
    const shared: SharedLimits = { charge: async () => (asked++, { window: 1, freesAt: T0 + 20_000 }), adjustTokens: () => {} };
    const { take } = poolWith({ perKey: { requestsPerMinute: 10 }, perProvider: { requestsPerMinute: 100 }, source: "R" }, 50, shared);
    expect(await take()).toEqual({ kind: "cooling", retryAt: T0 + 20_000, limit: "a per-provider limit, counted across the cluster" });
    expect(asked).toBe(1);
  });

  test("a model with no declared limit never asks it", async () => {
    let asked = 0;
    const { pool } = poolWith({ perKey: { requestsPerMinute: 10 }, source: "R" }, 2, { charge: async () => (asked++, undefined), adjustTokens: () => {} });
    const got = await pool.acquire("other", { exclude: new Set(), deadline: T0 + 1 });
    expect(got.kind).toBe("lease");
    expect(asked).toBe(0);
  });
});
