/**
 * Partial outages end to end, measured the way a user meets them: the real proxy in front of the
 * scripted mock, some keys failing for good while the rest answer in about 5 ms, and requests
 * arriving for several seconds — long enough for the failing keys' circuits to come back
 * half-open and fail their trials.
 *
 * - 2 keys answering 503 and 1 healthy: every request succeeds, with about one upstream call each
 *   once the circuits are open;
 * - 3 failing and 3 healthy under load: no provider incident (the failures are explained by a few
 *   bad keys), every request succeeds, and the median latency stays near the healthy pool's;
 * - 1 hanging key and 1 healthy with GLOBAL_TIMEOUT=2: the hung key costs at most its share of the
 *   deadline, once per circuit trial, and `/v1/stats` says it is failing.
 *
 * Each scenario prints one line with its figures (they go into the issue's closing note).
 */

import { describe, expect, test } from "bun:test";
import type { Behavior } from "../support/mock-upstream.ts";
import type { ProxyHarness } from "../support/proxy-harness.ts";
import { chat, shownKey, testKeys, useRotationRig, type Rig } from "./rotation-helpers.ts";

const rig = useRotationRig();

const HEALTHY: Behavior = { kind: "success", delayMs: 5 };
const FAILING: Behavior = { kind: "server_error", status: 503 };

interface Outcome {
  status: number;
  ms: number;
  attempts: number;
}

/** Send requests from `concurrency` clients until `durationMs` has passed; every request is read to its end. */
async function load(proxy: ProxyHarness, options: { durationMs: number; concurrency: number }): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const until = Date.now() + options.durationMs;
  const client = async (): Promise<void> => {
    while (Date.now() < until) {
      const started = performance.now();
      const response = await chat(proxy);
      await response.arrayBuffer();
      outcomes.push({ status: response.status, ms: performance.now() - started, attempts: Number(response.headers.get("x-proxy-attempts") ?? 0) });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  return outcomes;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function successRate(outcomes: Outcome[]): number {
  return outcomes.filter((outcome) => outcome.status === 200).length / outcomes.length;
}

async function startWith(behaviors: Behavior[], env: Record<string, string> = {}): Promise<Rig> {
  // The proxy's real same-key backoff (500–750 ms), not the suites' shortened one: its cost is part of what is measured.
  const started = await rig.start({ keys: testKeys(behaviors.length), env, transientBackoffMs: 600 });
  behaviors.forEach((behavior, index) => started.mock.script(started.keys[index]!, behavior));
  return started;
}

function report(name: string, figures: Record<string, string | number>): void {
  console.info(`[partial outage] ${name}: ${Object.entries(figures).map(([key, value]) => `${key} ${value}`).join(", ")}`);
}

describe("partial outages", () => {
  test("2 keys failing + 1 healthy: every request succeeds, about one upstream call each after the first few", async () => {
    const { mock, proxy, keys } = await startWith([FAILING, FAILING, HEALTHY]);
    const outcomes = await load(proxy, { durationMs: 4_500, concurrency: 1 });
    const upstreamCalls = mock.calls.length;
    const settled = outcomes.slice(3);
    const callsAfterFirst = settled.reduce((sum, outcome) => sum + outcome.attempts, 0) / settled.length;
    report("2 failing + 1 healthy", {
      requests: outcomes.length,
      success: `${(successRate(outcomes) * 100).toFixed(2)}%`,
      "upstream calls/request after the first 3": callsAfterFirst.toFixed(3),
      "p50 ms": median(outcomes.map((o) => o.ms)).toFixed(1),
      "upstream calls": upstreamCalls,
    });
    expect(successRate(outcomes)).toBeGreaterThanOrEqual(0.99);
    expect(callsAfterFirst).toBeLessThanOrEqual(2);
    // The circuits really opened, came back half-open after 3 s and failed their trials.
    for (const key of keys.slice(0, 2)) expect(mock.callsFor(key).length).toBeGreaterThanOrEqual(3);
    const stats = (await (await proxy.request("/v1/stats")).json()) as any;
    const openai = stats.providers.find((provider: any) => provider.name === "openai");
    expect(openai.keys.map((key: any) => key.state)).toEqual(["failing", "failing", "ok"]);
    expect(openai.keys[0].circuits[0]).toMatchObject({ model: "gpt-4o-mini", reason: expect.stringContaining("HTTP 503") });
  }, 15_000);

  test("3 failing + 3 healthy under load: no incident, every request succeeds, median latency near the healthy pool's", async () => {
    const healthyOnly = await startWith([HEALTHY, HEALTHY, HEALTHY]);
    const baseline = await load(healthyOnly.proxy, { durationMs: 1_500, concurrency: 25 });
    await healthyOnly.proxy.stop();
    await healthyOnly.mock.stop();

    const { proxy } = await startWith([FAILING, FAILING, FAILING, HEALTHY, HEALTHY, HEALTHY]);
    const outcomes = await load(proxy, { durationMs: 4_000, concurrency: 25 });
    const healthyP50 = median(baseline.map((o) => o.ms));
    const p50 = median(outcomes.map((o) => o.ms));
    const incidents = outcomes.filter((outcome) => outcome.status === 503).length;
    report("3 failing + 3 healthy, 25 concurrent", {
      requests: outcomes.length,
      success: `${(successRate(outcomes) * 100).toFixed(2)}%`,
      "p50 ms": p50.toFixed(1),
      "healthy-pool p50 ms": healthyP50.toFixed(1),
      ratio: (p50 / healthyP50).toFixed(2),
      "503s": incidents,
    });
    expect(incidents).toBe(0);
    expect(successRate(outcomes)).toBeGreaterThanOrEqual(0.99);
    expect(p50).toBeLessThanOrEqual(2 * healthyP50);
    expect(proxy.ctx.incidents.active("openai")).toBeUndefined();
  }, 15_000);

  test("1 hanging + 1 healthy with GLOBAL_TIMEOUT=2: every request succeeds and the hung key shows as failing", async () => {
    const { mock, proxy, keys } = await startWith([{ kind: "hang" }, HEALTHY], { GLOBAL_TIMEOUT: "2" });
    const outcomes = await load(proxy, { durationMs: 5_000, concurrency: 4 });
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    report("1 hanging + 1 healthy, GLOBAL_TIMEOUT=2", {
      requests: outcomes.length,
      success: `${(successRate(outcomes) * 100).toFixed(2)}%`,
      "p50 ms": median(outcomes.map((o) => o.ms)).toFixed(1),
      "max ms": slowest.toFixed(0),
      "calls to the hung key": mock.callsFor(keys[0]!).length,
    });
    expect(successRate(outcomes)).toBeGreaterThanOrEqual(0.99);
    expect(outcomes.filter((outcome) => outcome.status === 504)).toEqual([]);
    // The hung key gets half the budget at most, then the healthy key answers.
    expect(slowest).toBeLessThan(1_900);
    // Met once at the start and once per trial (3 s later), not by every request.
    expect(mock.callsFor(keys[0]!).length).toBeLessThanOrEqual(3);
    const stats = (await (await proxy.request("/v1/stats")).json()) as any;
    const [hung, healthy] = stats.providers.find((provider: any) => provider.name === "openai").keys;
    expect([hung.key, hung.state]).toEqual([shownKey(keys[0]!).replace("...", "…"), "failing"]);
    expect(hung.circuits[0].reason).toContain("timed out");
    expect(healthy.state).toBe("ok");
  }, 15_000);
});
