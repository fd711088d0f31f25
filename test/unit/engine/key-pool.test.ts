/**
 * Key selection and state: the order (fewest in flight for the model, then overall, then least
 * recently used), cooldowns per (key, model), disabled keys, exclusion of tried keys, waiting for a
 * cooling key or a capped key, and restore from persisted state. (Selection cost against the key
 * count is measured in bench/, not here.)
 */

import { describe, expect, test } from "bun:test";
import { createIndexedHeap } from "../../../src/engine/indexed-heap.ts";
import { createKeyPool, type Lease, type PoolKey } from "../../../src/engine/key-pool.ts";
import type { KeyStateRecord } from "../../../src/store/types.ts";

const keys = (count: number): PoolKey[] =>
  Array.from({ length: count }, (_, i) => ({ secret: `sk-secret-${i}`, id: `id${i}`, masked: `…${i}`, baseUrl: "http://127.0.0.1:9/v1", options: {} }));

const FAR = () => Date.now() + 60_000;

async function lease(pool: ReturnType<typeof createKeyPool>, model: string, exclude: Set<number> = new Set()): Promise<Lease> {
  const result = await pool.acquire(model, { exclude, deadline: FAR() });
  if (result.kind !== "lease") throw new Error(`expected a lease, got ${result.kind}`);
  return result.lease;
}

/** `times` leases of `model` in a row all come from `slot`. */
async function expectServedBy(pool: ReturnType<typeof createKeyPool>, model: string, slot: number, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    const held = await lease(pool, model);
    expect(held.slot).toBe(slot);
    held.release();
  }
}

describe("indexed heap", () => {
  test("pops in priority order after arbitrary updates and removals", () => {
    const priority = [50, 10, 40, 30, 20, 60, 0, 70];
    const heap = createIndexedHeap(priority.length, (a, b) => priority[a]! < priority[b]!);
    priority.forEach((_, id) => heap.push(id));
    heap.remove(6);
    priority[7] = 5;
    heap.update(7);
    priority[1] = 55;
    heap.update(1);
    const order: number[] = [];
    for (let id = heap.pop(); id !== undefined; id = heap.pop()) order.push(priority[id]!);
    expect(order).toEqual([5, 20, 30, 40, 50, 55, 60]);
  });
});

describe("key pool selection", () => {
  test("spreads sequential requests round-robin (least recently used)", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(3) });
    const used: number[] = [];
    for (let i = 0; i < 6; i++) {
      const l = await lease(pool, "m");
      used.push(l.slot);
      l.release();
    }
    expect(used).toEqual([0, 1, 2, 0, 1, 2]);
  });

  test("prefers the key with fewest in-flight requests for the model, then overall", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(3) });
    const a = await lease(pool, "m1"); // slot 0
    const b = await lease(pool, "m1"); // slot 1
    expect([a.slot, b.slot]).toEqual([0, 1]);
    const other = await lease(pool, "m2"); // least busy overall for m2 is slot 2
    expect(other.slot).toBe(2);
    const c = await lease(pool, "m1"); // slot 2 has 0 in flight for m1 but 1 overall; 0 and 1 have 1 for m1
    expect(c.slot).toBe(2);
    for (const l of [a, b, other, c]) l.release();
    expect(pool.standing().keys.every((k) => k.inFlight === 0)).toBe(true);
  });

  test("least recently used holds across models: a key used for one model goes last for the others", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(4) });
    const models = ["m1", "m2", "m3"];
    const used: number[] = [];
    for (let i = 0; i < 12; i++) {
      const l = await lease(pool, models[i % models.length]!);
      used.push(l.slot);
      l.release();
    }
    expect(used).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
  });

  test("a key busy on another model comes back to the front once it is released", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(3) });
    const first = await lease(pool, "m1"); // slot 0, so m1 now exists
    first.release();
    const long = await lease(pool, "m2"); // slot 1, held
    const whileBusy = await lease(pool, "m1"); // slot 2: least recently used and not busy
    expect([long.slot, whileBusy.slot]).toEqual([1, 2]);
    whileBusy.release();
    long.release();
    // Slot 0 is the least recently used; slot 1 was released after slot 2 was used.
    const order: number[] = [];
    for (let i = 0; i < 3; i++) {
      const l = await lease(pool, "m1");
      order.push(l.slot);
      l.release();
    }
    expect(order).toEqual([0, 1, 2]);
  });

  test("skips keys this request already tried, and reports exhaustion", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(2) });
    const first = await lease(pool, "m");
    first.release();
    const second = await lease(pool, "m", new Set([first.slot]));
    expect(second.slot).not.toBe(first.slot);
    second.release();
    const none = await pool.acquire("m", { exclude: new Set([0, 1]), deadline: FAR() });
    expect(none.kind).toBe("exhausted");
  });

  test("a cooling key is skipped for that model only", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(2) });
    pool.coolDown(0, "m", Date.now() + 60_000, "rate limited");
    await expectServedBy(pool, "m", 1, 3);
    await expectServedBy(pool, "other", 0);
    expect(pool.standing()).toMatchObject({ healthy: 1, cooling: 1, disabled: 0 });
  });

  test("when every key cools past the deadline it says when the first returns", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(2) });
    const now = Date.now();
    pool.coolDown(0, "m", now + 50_000, "x");
    pool.coolDown(1, "m", now + 40_000, "x");
    const result = await pool.acquire("m", { exclude: new Set(), deadline: now + 1_000 });
    expect(result).toEqual({ kind: "cooling", retryAt: now + 40_000 });
  });

  test("lists the keys passed over for a model, disabled or cooling, in configured order", () => {
    const pool = createKeyPool({ provider: "p", keys: keys(5) });
    const later = Date.now() + 60_000;
    pool.coolDown(3, "m", later, "rate limited");
    pool.coolDown(1, "other", later, "rate limited");
    pool.disable(2, later, "invalid");
    pool.coolDown(0, "m", Date.now() - 1, "already over");
    expect(pool.passedOver("m")).toEqual([
      { masked: "…2", why: "disabled", until: later, reason: "invalid" },
      { masked: "…3", why: "cooling", until: later, reason: "rate limited" },
    ]);
    expect(pool.passedOver("never-asked")).toEqual([{ masked: "…2", why: "disabled", until: later, reason: "invalid" }]);
  });

  test("waits for a key whose cooldown ends before the deadline", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(1) });
    pool.coolDown(0, "m", Date.now() + 150, "x");
    const started = Date.now();
    const result = await pool.acquire("m", { exclude: new Set(), deadline: Date.now() + 5_000 });
    expect(result.kind).toBe("lease");
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  test("a disabled key serves no model until its time, and reset brings it back", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(2) });
    pool.disable(0, Date.now() + 60_000, "key rejected");
    for (const model of ["a", "b"]) {
      const l = await lease(pool, model);
      expect(l.slot).toBe(1);
      l.release();
    }
    expect(pool.standing().keys[0]).toMatchObject({ disabledReason: "key rejected" });
    expect(pool.reset({ keyId: "id0" })).toBe(1);
    expect(pool.standing()).toMatchObject({ healthy: 2, disabled: 0 });
  });

  test("the per-key cap makes a request wait for a release instead of polling", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(1), maxConcurrentPerKey: 1 });
    const held = await lease(pool, "m");
    const waiting = pool.acquire("m", { exclude: new Set(), deadline: Date.now() + 5_000 });
    await Bun.sleep(30);
    const released = Date.now();
    held.release();
    const result = await waiting;
    expect(result.kind).toBe("lease");
    expect(Date.now() - released).toBeLessThan(50);
    const timedOut = await pool.acquire("m", { exclude: new Set(), deadline: Date.now() + 50 });
    expect(timedOut.kind).toBe("at_capacity");
  });

  test("an aborted wait returns at once", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(1) });
    pool.coolDown(0, "m", Date.now() + 2_000, "x");
    const controller = new AbortController();
    const pending = pool.acquire("m", { exclude: new Set(), deadline: Date.now() + 5_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect((await pending).kind).toBe("aborted");
  });

  test("writes state changes to the sink and restores them", async () => {
    const saved: KeyStateRecord[] = [];
    const sink = { saveKeyState: (r: KeyStateRecord) => saved.push(r), clearKeyState: () => {}, clearAllKeyState: () => {} };
    const pool = createKeyPool({ provider: "p", keys: keys(2), sink });
    pool.addStrike(0, "m");
    pool.coolDown(0, "m", Date.now() + 60_000, "rate limited");
    pool.disable(1, Date.now() + 60_000, "invalid");
    expect(saved.map((r) => [r.keyId, r.model, r.strikes])).toEqual([["id0", "m", 1], ["id1", "", 0]]);
    const restored = createKeyPool({ provider: "p", keys: keys(2) });
    for (const record of saved) restored.apply({ kind: "saved", record });
    expect(restored.standing()).toMatchObject({ healthy: 0, cooling: 1, disabled: 1 });
    expect(restored.addStrike(0, "m")).toBe(2);
  });
});

describe("cooldown deadlines", () => {
  test("a new, shorter cooldown for a key already cooling keeps the later deadline; a longer one extends it", () => {
    const pool = createKeyPool({ provider: "p", keys: keys(1) });
    const later = Date.now() + 120_000;
    pool.coolDown(0, "m", later, "day quota");
    pool.coolDown(0, "m", Date.now() + 5_000, "short rate limit");
    expect(pool.standing().keys[0]!.coolingModels[0]).toMatchObject({ until: later, reason: "day quota" });
    const longer = Date.now() + 600_000;
    pool.coolDown(0, "m", longer, "longer");
    expect(pool.standing().keys[0]!.coolingModels[0]).toMatchObject({ until: longer, reason: "longer" });
  });
});

describe("quota groups", () => {
  const grouped = (groups: (string | undefined)[]): PoolKey[] => keys(groups.length).map((key, i) => (groups[i] === undefined ? key : { ...key, quotaGroup: groups[i] }));

  test("a cooldown shared with the group cools the other keys of it for that model only, written through, and counts them", async () => {
    const saved: KeyStateRecord[] = [];
    const sink = { saveKeyState: (r: KeyStateRecord) => saved.push(r), clearKeyState: () => {}, clearAllKeyState: () => {} };
    const pool = createKeyPool({ provider: "p", keys: grouped(["proj-a", "proj-a", "proj-b", "proj-a"]), sink });
    const until = Date.now() + 60_000;
    pool.coolDown(0, "m", until, "quota");
    expect(pool.coolQuotaGroup(0, "m", until, "quota, shared")).toBe(2);
    expect(saved.map((r) => r.keyId)).toEqual(["id0", "id1", "id3"]);
    await expectServedBy(pool, "m", 2, 3);
    const standing = pool.standing().keys;
    expect(standing[1]!.coolingModels).toEqual([{ model: "m", until, reason: "quota, shared", strikes: 0 }]);
    expect(standing[2]!.coolingModels).toEqual([]);
    expect((await lease(pool, "other")).slot).not.toBe(2);
  });

  test("a key already out longer keeps its later return; a disabled key is left alone; a key alone in its group has no siblings", () => {
    const pool = createKeyPool({ provider: "p", keys: grouped(["g", "g", "g", "solo", undefined]) });
    const later = Date.now() + 120_000;
    pool.coolDown(1, "m", later, "earlier quota");
    pool.disable(2, later, "invalid");
    expect(pool.coolQuotaGroup(0, "m", Date.now() + 60_000, "shared")).toBe(0);
    expect(pool.standing().keys[1]!.coolingModels[0]).toMatchObject({ until: later, reason: "earlier quota" });
    expect(pool.coolQuotaGroup(3, "m", later, "shared")).toBe(0);
    expect(pool.coolQuotaGroup(4, "m", later, "shared")).toBe(0);
  });
});

describe("apply: a state change made elsewhere", () => {
  const record = (keyId: string, model: string, until: number, extra: Partial<KeyStateRecord> = {}): KeyStateRecord => ({
    provider: "p",
    keyId,
    model,
    until,
    strikes: 1,
    reason: "rate limited elsewhere",
    pinned: false,
    ...extra,
  });

  test("another process's cooldown and its clearing steer selection here, and nothing is written back", async () => {
    const writes: string[] = [];
    const sink = { saveKeyState: () => writes.push("save"), clearKeyState: () => writes.push("clear"), clearAllKeyState: () => writes.push("clear all") };
    const pool = createKeyPool({ provider: "p", keys: keys(2), sink });
    pool.apply({ kind: "saved", record: record("id0", "m", FAR()) });
    expect(pool.passedOver("m")).toEqual([{ masked: "…0", why: "cooling", until: expect.any(Number), reason: "rate limited elsewhere" }]);
    await expectServedBy(pool, "m", 1, 3);
    // Another model is not affected: the cooldown is per model.
    await expectServedBy(pool, "n", 0);
    pool.apply({ kind: "cleared", provider: "p", keyId: "id0", model: "m" });
    expect(pool.passedOver("m")).toEqual([]);
    expect(pool.addStrike(0, "m")).toBe(1);
    expect(writes).toEqual([]);
  });

  test("a disabled key is off for every model; cleared_all brings every key back; other providers' changes are ignored", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(2) });
    pool.apply({ kind: "saved", record: record("id1", "", FAR(), { reason: "invalid key" }) });
    pool.apply({ kind: "saved", record: { ...record("id0", "", FAR()), provider: "q" } });
    pool.apply({ kind: "saved", record: record("unknown", "", FAR()) });
    expect(pool.standing()).toMatchObject({ healthy: 1, disabled: 1 });
    pool.apply({ kind: "saved", record: record("id0", "m", FAR()) });
    expect(pool.standing()).toMatchObject({ healthy: 0, cooling: 1, disabled: 1 });
    pool.apply({ kind: "cleared_all", provider: "q" });
    expect(pool.standing()).toMatchObject({ healthy: 0 });
    pool.apply({ kind: "cleared_all" });
    expect(pool.standing()).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });

  test("a request waiting for a cooling key gets it as soon as another process clears the cooldown", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(1) });
    pool.apply({ kind: "saved", record: record("id0", "m", Date.now() + 30_000) });
    const started = Date.now();
    const pending = pool.acquire("m", { exclude: new Set(), deadline: Date.now() + 40_000 });
    setTimeout(() => pool.apply({ kind: "cleared", provider: "p", keyId: "id0", model: "m" }), 30);
    const result = await pending;
    expect(result.kind).toBe("lease");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test("a record that has already ended ends the cooldown or the disabling here too", () => {
    const pool = createKeyPool({ provider: "p", keys: keys(2) });
    pool.coolDown(0, "m", FAR(), "x");
    pool.disable(1, FAR(), "y");
    pool.apply({ kind: "saved", record: record("id0", "m", Date.now() - 1) });
    pool.apply({ kind: "saved", record: record("id1", "", Date.now() - 1) });
    expect(pool.standing()).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });
});

describe("daily reset", () => {
  test("keeps a cooldown whose end the provider stated, clears the rest", async () => {
    const pool = createKeyPool({ provider: "p", keys: keys(3) });
    const later = Date.now() + 3_600_000;
    pool.coolDown(0, "m", later, "quota exhausted", true);
    pool.coolDown(1, "m", later, "rate limited");
    pool.disable(2, later, "invalid");
    pool.reset({ keepPinned: true });
    const standing = pool.standing();
    expect(standing).toMatchObject({ healthy: 2, cooling: 1, disabled: 0 });
    expect(standing.keys[0]!.coolingModels[0]).toMatchObject({ model: "m", until: later });
    pool.reset();
    expect(pool.standing()).toMatchObject({ healthy: 3, cooling: 0 });
  });
});

describe("key pool circuits", () => {
  const clocked = (count: number, options: { cap?: number } = {}) => {
    let now = 5_000_000;
    const pool = createKeyPool({ provider: "p", keys: keys(count), maxConcurrentPerKey: options.cap, now: () => now });
    return { pool, advance: (ms: number) => (now += ms), now: () => now };
  };
  const acquire = (pool: ReturnType<typeof createKeyPool>, exclude: number[] = [], fallback = false) =>
    pool.acquire("m", { exclude: new Set(exclude), deadline: 0, fallback });

  test("two 5xx in a row open the circuit, a timeout opens it at once; other models are untouched", () => {
    const { pool } = clocked(3);
    expect(pool.noteTransient(0, "m", { timedOut: false, reason: "HTTP 503" })).toEqual({ failures: 1 });
    const opened = pool.noteTransient(0, "m", { timedOut: false, reason: "HTTP 503" });
    expect(opened.openUntil).toBe(5_000_000 + 3_000);
    expect(pool.noteTransient(1, "m", { timedOut: true, reason: "timed out" }).openUntil).toBe(5_000_000 + 3_000);
    expect(pool.passedOver("m").map((entry) => [entry.masked, entry.why])).toEqual([
      ["…0", "circuit_open"],
      ["…1", "circuit_open"],
    ]);
    expect(pool.passedOver("other")).toEqual([]);
    expect(pool.standing()).toMatchObject({ healthy: 1, failing: 2 });
  });

  test("an open key is not selected; when it is due it is half-open and leased to one trial at a time", async () => {
    const { pool, advance } = clocked(2);
    pool.noteTransient(0, "m", { timedOut: true, reason: "timed out" });
    const a = await acquire(pool);
    expect(a.kind === "lease" && a.lease.slot).toBe(1);
    advance(3_001);
    const trial = await acquire(pool);
    expect(trial.kind === "lease" && [trial.lease.slot, trial.lease.trial]).toEqual([0, true]);
    // Key 1 is busier, but the half-open key is out on its trial.
    const meanwhile = await acquire(pool);
    expect(meanwhile.kind === "lease" && meanwhile.lease.slot).toBe(1);
    expect(pool.standing().keys[0]!.circuits[0]).toMatchObject({ state: "half_open", failures: 1 });
  });

  test("a trial that ends without a verdict leaves the key half-open; a failed one opens it for longer", async () => {
    const { pool, advance, now } = clocked(2);
    pool.noteTransient(0, "m", { timedOut: true, reason: "timed out" });
    advance(3_001);
    const first = await acquire(pool);
    if (first.kind !== "lease") throw new Error("expected a lease");
    first.lease.release();
    const again = await acquire(pool, [1]);
    expect(again.kind === "lease" && [again.lease.slot, again.lease.trial]).toEqual([0, true]);
    if (again.kind !== "lease") return;
    const reopened = pool.noteTransient(0, "m", { timedOut: false, reason: "trial failed, HTTP 503" });
    again.lease.release();
    expect(reopened.openUntil).toBe(now() + 10_000);
    expect(pool.standing().keys[0]!.circuits[0]).toMatchObject({ state: "open", failures: 2, reason: "trial failed, HTTP 503" });
  });

  test("a success closes the circuit and forgets the run", async () => {
    const { pool, advance } = clocked(2);
    pool.noteTransient(0, "m", { timedOut: true, reason: "timed out" });
    advance(3_001);
    const trial = await acquire(pool);
    if (trial.kind !== "lease") throw new Error("expected a lease");
    pool.noteSuccess(0, "m");
    trial.lease.release();
    expect(pool.standing().keys[0]!.circuits).toEqual([]);
    expect(pool.noteTransient(0, "m", { timedOut: false, reason: "HTTP 500" })).toEqual({ failures: 1 });
  });

  test("as a fallback, the open key due back first serves; never one that is cooling, disabled or at its cap", async () => {
    const { pool } = clocked(3, { cap: 1 });
    pool.noteTransient(0, "m", { timedOut: true, reason: "timed out" });
    pool.noteTransient(1, "m", { timedOut: true, reason: "timed out" });
    pool.noteTransient(1, "m", { timedOut: true, reason: "timed out" }); // out longer than key 0
    expect((await acquire(pool, [2])).kind).toBe("exhausted");
    const fallback = await acquire(pool, [2], true);
    expect(fallback.kind === "lease" && [fallback.lease.slot, fallback.fallback]).toEqual([0, true]);
    // Key 0 is now at its cap of 1; key 1 cools for a rate limit: nothing is left to fall back on.
    pool.coolDown(1, "m", Number.MAX_SAFE_INTEGER, "rate limited");
    expect((await acquire(pool, [2], true)).kind).not.toBe("lease");
  });

  test("hasOtherReady sees untried ready keys below their cap only", async () => {
    const { pool } = clocked(2, { cap: 1 });
    expect(pool.hasOtherReady("m", new Set(), 0)).toBe(true);
    expect(pool.hasOtherReady("m", new Set([1]), 0)).toBe(false);
    const held = await acquire(pool, [0]);
    expect(held.kind === "lease" && held.lease.slot).toBe(1);
    expect(pool.hasOtherReady("m", new Set(), 0)).toBe(false);
  });

  test("reset closes every circuit", () => {
    const { pool } = clocked(2);
    pool.noteTransient(0, "m", { timedOut: true, reason: "timed out" });
    expect(pool.reset()).toBe(2);
    expect(pool.standing()).toMatchObject({ healthy: 2, failing: 0 });
    expect(pool.passedOver("m")).toEqual([]);
  });

  test("allDisabled holds only while every key is disabled", () => {
    const { pool, advance, now } = clocked(2);
    pool.disable(0, now() + 1_000, "invalid");
    expect(pool.allDisabled()).toBe(false);
    pool.disable(1, now() + 2_000, "invalid");
    expect(pool.allDisabled()).toBe(true);
    advance(1_001);
    expect(pool.allDisabled()).toBe(false);
  });
});
