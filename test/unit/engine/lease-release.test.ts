/**
 * Every lease comes back: whatever sequence of outcomes a request meets — answers, each failure
 * class, an attempt that throws, usage accounting that throws, a client that leaves — once the run
 * is over and a success has been settled, no key is left in flight.
 */

import { describe, expect, test } from "bun:test";
import { createIncidentTracker } from "../../../src/engine/incidents.ts";
import { createKeyPool } from "../../../src/engine/key-pool.ts";
import { createRotator } from "../../../src/engine/rotate.ts";
import type { AttemptResult } from "../../../src/outcome.ts";
import type { FailureClass } from "../../../src/outcome.ts";

type Outcome = "ok" | FailureClass | "timeout" | "throw";
const OUTCOMES: Outcome[] = ["ok", "request", "transient", "timeout", "rate_limit", "quota", "billing", "invalid_key", "throw"];

const inFlight = (pool: ReturnType<typeof createKeyPool>): number => pool.standing().keys.reduce((sum, key) => sum + key.inFlight, 0);

/** A small seeded generator, so a failing sequence can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function setup(options: { usageThrows?: () => boolean } = {}) {
  const pool = createKeyPool({ provider: "p", keys: [0, 1, 2].map((i) => ({ secret: `sk-secret-${i}`, id: `id${i}`, masked: `…${i}`, baseUrl: "http://127.0.0.1:9/v1", options: {} })) });
  const rotator = createRotator({
    usage: {
      addUsage: () => {
        if (options.usageThrows?.()) throw new TypeError("usage promptTokens must be a non-negative integer, got 1e+20");
      },
    },
    incidents: createIncidentTracker(),
    resetMinuteUtc: 180,
    transientBackoffMs: () => 0,
  });
  return { pool, rotator };
}

async function runScripted(rotator: ReturnType<typeof createRotator>, pool: ReturnType<typeof createKeyPool>, next: () => Outcome, signal = new AbortController().signal) {
  return rotator.run({
    pool,
    model: "m",
    deadline: Date.now() + 50,
    signal,
    attempt: async (): Promise<AttemptResult<string>> => {
      const outcome = next();
      if (outcome === "throw") throw new TypeError("candidates.entries is not a function");
      if (outcome === "ok") return { ok: true, value: "answer" };
      if (outcome === "timeout") return { ok: false, failure: { class: "transient", status: 0, code: "upstream_timeout", message: "timed out" } };
      return { ok: false, failure: { class: outcome, status: outcome === "request" ? 400 : 503, message: `${outcome} happened` } };
    },
  });
}

describe("lease release", () => {
  test("an attempt that throws gives its key back", async () => {
    const { pool, rotator } = setup();
    await expect(runScripted(rotator, pool, () => "throw")).rejects.toThrow("candidates.entries is not a function");
    expect(inFlight(pool)).toBe(0);
  });

  test("settling a success whose usage the store refuses still gives the key back", async () => {
    const { pool, rotator } = setup({ usageThrows: () => true });
    const result = await runScripted(rotator, pool, () => "ok");
    if (!result.ok) throw new Error("expected an answer");
    expect(() => rotator.settle(pool, result.lease, { kind: "success", usage: { promptTokens: 1e20, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 } })).toThrow();
    expect(inFlight(pool)).toBe(0);
  });

  test("after any sequence of outcomes every lease is released", async () => {
    let checked = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const draw = random(seed);
      const { pool, rotator } = setup({ usageThrows: () => draw() < 0.15 });
      for (let request = 0; request < 4; request++) {
        const client = new AbortController();
        if (draw() < 0.1) client.abort();
        try {
          const result = await runScripted(rotator, pool, () => OUTCOMES[Math.floor(draw() * OUTCOMES.length)]!, client.signal);
          if (result.ok) rotator.settle(pool, result.lease, draw() < 0.5 ? { kind: "success" } : { kind: "cancelled" });
        } catch {
          // A throwing attempt or usage sink rejects the run; the lease must come back all the same.
        }
        if (inFlight(pool) !== 0) throw new Error(`seed ${seed}, request ${request}: ${inFlight(pool)} lease(s) still held`);
        await expectNoStuckTrial(pool, `seed ${seed}, request ${request}`);
        checked++;
      }
    }
    expect(checked).toBe(1200);
  });
});

/**
 * A key whose circuit is half-open must still be reachable once nothing holds it: a trial that
 * ended without a verdict may not leave the key out for good.
 */
async function expectNoStuckTrial(pool: ReturnType<typeof createKeyPool>, where: string): Promise<void> {
  const standing = pool.standing();
  for (const [slot, key] of standing.keys.entries()) {
    const halfOpen = key.circuits.some((circuit) => circuit.state === "half_open");
    if (!halfOpen || key.disabledUntil > 0 || key.coolingModels.length > 0) continue;
    const others = new Set(standing.keys.map((_, other) => other).filter((other) => other !== slot));
    const got = await pool.acquire("m", { exclude: others, deadline: Date.now(), fallback: true });
    if (got.kind !== "lease") throw new Error(`${where}: half-open key ${key.masked} cannot be leased (${got.kind})`);
    got.lease.release();
  }
}
