/**
 * Declared limits end to end (`RATE_LIMIT_<P>…`): the real server over a mock upstream that
 * would serve everything, so every refusal seen here is the proxy's own, made before sending. A
 * key at its limit is passed over for one with room; with none left the client gets a 429 with the
 * Retry-After of the first key to free and the limit named, and the upstream never sees the
 * request; tokens count from the answers' usage; a route moves on to its next target; and with
 * Redis the count holds across instances.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { createLogger } from "../../src/logging/logger.ts";
import { createRotatingClient, RotationError } from "../../src/library/index.ts";
import { keyId } from "../../src/key-identity.ts";
import { startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { providerStanding } from "../support/key-standing.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { startRedis, type TestRedis } from "../support/redis-server.ts";
import { errorBody, FAST_ENV, numberedKeys, stopRigAfterEach } from "./rig-helpers.ts";

const KEYS: [string, string] = ["limit-key-aaaa00001", "limit-key-bbbb00002"];
const QUIET = createLogger({ level: "error", color: false, write: () => {} });
const keep = stopRigAfterEach<{ mock: MockUpstream; proxy: ProxyHarness }>((rig) => [rig.mock]);

async function start(env: Record<string, string>, keys: readonly string[] = KEYS) {
  const mock = await startMockUpstream();
  const proxy = await startProxy({ env: { ...FAST_ENV, POOL_API_BASE: mock.url, ...numberedKeys("POOL_API_KEY", keys), ...env }, log: QUIET });
  keep({ mock, proxy });
  return { mock, proxy };
}

const chat = (proxy: ProxyHarness, model = "pool/m", extra: Record<string, unknown> = {}) =>
  proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }], ...extra }) });

describe("requests per minute per key", () => {
  test("each key serves its limit, then the client gets 429 with Retry-After and the limit named; the upstream never sees it", async () => {
    const { mock, proxy } = await start({ RATE_LIMIT_POOL: "2 rpm" });
    for (let i = 0; i < 4; i++) expect((await chat(proxy)).status).toBe(200);
    expect(mock.calls.map((call) => call.key).sort()).toEqual([KEYS[0], KEYS[0], KEYS[1], KEYS[1]]);

    const refused = await chat(proxy);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(55);
    expect(retryAfter).toBeLessThanOrEqual(61);
    const error = await errorBody(refused);
    expect(error.code).toBe("declared_limit_reached");
    expect(error.message).toContain("2 requests per minute per key (RATE_LIMIT_POOL)");
    expect(mock.calls).toHaveLength(4);

    // /v1/stats shows how much of each limit each key has used.
    const stats = (await (await proxy.request("/v1/stats")).json()) as any;
    const pool = stats.providers.find((p: any) => p.name === "pool");
    expect(pool.keys.map((k: any) => k.limits)).toEqual([[{ model: "m", limit: "rpm", used: 2, of: 2 }], [{ model: "m", limit: "rpm", used: 2, of: 2 }]]);
    expect(pool.limits).toEqual([]);
    expect(pool.cooling).toBe(2);

    // Both keys show as cooling for the model, with the time each frees and why.
    const standing = providerStanding(proxy, "pool");
    for (const key of KEYS) {
      const [cooling] = standing.keys.find((k) => k.id === keyId(key))!.coolingModels;
      expect(cooling!.reason).toBe("at its declared limit: 2 requests per minute per key (RATE_LIMIT_POOL)");
      expect(cooling!.until).toBeGreaterThan(Date.now() + 50_000);
    }
  });

  test("a limit for one model leaves the others alone", async () => {
    const { mock, proxy } = await start({ RATE_LIMIT_POOL_M: "m: 1 rpm" }, [KEYS[0]!]);
    expect((await chat(proxy, "pool/m")).status).toBe(200);
    expect((await chat(proxy, "pool/m")).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await chat(proxy, "pool/other")).status).toBe(200);
    expect(mock.calls).toHaveLength(4);
  });
});

describe("tokens per minute", () => {
  test("counted from each answer's usage, with the next request's expected tokens reserved", async () => {
    // The mock's answers use 15 tokens: 15, then 15 + 15 = 30 fits in 40, and a third (30 + 15) does not.
    const { mock, proxy } = await start({ RATE_LIMIT_POOL: "40 tpm" }, [KEYS[0]!]);
    expect((await chat(proxy)).status).toBe(200);
    const streamed = await chat(proxy, "pool/m", { stream: true, stream_options: { include_usage: true } });
    expect(streamed.status).toBe(200);
    await streamed.text();
    const refused = await chat(proxy);
    expect(refused.status).toBe(429);
    expect((await errorBody(refused)).message).toContain("40 tokens per minute per key (RATE_LIMIT_POOL)");
    expect(mock.calls).toHaveLength(2);
  });
});

describe("per provider", () => {
  test("an organisation-wide limit counts every key together", async () => {
    const { mock, proxy } = await start({ RATE_LIMIT_POOL: "3 rpm per provider" });
    for (let i = 0; i < 3; i++) expect((await chat(proxy)).status).toBe(200);
    const refused = await chat(proxy);
    expect(refused.status).toBe(429);
    expect((await errorBody(refused)).message).toContain("3 requests per minute per provider");
    expect(mock.calls).toHaveLength(3);
    const stats = (await (await proxy.request("/v1/stats")).json()) as any;
    expect(stats.providers.find((p: any) => p.name === "pool").limits).toEqual([{ model: "m", limit: "rpm", used: 3, of: 3 }]);
  });
});

describe("with a route", () => {
  test("a target whose keys are at their limit passes the request to the next target", async () => {
    const backup = await startMockUpstream();
    const { mock, proxy } = await start({ RATE_LIMIT_POOL: "1 rpm", BACKUP_API_BASE: backup.url, BACKUP_API_KEY: "backup-key-000000001", ROUTE_SMART: "smart => pool/m, backup/m" }, [KEYS[0]!]);
    try {
      const first = await chat(proxy, "smart");
      expect(first.headers.get("x-proxy-route")).toBe("smart=pool/m");
      const second = await chat(proxy, "smart");
      expect(second.status).toBe(200);
      expect(second.headers.get("x-proxy-route")).toBe("smart=backup/m");
      expect([mock.calls.length, backup.calls.length]).toEqual([1, 1]);
      // /v1/stats counts what each target of the route did.
      const stats = (await (await proxy.request("/v1/stats")).json()) as any;
      expect(stats.routes).toEqual([
        {
          name: "smart",
          strategy: "order",
          targets: [
            { target: "pool/m", weight: 1, served: 1, failed: 0, fell_through: 1 },
            { target: "backup/m", weight: 1, served: 1, failed: 0, fell_through: 0 },
          ],
        },
      ]);
    } finally {
      await backup.stop();
    }
  });
});

describe("the library", () => {
  test("rateLimits on a provider: the same count before sending, refused as a RotationError with its wait", async () => {
    const mock = await startMockUpstream();
    const client = createRotatingClient({ providers: { pool: { keys: [KEYS[0]!], baseUrl: mock.url, rateLimits: [{ model: "m*", requestsPerMinute: 1 }] } } });
    try {
      await client.chat({ model: "pool/m", messages: [{ role: "user", content: "Hi" }] });
      const error = await client.chat({ model: "pool/m", messages: [{ role: "user", content: "Hi" }] }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RotationError);
      expect((error as RotationError).kind).toBe("all_keys_cooling");
      expect((error as RotationError).code).toBe("declared_limit_reached");
      expect((error as RotationError).retryAfterSeconds).toBeGreaterThan(50);
      expect(mock.calls).toHaveLength(1);
      // Another model has no limit.
      await client.chat({ model: "pool/other", messages: [{ role: "user", content: "Hi" }] });
    } finally {
      await client.close();
      await mock.stop();
    }
  });

  test("a rule that declares nothing is refused at creation", () => {
    expect(() => createRotatingClient({ providers: { pool: { keys: ["k"], baseUrl: "http://127.0.0.1:9/v1", rateLimits: [{ model: "m" }] } } })).toThrow(/declares no limit/);
  });
});

describe("the start", () => {
  test("a limit the proxy cannot read stops it with the variable named", async () => {
    const mock = await startMockUpstream();
    try {
      await expect(startProxy({ env: { POOL_API_BASE: mock.url, POOL_API_KEY: KEYS[0]!, RATE_LIMIT_POOL: "10 per minute" }, log: QUIET })).rejects.toThrow(/RATE_LIMIT_POOL must read/);
    } finally {
      await mock.stop();
    }
  });
});

describe("across instances (Redis)", () => {
  let redis: TestRedis;
  let mock: MockUpstream;
  let instances: ProxyHarness[] = [];
  beforeAll(async () => {
    [redis, mock] = await Promise.all([startRedis(), startMockUpstream()]);
    const env = { ...FAST_ENV, POOL_API_BASE: mock.url, POOL_API_KEY: KEYS[0]!, RATE_LIMIT_POOL: "3 rpm, 100 tpm", REDIS_URL: redis.url, REDIS_PREFIX: "limits-test:" };
    instances = await Promise.all([startProxy({ env, log: QUIET }), startProxy({ env, log: QUIET })]);
  });
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await mock.stop();
    await redis.dispose();
  });

  test("the limit holds for the cluster: three requests in all, whichever instance takes them; the fourth is refused on both", async () => {
    const [a, b] = instances as [ProxyHarness, ProxyHarness];
    expect((await chat(a)).status).toBe(200);
    expect((await chat(b)).status).toBe(200);
    expect((await chat(a)).status).toBe(200);
    const refusedB = await chat(b);
    expect(refusedB.status).toBe(429);
    expect(Number(refusedB.headers.get("retry-after"))).toBeGreaterThan(50);
    expect((await chat(a)).status).toBe(429);
    expect(mock.calls).toHaveLength(3);
    // Redis holds the counts under key ids, never a key.
    const client = new RedisClient(redis.url);
    try {
      const stored = JSON.stringify(await client.send("KEYS", ["limits-test:limit:*"]));
      expect(stored).not.toContain(KEYS[0]!);
      expect(stored).toContain(keyId(KEYS[0]!));
      expect(stored).toContain("tokensPerMinute");
    } finally {
      client.close();
    }
  });
});
