/**
 * The attempt loop with scripted attempt outcomes: what each failure class does to the key and
 * to the request, same-key retry of transient failures, provider incidents, deadlines, and the
 * honest final error.
 */

import { describe, expect, test } from "bun:test";
import { createIncidentTracker } from "../../../src/engine/incidents.ts";
import { createKeyPool, type PoolKey } from "../../../src/engine/key-pool.ts";
import { createRotator, type AttemptResult } from "../../../src/engine/rotate.ts";
import type { Failure, FailureClass } from "../../../src/engine/types.ts";
import type { UsageDelta } from "../../../src/store/types.ts";

const keys = (count: number): PoolKey[] =>
  Array.from({ length: count }, (_, i) => ({ secret: `sk-secret-${i}`, id: `id${i}`, masked: `…${i}` }));

const failure = (cls: FailureClass, status: number, extra: Partial<Failure> = {}): Failure => ({ class: cls, status, message: `${cls} happened`, ...extra });

/** Build a rotator over `count` keys whose attempts answer from `script[slot]` in order. */
function setup(count: number, script: Record<number, (Failure | "ok")[]>) {
  const usage: UsageDelta[] = [];
  const pool = createKeyPool({ provider: "p", keys: keys(count) });
  const rotator = createRotator({ usage: { addUsage: (d) => usage.push(d) }, incidents: createIncidentTracker(), resetMinuteUtc: 180, transientBackoffMs: () => 5 });
  const calls: number[] = [];
  const run = (deadlineMs = 5_000, signal = new AbortController().signal) =>
    rotator.run({
      pool,
      model: "m",
      deadline: Date.now() + deadlineMs,
      signal,
      attempt: async (lease): Promise<AttemptResult<string>> => {
        calls.push(lease.slot);
        const next = script[lease.slot]?.shift() ?? "ok";
        return next === "ok" ? { ok: true, value: `served by ${lease.slot}` } : { ok: false, failure: next };
      },
    });
  return { pool, rotator, run, calls, usage };
}

describe("rotation", () => {
  test("a request fault is answered as-is after one attempt, blaming no key", async () => {
    const { run, calls, pool } = setup(3, { 0: [failure("request", 400, { code: "bad_param", param: "temperature" })] });
    const result = await run();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ status: 400, code: "bad_param", param: "temperature", message: "request happened" });
    expect(calls).toEqual([0]);
    expect(pool.standing()).toMatchObject({ healthy: 3, cooling: 0, disabled: 0 });
  });

  test("a transient failure retries the same key once, then rotates", async () => {
    const { run, calls } = setup(2, { 0: [failure("transient", 503), failure("transient", 503)] });
    const result = await run();
    expect(result.ok && result.value).toBe("served by 1");
    expect(calls).toEqual([0, 0, 1]);
  });

  test("a rate limit cools (key, model) for the hint and rotates", async () => {
    const { run, calls, pool } = setup(2, { 0: [failure("rate_limit", 429, { retryAfterMs: 20_000 })] });
    const before = Date.now();
    const result = await run();
    expect(result.ok && result.value).toBe("served by 1");
    expect(calls).toEqual([0, 1]);
    const cooling = pool.standing().keys[0]!.coolingModels[0]!;
    expect(cooling.until).toBeGreaterThanOrEqual(before + 20_000);
    expect(cooling.until).toBeLessThan(before + 21_000);
  });

  test("without a hint the ladder escalates per (key, model)", async () => {
    const { run, pool } = setup(2, { 0: [failure("rate_limit", 429)] });
    await run();
    const first = pool.standing().keys[0]!.coolingModels[0]!;
    expect(first.strikes).toBe(1);
    expect(first.until - Date.now()).toBeGreaterThan(9_000);
    expect(first.until - Date.now()).toBeLessThanOrEqual(10_000);
  });

  test("billing and invalid keys are disabled for every model until the daily reset", async () => {
    const { run, pool } = setup(3, { 0: [failure("invalid_key", 401)], 1: [failure("billing", 429, { code: "insufficient_quota" })] });
    const result = await run();
    expect(result.ok && result.value).toBe("served by 2");
    const standing = pool.standing();
    expect(standing.disabled).toBe(2);
    expect(standing.keys[0]!.disabledReason).toContain("invalid");
    expect(standing.keys[1]!.disabledReason).toContain("billing");
    expect(standing.keys[0]!.disabledUntil).toBeGreaterThan(Date.now());
  });

  test("every key failing ends in 502 naming the last failure; rate limits end in 429 with Retry-After", async () => {
    const down = setup(2, { 0: [failure("invalid_key", 401)], 1: [failure("invalid_key", 401)] });
    const result = await down.run();
    expect(!result.ok && result.error.status).toBe(502);
    expect(!result.ok && result.error.message).toContain("invalid_key happened");
    const limited = setup(2, { 0: [failure("rate_limit", 429, { retryAfterMs: 30_000 })], 1: [failure("rate_limit", 429, { retryAfterMs: 40_000 })] });
    const limitedResult = await limited.run();
    expect(limitedResult.ok).toBe(false);
    if (limitedResult.ok) return;
    expect(limitedResult.error.status).toBe(429);
    expect(limitedResult.error.retryAfterSeconds).toBeGreaterThanOrEqual(29);
    expect(limitedResult.error.retryAfterSeconds).toBeLessThanOrEqual(30);
  });

  test("three keys failing transiently declare a provider incident", async () => {
    const { run } = setup(4, {
      0: [failure("transient", 503), failure("transient", 503)],
      1: [failure("transient", 503), failure("transient", 503)],
      2: [failure("transient", 503), failure("transient", 503)],
    });
    const result = await run(3_000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ status: 503, type: "provider_incident" });
    expect(result.error.retryAfterSeconds).toBeGreaterThan(0);
  });

  test("usage counts every attempt: requests = successes + failures", async () => {
    const { run, usage, rotator, pool } = setup(2, { 0: [failure("rate_limit", 429)] });
    const result = await run();
    expect(usage.map((u) => [u.keyId, u.requests, u.successes, u.failures])).toEqual([["id0", 1, 0, 1]]);
    if (!result.ok) throw new Error("expected a success");
    rotator.settle(pool, result.lease, { kind: "success", usage: { promptTokens: 7, completionTokens: 3, cachedTokens: 0, reasoningTokens: 0 } });
    expect(usage.at(-1)).toMatchObject({ keyId: "id1", requests: 1, successes: 1, failures: 0, promptTokens: 7, completionTokens: 3 });
    expect(pool.standing().keys.every((key) => key.inFlight === 0)).toBe(true);
  });

  test("the key's secret never reaches the error message", async () => {
    const { run } = setup(1, { 0: [failure("request", 400, { message: "bad key sk-secret-0 used" })] });
    const result = await run();
    expect(!result.ok && result.error.message).toBe("bad key …0 used");
  });
});
