/** The affinity table: per (provider, model, conversation), bounded, expiring, refreshed on use; and the pool taking a preferred key only while it is ready. */

import { describe, expect, test } from "bun:test";
import { createAffinity } from "../../../src/engine/affinity.ts";
import { createKeyPool, type PoolKey } from "../../../src/engine/key-pool.ts";
import { conversationKey, MIN_CACHED_PREFIX_CHARS } from "../../../src/core/conversation-key.ts";

describe("createAffinity", () => {
  test("remembers per provider and model, forgets after the TTL, refreshes on set, drops the least recently used beyond capacity", () => {
    let now = 0;
    const table = createAffinity({ ttlMs: 1_000, capacity: 2, now: () => now });
    table.set("p", "m", "c1", "k1");
    expect(table.get("p", "m", "c1")).toBe("k1");
    expect(table.get("p", "other", "c1")).toBeUndefined();
    now = 999;
    table.set("p", "m", "c1", "k2");
    now = 1_500;
    expect(table.get("p", "m", "c1")).toBe("k2");
    now = 2_000;
    expect(table.get("p", "m", "c1")).toBeUndefined();
    table.set("p", "m", "a", "k1");
    table.set("p", "m", "b", "k1");
    table.set("p", "m", "c", "k1");
    expect(table.size).toBe(2);
    expect(table.get("p", "m", "a")).toBeUndefined();
  });
});

describe("acquire with a preferred key", () => {
  const keys: PoolKey[] = Array.from({ length: 3 }, (_, i) => ({ secret: `s${i}`, id: `id${i}`, masked: `…${i}`, baseUrl: "http://127.0.0.1:9/v1", options: {} }));
  const far = () => Date.now() + 60_000;

  test("the preferred key is taken while ready, even when another is less recently used; a cooling, excluded or unknown one is passed over", async () => {
    const pool = createKeyPool({ provider: "p", keys });
    const take = async (preferKeyId?: string, exclude = new Set<number>()) => {
      const got = await pool.acquire("m", { exclude, deadline: far(), preferKeyId });
      if (got.kind !== "lease") throw new Error(got.kind);
      got.lease.release();
      return got.lease.slot;
    };
    expect(await take("id2")).toBe(2);
    expect(await take("id2")).toBe(2);
    pool.coolDown(2, "m", Date.now() + 60_000, "rate limited");
    expect(await take("id2")).toBe(0);
    expect(await take("id1", new Set([1]))).not.toBe(1);
    expect([0, 1]).toContain(await take("nope"));
  });
});

describe("conversationKey", () => {
  test("a client's id wins; a long prefix is hashed, its first turn included even after long tools; a short one gives none", () => {
    expect(conversationKey("session-1", [])).toBe("id:session-1");
    expect(conversationKey(undefined, ["short"])).toBeUndefined();
    const tools = "t".repeat(50_000);
    const a = conversationKey(undefined, [tools, "system", "first question A"]);
    const b = conversationKey(undefined, [tools, "system", "first question B"]);
    expect(a).toStartWith("prefix:");
    expect(a).not.toBe(b);
    expect(conversationKey(undefined, [tools, "system", "first question A"])).toBe(a);
    expect(conversationKey(undefined, ["x".repeat(MIN_CACHED_PREFIX_CHARS)])).toStartWith("prefix:");
  });
});
