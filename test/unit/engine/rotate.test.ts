/**
 * The attempt loop with scripted attempt outcomes: what each failure class does to the key and
 * to the request, rotation and same-key retry of transient failures, the per-key circuit breaker,
 * each attempt's share of the deadline, provider incidents, deadlines, and the honest final error.
 */

import { describe, expect, test } from "bun:test";
import { createIncidentTracker } from "../../../src/engine/incidents.ts";
import { createKeyPool, type PoolKey } from "../../../src/engine/key-pool.ts";
import { createRotator, type RotationResult } from "../../../src/engine/rotate.ts";
import { rotationFailureError } from "../../../src/errors/rotation-failure-error.ts";
import type { AttemptResult, Failure, FailureClass } from "../../../src/outcome.ts";
import type { UsageDelta } from "../../../src/store/types.ts";

const keys = (count: number): PoolKey[] =>
  Array.from({ length: count }, (_, i) => ({ secret: `sk-secret-${i}`, id: `id${i}`, masked: `…${i}`, baseUrl: "http://127.0.0.1:9/v1", options: {} }));

const failure = (cls: FailureClass, status: number, extra: Partial<Failure> = {}): Failure => ({ class: cls, status, message: `${cls} happened`, ...extra });

/**
 * The daily reset twelve hours from now: a key disabled "until the reset" must not come back
 * within a test's deadline because the test happens to run just before the default 03:00 UTC.
 */
const FAR_RESET_MINUTE = (new Date().getUTCHours() * 60 + new Date().getUTCMinutes() + 12 * 60) % (24 * 60);

/** A failed run with its failure in the words a client gets (the same wording every face uses). */
function worded<T>(result: RotationResult<T>) {
  return result.ok ? result : { ...result, error: rotationFailureError(result.failure) };
}

/** Build a rotator over `count` keys whose attempts answer from `script[slot]` in order. */
function setup(count: number, script: Record<number, (Failure | "ok")[]>) {
  const usage: UsageDelta[] = [];
  const pool = createKeyPool({ provider: "p", keys: keys(count) });
  const rotator = createRotator({ usage: { addUsage: (d) => usage.push(d) }, incidents: createIncidentTracker(), resetMinuteUtc: FAR_RESET_MINUTE, transientBackoffMs: () => 5 });
  const calls: number[] = [];
  const run = async (deadlineMs = 5_000, signal = new AbortController().signal) =>
    worded(
      await rotator.run({
        pool,
        model: "m",
        deadline: Date.now() + deadlineMs,
        signal,
        attempt: async (lease): Promise<AttemptResult<string>> => {
          calls.push(lease.slot);
          const next = script[lease.slot]?.shift() ?? "ok";
          return next === "ok" ? { ok: true, value: `served by ${lease.slot}` } : { ok: false, failure: next };
        },
      }),
    );
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

  test("a transient failure rotates at once while another key is ready", async () => {
    const { run, calls } = setup(2, { 0: [failure("transient", 503)] });
    const result = await run();
    expect(result.ok && result.value).toBe("served by 1");
    expect(calls).toEqual([0, 1]);
    expect(result.trace.map((step) => step.action)).toEqual(["rotating", undefined]);
  });

  test("with no other key ready, a transient failure retries the same key once", async () => {
    const { run, calls } = setup(1, { 0: [failure("transient", 503)] });
    const result = await run();
    expect(result.ok && result.value).toBe("served by 0");
    expect(calls).toEqual([0, 0]);
    expect(result.trace[0]!.action).toBe("retrying the same key, no other is ready");
  });

  test("a timeout is never retried on the same key, even when it is the only one", async () => {
    const { run, calls } = setup(1, { 0: [failure("transient", 0, { code: "upstream_timeout" })] });
    const result = await run();
    expect(result.ok).toBe(false);
    expect(calls).toEqual([0]);
    expect(!result.ok && result.error).toMatchObject({ status: 502, code: "all_keys_failed" });
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
    const down = setup(2, { 0: [failure("transient", 500)], 1: [failure("transient", 502), failure("transient", 502)] });
    const result = await down.run();
    expect(!result.ok && result.error).toMatchObject({ status: 502, code: "all_keys_failed" });
    expect(!result.ok && result.error.message).toContain("transient happened");
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
  test("every key disabled gets the same 503 on the request that disabled the last one as on the next", async () => {
    const { run } = setup(2, { 0: [failure("invalid_key", 401)], 1: [failure("invalid_key", 401)] });
    const first = await run();
    const second = await run();
    for (const result of [first, second]) {
      expect(!result.ok && result.error).toMatchObject({ status: 503, code: "all_keys_disabled" });
      expect(!result.ok && result.error.retryAfterSeconds).toBeGreaterThan(0);
    }
    expect(!first.ok && first.error.message).toContain("2 attempt(s) failed first");
  });
});

/** A rotator and pool on a clock the test moves, with attempts answering per slot by a rule. */
function circuitRig(count: number, answer: (slot: number, signal: AbortSignal) => Failure | "ok" | Promise<Failure | "ok">, options: { attemptShare?: number } = {}) {
  let now = 1_000_000;
  const clock = () => now;
  const pool = createKeyPool({ provider: "p", keys: keys(count), now: clock });
  const incidents = createIncidentTracker({ now: clock });
  const rotator = createRotator({ usage: { addUsage: () => {} }, incidents, resetMinuteUtc: 180, transientBackoffMs: () => 5, now: clock, ...options });
  let calls = 0;
  const run = async (deadlineMs = 30_000) => {
    const result = await rotator.run({
      pool,
      model: "m",
      deadline: clock() + deadlineMs,
      signal: new AbortController().signal,
      attempt: async (lease, controller): Promise<AttemptResult<number>> => {
        calls += 1;
        const next = await answer(lease.slot, controller.signal);
        return next === "ok" ? { ok: true, value: lease.slot } : { ok: false, failure: next };
      },
    });
    if (result.ok) rotator.settle(pool, result.lease, { kind: "success" });
    return worded(result);
  };
  return {
    pool,
    incidents,
    run,
    advance: (ms: number) => (now += ms),
    takeCalls: () => {
      const made = calls;
      calls = 0;
      return made;
    },
  };
}

describe("circuit breaker per (key, model)", () => {
  test("two failing keys and one healthy: after the first requests, one upstream call per request and every request served", async () => {
    const rig = circuitRig(3, (slot) => (slot === 2 ? "ok" : failure("transient", 503)));
    let served = 0;
    let calls = 0;
    for (let i = 0; i < 200; i++) {
      const result = await rig.run();
      if (result.ok) served += 1;
      const made = rig.takeCalls();
      if (i >= 3) calls += made;
      rig.advance(100); // 20 s in all: the failing keys come back half-open and fail their trials
    }
    expect(served).toBe(200);
    expect(calls / 197).toBeLessThan(1.1);
    const failing = rig.pool.standing().keys.slice(0, 2);
    for (const key of failing) expect(key.circuits).toEqual([expect.objectContaining({ model: "m", failures: expect.any(Number) })]);
    expect(rig.pool.standing()).toMatchObject({ healthy: 1, failing: 2 });
  });

  test("the backoff rises while trials fail, and one success closes the circuit", async () => {
    let broken = true;
    const rig = circuitRig(2, (slot) => (slot === 0 && broken ? failure("transient", 503) : "ok"));
    await rig.run(); // key 0 fails once, key 1 serves
    await rig.run(); // key 0 is the least recently used again: its second failure opens the circuit
    const opened = rig.pool.standing().keys[0]!.circuits[0]!;
    expect(opened.state).toBe("open");
    expect(opened.until - 1_000_000).toBeGreaterThanOrEqual(3_000);
    // Due back: the next request to meet it is its trial; it fails and stays out longer.
    rig.advance(opened.until - 1_000_000 + 1);
    const trial = await rig.run();
    expect(trial.trace.map((step) => [step.masked, step.action])).toEqual([
      ["…0", expect.stringMatching(/^circuit open until/)],
      ["…1", undefined],
    ]);
    const reopened = rig.pool.standing().keys[0]!.circuits[0]!;
    expect(reopened.until - (opened.until + 1)).toBeGreaterThanOrEqual(10_000);
    expect(reopened.reason).toContain("trial failed");
    broken = false;
    rig.advance(10_001);
    const healed = await rig.run();
    expect(healed.ok && healed.value).toBe(0);
    expect(healed.trace.at(-1)!.action).toBe("circuit closed");
    expect(rig.pool.standing().keys[0]!.circuits).toEqual([]);
  });

  test("a half-open key has one trial at a time; other requests use the healthy key meanwhile", async () => {
    let release: () => void = () => {};
    const slow = new Promise<Failure>((resolve) => (release = () => resolve(failure("transient", 503))));
    let calls0 = 0;
    const rig = circuitRig(2, (slot) => {
      if (slot === 1) return "ok";
      calls0 += 1;
      return calls0 <= 2 ? failure("transient", 503) : slow;
    });
    await rig.run();
    await rig.run();
    await rig.run();
    expect(rig.pool.standing().keys[0]!.circuits[0]!.state).toBe("open");
    rig.advance(3_001);
    const trial = rig.run();
    await Bun.sleep(1);
    const others = await Promise.all([rig.run(), rig.run(), rig.run()]);
    expect(others.map((result) => result.ok && result.value)).toEqual([1, 1, 1]);
    expect(calls0).toBe(3);
    release();
    const afterTrial = await trial;
    expect(afterTrial.ok && afterTrial.value).toBe(1);
  });

  test("an open circuit is a last resort, not a ban: a single flaky key keeps serving", async () => {
    let n = 0;
    const rig = circuitRig(1, () => (++n % 3 === 0 ? "ok" : failure("transient", 503)));
    const first = await rig.run(); // fail, same-key retry fails: the circuit opens
    expect(first.ok).toBe(false);
    expect(rig.pool.standing().keys[0]!.circuits[0]!.state).toBe("open");
    const second = await rig.run(); // the open key is still tried, once
    expect(second.ok && second.value).toBe(0);
    expect(rig.pool.standing().keys[0]!.circuits).toEqual([]);
  });

  test("a request tries at most one open key: every key failing does not sweep the pool on each request", async () => {
    const rig = circuitRig(2, () => failure("transient", 503));
    await rig.run();
    rig.takeCalls();
    const later = await rig.run();
    expect(later.ok).toBe(false);
    expect(rig.takeCalls()).toBeLessThanOrEqual(2);
  });

  test("a hung key is cut at its share of the deadline while another key could answer, and is taken out at once", async () => {
    // Like a real attempt, the hung one gives up when its controller is aborted.
    const hang = (signal: AbortSignal) => new Promise<Failure>((resolve) => signal.addEventListener("abort", () => resolve(failure("transient", 0))));
    const rig = circuitRig(2, (slot, signal) => (slot === 0 ? hang(signal) : "ok"), { attemptShare: 0.5 });
    const started = Date.now();
    const result = await rig.run(400);
    expect(result.ok && result.value).toBe(1);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(380);
    expect(result.trace[0]).toMatchObject({ outcome: "transient", status: 0, message: expect.stringContaining("share of the request deadline") });
    expect(result.trace[0]!.action).toMatch(/^circuit open until/);
    rig.takeCalls();
    const next = await rig.run(400);
    expect(next.ok && next.value).toBe(1);
    expect(rig.takeCalls()).toBe(1);
  });

  test("the last candidate gets the whole deadline", async () => {
    const rig = circuitRig(1, () => new Promise<Failure | "ok">((resolve) => setTimeout(() => resolve("ok"), 300)), { attemptShare: 0.5 });
    const result = await rig.run(400);
    expect(result.ok).toBe(true);
  });
});

describe("provider incidents", () => {
  test("three failing keys of six are not an incident while the other three answer", async () => {
    const rig = circuitRig(6, (slot) => (slot < 3 ? failure("transient", 503) : "ok"));
    const results = await Promise.all(Array.from({ length: 60 }, () => rig.run()));
    expect(results.filter((result) => result.ok).length).toBe(60);
    expect(rig.incidents.active("p")).toBeUndefined();
  });

  test("most of the pool failing with no success is an incident, and a success ends it at once", async () => {
    const rig = circuitRig(4, () => failure("transient", 503));
    const down = await rig.run();
    expect(!down.ok && down.error).toMatchObject({ status: 503, code: "provider_incident" });
    expect(rig.incidents.active("p")).toBeDefined();
    rig.incidents.noteSuccess("p");
    expect(rig.incidents.active("p")).toBeUndefined();
  });
});
