/**
 * The Redis store against a real redis-server (started by the test): two instances sharing one
 * Redis see each other's key-state changes (and not their own), usage from both sums exactly, a
 * prefix keeps deployments apart, and Redis going away costs no exception and no usage.
 */

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { openRedisStore, type RedisStore } from "../../../src/store/redis.ts";
import { redactRedisUrl, redisPassword } from "../../../src/store/redis-connection.ts";
import type { KeyStateChange, KeyStateRecord, UsageDelta } from "../../../src/store/types.ts";
import type { SharedLimitWindow } from "../../../src/engine/declared-limits.ts";
import { startRedis, type TestRedis } from "../../support/redis-server.ts";
import { waitFor as until } from "../../support/wait-for.ts";

let redis: TestRedis;
let prefixCount = 0;
const open: RedisStore[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});
afterAll(async () => {
  await redis.dispose();
});

/** Stores on one fresh prefix: instances of one deployment. */
function deployment(count: number, extra: { warnings?: string[]; flushIntervalMs?: number } = {}): RedisStore[] {
  const prefix = `t${++prefixCount}:`;
  return Array.from({ length: count }, (_, index) => {
    const store = openRedisStore({ url: redis.url, prefix, instanceId: `instance-${index}`, flushIntervalMs: extra.flushIntervalMs ?? 20, onWarning: (message) => extra.warnings?.push(message) });
    open.push(store);
    return store;
  });
}

const record = (keyId: string, model: string, extra: Partial<KeyStateRecord> = {}): KeyStateRecord => ({ provider: "openai", keyId, model, until: Date.now() + 60_000, strikes: 1, reason: "rate limited (HTTP 429)", pinned: false, ...extra });
const delta = (keyId: string, extra: Partial<UsageDelta> = {}): UsageDelta => ({ day: "2026-12-02", provider: "openai", keyId, model: "gpt-4o", requests: 1, successes: 1, failures: 0, promptTokens: 10, completionTokens: 5, cachedTokens: 0, reasoningTokens: 0, ...extra });

describe("key state shared between instances", () => {
  test("a change on one instance reaches the others' watchers, not its own, and is in the shared state", async () => {
    const [a, b, c] = deployment(3);
    const heard: Record<string, KeyStateChange[]> = { a: [], b: [], c: [] };
    a!.watchKeyState!((change) => heard.a!.push(change));
    b!.watchKeyState!((change) => heard.b!.push(change));
    c!.watchKeyState!((change) => heard.c!.push(change));
    await Promise.all([a!.watching(), b!.watching(), c!.watching()]);

    const cooled = record("key0001", "gpt-4o");
    a!.saveKeyState(cooled);
    await until(() => heard.b!.length === 1 && heard.c!.length === 1);
    expect(heard.b).toEqual([{ kind: "saved", record: cooled }]);
    expect(await b!.loadKeyState()).toEqual([cooled]);

    b!.saveKeyState(record("key0002", "", { reason: "invalid key (HTTP 401)" }));
    b!.clearKeyState("openai", "key0001", "gpt-4o");
    await until(() => heard.a!.length === 2 && heard.c!.length === 3);
    expect(heard.c!.map((change) => change.kind)).toEqual(["saved", "saved", "cleared"]);
    expect((await a!.loadKeyState()).map((r) => r.keyId)).toEqual(["key0002"]);

    c!.saveKeyState({ ...record("key0003", "m"), provider: "groq" });
    c!.clearAllKeyState("openai");
    await until(() => heard.a!.length === 4);
    expect(heard.a!.at(-1)).toEqual({ kind: "cleared_all", provider: "openai" });
    expect((await a!.loadKeyState()).map((r) => r.provider)).toEqual(["groq"]);
    // Nobody heard itself.
    expect(heard.a!.some((change) => change.kind === "saved" && change.record.keyId === "key0001")).toBe(false);
  });

  test("another prefix is another deployment: it sees nothing of this one", async () => {
    const [a] = deployment(1);
    const [other] = deployment(1);
    a!.saveKeyState(record("key0001", "gpt-4o"));
    a!.setMeta("last_daily_reset", "123");
    await until(() => true);
    await Bun.sleep(50);
    expect(await other!.loadKeyState()).toEqual([]);
    expect(await other!.getMeta("last_daily_reset")).toBeUndefined();
    expect(await a!.getMeta("last_daily_reset")).toBe("123");
  });
});

describe("reconcile", () => {
  test("what an instance wrote while Redis was away is pushed when it is back, and a missed message is repaired", async () => {
    const [a, b] = deployment(2);
    const heardByB: KeyStateChange[] = [];
    b!.watchKeyState!((change) => heardByB.push(change));
    a!.watchKeyState!(() => {});
    await Promise.all([a!.watching(), b!.watching()]);
    await b!.loadKeyState();

    await redis.stop();
    a!.saveKeyState(record("key0009", "gpt-4o", { reason: "learned while apart" }));
    await until(() => !a!.health().reachable);
    await redis.start();
    // Redis came back empty; A pushes what it learned while apart, B reads it back.
    await until(() => {
      void a!.reconcile().catch(() => {});
      return a!.health().reachable;
    }, 10_000);
    await a!.reconcile();
    await until(() => {
      void b!.reconcile().catch(() => {});
      return heardByB.some((change) => change.kind === "saved" && change.record.reason === "learned while apart");
    }, 10_000);
    expect((await b!.loadKeyState()).map((r) => r.reason)).toEqual(["learned while apart"]);

    // A change B never hears of (written straight into Redis) reaches it at its next reconcile.
    const client = new (await import("bun")).RedisClient(redis.url);
    await client.send("HDEL", [`t${prefixCount}:keystate`, ["openai", "key0009", "gpt-4o"].join("\u0000")]);
    client.close();
    await b!.reconcile();
    expect(heardByB.at(-1)).toEqual({ kind: "cleared", provider: "openai", keyId: "key0009", model: "gpt-4o" });
  }, 30_000);
});

describe("usage", () => {
  test("deltas from every instance sum exactly, pending ones included, filtered by day, provider and key", async () => {
    const [a, b] = deployment(2, { flushIntervalMs: 60_000 });
    for (let i = 0; i < 50; i++) a!.addUsage(delta("key0001"));
    for (let i = 0; i < 30; i++) b!.addUsage(delta("key0001", { successes: 0, failures: 1, promptTokens: 3, completionTokens: 0 }));
    b!.addUsage(delta("key0002", { day: "2026-12-01" }));
    // A's deltas are still pending: A counts them, B does not see them yet.
    expect((await a!.usage({ keyId: "key0001" }))[0]).toMatchObject({ requests: 50, successes: 50 });
    await Promise.all([a!.flush(), b!.flush()]);
    const rows = await a!.usage({ provider: "openai" });
    expect(rows.find((row) => row.keyId === "key0001")).toMatchObject({ requests: 80, successes: 50, failures: 30, promptTokens: 590, completionTokens: 250 });
    expect(await b!.usage({ day: "2026-12-01" })).toEqual([delta("key0002", { day: "2026-12-01" })]);
    expect(await b!.usage({ provider: "groq" })).toEqual([]);
  });
});

describe("declared limits counted across instances", () => {
  const T = Date.UTC(2026, 11, 2, 12, 0, 0);
  const minute = (limit: number, cost = 1): SharedLimitWindow => ({ name: "openai\u0000key0001\u0000gpt-4o\u0000requestsPerMinute", kind: "minute", scope: "key", tokens: false, limit, cost, endsAt: 0 });
  const day = (limit: number, endsAt: number): SharedLimitWindow => ({ name: "openai\u0000*\u0000gpt-4o\u0000requestsPerDay", kind: "day", scope: "provider", tokens: false, limit, cost: 1, endsAt });

  test("a minute window admits up to its limit from any instance, then says when its oldest request leaves", async () => {
    const [a, b] = deployment(2);
    expect(await a!.chargeLimits!([minute(3)], T)).toBeUndefined();
    expect(await b!.chargeLimits!([minute(3)], T + 10_000)).toBeUndefined();
    expect(await a!.chargeLimits!([minute(3)], T + 20_000)).toBeUndefined();
    expect(await b!.chargeLimits!([minute(3)], T + 30_000)).toEqual({ window: 0, freesAt: T + 60_000 });
    expect(await a!.chargeLimits!([minute(3)], T + 60_000)).toBeUndefined();
  });

  test("all windows or none: a refusal by one charges none of the others", async () => {
    const [a] = deployment(1);
    const ends = Date.now() + 3_600_000;
    expect(await a!.chargeLimits!([minute(10), day(1, ends)], T)).toBeUndefined();
    expect(await a!.chargeLimits!([minute(10), day(1, ends)], T + 1)).toEqual({ window: 1, freesAt: ends });
    // Had the refused request counted, the minute window would hold 2 of 2 now.
    expect(await a!.chargeLimits!([minute(2)], T + 2)).toBeUndefined();
  });

  test("token windows move by what an answer used beyond (or below) its reservation", async () => {
    const [a, b] = deployment(2);
    const tokens: SharedLimitWindow = { name: "openai\u0000key0001\u0000gpt-4o\u0000tokensPerMinute", kind: "minute", scope: "key", tokens: true, limit: 100, cost: 0, endsAt: 0 };
    expect(await a!.chargeLimits!([tokens], T)).toBeUndefined();
    a!.adjustLimitTokens!([tokens], Math.floor(T / 1000), 90);
    // Asked on the connection that sent the change, so Redis has it by then: 90 + 20 > 100.
    expect(await a!.chargeLimits!([{ ...tokens, cost: 20 }], T + 1_000)).toEqual({ window: 0, freesAt: T + 60_000 });
    expect(await b!.chargeLimits!([{ ...tokens, cost: 10 }], T + 1_000)).toBeUndefined();
  });

  test("Redis away admits (each instance's own count still holds)", async () => {
    const store = openRedisStore({ url: "redis://127.0.0.1:1", prefix: "away:", onWarning: () => {} });
    open.push(store);
    expect(await store.chargeLimits!([minute(1)], T)).toBeUndefined();
  });
});

describe("Redis away", () => {
  test("no call throws, one warning per outage, and the usage buffered meanwhile lands once it is back", async () => {
    const warnings: string[] = [];
    const [a] = deployment(1, { warnings, flushIntervalMs: 10 });
    a!.addUsage(delta("key0001"));
    await a!.flush();
    await redis.stop();
    try {
      for (let i = 0; i < 20; i++) {
        a!.addUsage(delta("key0001"));
        a!.saveKeyState(record("key0001", "gpt-4o"));
        await a!.flush();
      }
      await until(() => warnings.length === 1);
      expect(warnings[0]).toContain("cannot be reached");
      expect(a!.health().reachable).toBe(false);
      await expect(Promise.resolve(a!.loadKeyState())).rejects.toBeDefined();
    } finally {
      await redis.start();
    }
    // Redis came back empty (no persistence): what lands now is what was buffered while it was away.
    await until(() => a!.health().reachable || warnings.length > 1, 5_000).catch(() => {});
    await until(() => {
      void a!.flush();
      return warnings.length === 2;
    }, 10_000);
    expect(warnings[1]).toContain("reachable again");
    await a!.flush();
    const [row] = await a!.usage({ keyId: "key0001" });
    expect(row!.requests + a!.health().droppedUsage).toBe(20);
  });

  test("the URL in a warning shows neither user nor password", () => {
    expect(redactRedisUrl("rediss://user:s3cret-pass@redis.example:6380/0")).toBe("rediss://redis.example:6380/0");
    expect(redactRedisUrl("redis://:only-pass@127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
    expect([redisPassword("rediss://user:s3cret%40pass@h:6380"), redisPassword("redis://:only-pass@h"), redisPassword("redis://h:6379")]).toEqual(["s3cret@pass", "only-pass", undefined]);
  });
});

describe("the daily reset in a cluster", () => {
  test("every instance resets its pools, but only the one that claims the reset writes it", async () => {
    const { createEngine } = await import("../../../src/core/create-engine.ts");
    const { keyId } = await import("../../../src/key-identity.ts");
    const stores = deployment(2);
    const writes = [0, 0];
    const counted = stores.map((store, index) => ({ ...store, clearKeyState: (...args: Parameters<typeof store.clearKeyState>) => ((writes[index]! += 1), store.clearKeyState(...args)) }));
    const provider = { name: "openai", displayName: "OpenAI", family: "openai" as const, baseUrl: "http://127.0.0.1:9/v1", keys: [{ secret: "sk-reset-key-0001" }, { secret: "sk-reset-key-0002" }], custom: false, ignoreModels: [], whitelistModels: [], responsesApi: "translate" as const };
    const engines = counted.map((state) => createEngine({ providers: [provider], state, resetMinuteUtc: 180 }));
    try {
      await Promise.all(engines.map((engine) => engine.ready));
      await Promise.all(stores.map((store) => store.watching()));
      const [here, there] = engines.map((engine) => engine.providers.get("openai")!.pool);
      here!.coolDown(0, "gpt-4o", Date.now() + 3_600_000, "rate limited (HTTP 429)");
      await until(() => there!.standing().cooling === 1);
      expect(keyId("sk-reset-key-0001")).toBe(here!.standing().keys[0]!.id);

      await Promise.all(engines.map((engine) => engine.runDailyReset()));
      expect([here!.standing().cooling, there!.standing().cooling]).toEqual([0, 0]);
      // One engine's worth of clears (2 keys × the whole key and its one model), not two.
      expect(writes.toSorted()).toEqual([0, 4]);
      expect(await stores[0]!.loadKeyState()).toEqual([]);
    } finally {
      for (const engine of engines) engine.stop();
    }
  });
});
