/**
 * Cluster mode, end to end: proxy instances with the same REDIS_URL in front of one mock upstream,
 * a real redis-server started by the test. A key one instance sees rate-limited or revoked is
 * passed over by the others without their trying it; usage from requests spread over the instances
 * sums in every instance's /v1/stats; a key reset on one instance resets it everywhere.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProxyHarness } from "../support/proxy-harness.ts";
import { createRotatingClient } from "../../src/library/index.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { startProxy } from "../support/proxy-harness.ts";
import { startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { startRedis, type TestRedis } from "../support/redis-server.ts";
import { waitFor } from "../support/wait-for.ts";

/** A change reaches every instance well within this, or the test fails. */
const until = (condition: () => boolean, ms = 2_000) => waitFor(condition, ms, 2);

const KEYS = ["sk-cluster-key-aaaa1111", "sk-cluster-key-bbbb2222", "sk-cluster-key-cccc3333"];
let redis: TestRedis;
let mock: MockUpstream;
let instances: ProxyHarness[] = [];

beforeAll(async () => {
  [redis, mock] = await Promise.all([startRedis(), startMockUpstream()]);
  const env = { OPENAI_API_KEY_1: KEYS[0]!, OPENAI_API_KEY_2: KEYS[1]!, OPENAI_API_KEY_3: KEYS[2]!, OPENAI_API_BASE: mock.url, OPENAI_RESPONSES: "translate", GLOBAL_TIMEOUT: "3", REDIS_URL: redis.url, REDIS_PREFIX: "cluster-test:" };
  instances = await Promise.all([startProxy({ env }), startProxy({ env }), startProxy({ env })]);
  // Each instance hears the others once its subscription is up.
  await Promise.all(instances.map((instance) => (instance.ctx.store as { watching?: () => Promise<void> }).watching?.()));
});
afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.stop()));
  await mock.stop();
  await redis.dispose();
});

const chat = (instance: ProxyHarness) =>
  instance.request("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }) });

const coolingEverywhere = (count: number) => () => instances.every((instance) => instance.ctx.providers.get("openai")!.pool.standing().cooling === count);

test("a 429 seen through one instance makes the others skip that key for that model, without trying it", async () => {
  const [a, b, c] = instances as [ProxyHarness, ProxyHarness, ProxyHarness];
  for (const key of KEYS) mock.script(key, { kind: "success" });
  mock.script(KEYS[0]!, { kind: "rate_limit", retryAfterSeconds: 120 });
  mock.calls.length = 0;
  // Through A until the first key has answered its 429 (A's rotation order is its own).
  for (let i = 0; i < 3 && !mock.calls.some((call) => call.key === KEYS[0]); i++) expect((await chat(a)).status).toBe(200);
  const propagation = await until(coolingEverywhere(1));
  expect(propagation).toBeLessThan(1_000);
  mock.calls.length = 0;
  for (let i = 0; i < 6; i++) expect((await chat(i % 2 === 0 ? b : c)).status).toBe(200);
  expect(mock.calls.map((call) => call.key)).not.toContain(KEYS[0]);
  expect(b.ctx.providers.get("openai")!.pool.passedOver("gpt-4o-mini")).toEqual([expect.objectContaining({ masked: "…1111", why: "cooling" })]);

  // A reset on C clears the cooldown on every instance.
  const reset = await c.request("/v1/keys/reset", { method: "POST", body: JSON.stringify({ provider: "openai" }) });
  expect(reset.status).toBe(200);
  await until(coolingEverywhere(0));
});

test("a key revoked (401) through one instance is disabled on all of them", async () => {
  const [a, b, c] = instances as [ProxyHarness, ProxyHarness, ProxyHarness];
  for (const key of KEYS) mock.script(key, { kind: "success" });
  mock.script(KEYS[1]!, { kind: "invalid_key" });
  for (let i = 0; i < 3 && !b.ctx.providers.get("openai")!.pool.standing().disabled; i++) expect((await chat(b)).status).toBe(200);
  await until(() => instances.every((instance) => instance.ctx.providers.get("openai")!.pool.standing().disabled === 1));
  mock.calls.length = 0;
  for (let i = 0; i < 6; i++) await chat(i % 2 === 0 ? a : c);
  expect(mock.calls.map((call) => call.key)).not.toContain(KEYS[1]);
  await a.request("/v1/keys/reset", { method: "POST", body: JSON.stringify({ provider: "openai" }) });
  await until(() => instances.every((instance) => instance.ctx.providers.get("openai")!.pool.standing().disabled === 0));
});

test("a provider incident declared by one instance pauses the provider on the others; a reset on one ends it everywhere", async () => {
  const [a, b, c] = instances as [ProxyHarness, ProxyHarness, ProxyHarness];
  for (const key of KEYS) mock.script(key, { kind: "server_error", status: 503 });
  const first = await chat(a);
  expect(first.status).toBe(503);
  expect(((await first.json()) as { error: { type: string } }).error.type).toBe("provider_incident");
  await until(() => [b, c].every((instance) => instance.ctx.incidents.active("openai") !== undefined));
  mock.calls.length = 0;
  const elsewhere = await chat(b);
  expect(elsewhere.status).toBe(503);
  expect(((await elsewhere.json()) as { error: { type: string } }).error.type).toBe("provider_incident");
  expect(mock.calls).toHaveLength(0);
  for (const key of KEYS) mock.script(key, { kind: "success" });
  await c.request("/v1/keys/reset", { method: "POST", body: JSON.stringify({ provider: "openai" }) });
  await until(() => instances.every((instance) => instance.ctx.incidents.active("openai") === undefined));
  expect((await chat(a)).status).toBe(200);
});

test("a Responses API conversation started on one instance continues on another (previous_response_id)", async () => {
  const [a, b] = instances as [ProxyHarness, ProxyHarness];
  for (const key of KEYS) mock.script(key, { kind: "success" });
  const first = await a.request("/v1/responses", { method: "POST", body: JSON.stringify({ model: "openai/gpt-4o-mini", input: "Remember the word kiwi." }) });
  expect(first.status).toBe(200);
  const { id } = (await first.json()) as { id: string };
  mock.calls.length = 0;
  const second = await b.request("/v1/responses", { method: "POST", body: JSON.stringify({ model: "openai/gpt-4o-mini", input: "Which word?", previous_response_id: id }) });
  expect(second.status).toBe(200);
  const sent = mock.calls[0]!.body.messages as { role: string; content: unknown }[];
  expect(sent.map((message) => message.role)).toEqual(["user", "assistant", "user"]);
  expect(JSON.stringify(sent[0]!.content)).toContain("kiwi");
  // And it is gone everywhere once deleted on a third.
  expect((await instances[2]!.request(`/v1/responses/${id}`, { method: "DELETE" })).status).toBe(200);
  expect((await a.request(`/v1/responses/${id}`)).status).toBe(404);
});

test("the library with state { kind: \"redis\" } shares state with the running proxies", async () => {
  const [a] = instances as [ProxyHarness];
  for (const key of KEYS) mock.script(key, { kind: "success" });
  const client = createRotatingClient({ providers: { openai: { keys: KEYS, baseUrl: mock.url } }, state: { kind: "redis", url: redis.url, prefix: "cluster-test:" } });
  try {
    // A cooldown the library meets reaches the proxies...
    mock.script(KEYS[2]!, { kind: "rate_limit", retryAfterSeconds: 120 });
    mock.calls.length = 0;
    for (let i = 0; i < 3 && !mock.calls.some((call) => call.key === KEYS[2]); i++) {
      await client.chat({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
    }
    await until(coolingEverywhere(1));
    // ...and a reset on a proxy reaches the library.
    await a.request("/v1/keys/reset", { method: "POST", body: JSON.stringify({ provider: "openai" }) });
    await until(() => client.stats().openai!.cooling === 0 && coolingEverywhere(0)());
  } finally {
    await client.close();
  }
});

test("usage from requests spread over every instance sums exactly in each instance's /v1/stats", async () => {
  for (const key of KEYS) mock.script(key, { kind: "success" });
  const total = async (instance: ProxyHarness): Promise<number> => {
    const stats = (await (await instance.request("/v1/stats")).json()) as { providers: { keys: { usage: { all_time: { requests: number } } }[] }[] };
    return stats.providers[0]!.keys.reduce((sum, key) => sum + key.usage.all_time.requests, 0);
  };
  await Promise.all(instances.map((instance) => instance.ctx.store.flush()));
  const before = await total(instances[0]!);
  // Beside the cluster's totals, each instance says what it served itself.
  const own = async (instance: ProxyHarness): Promise<number> => {
    const stats = (await (await instance.request("/v1/stats")).json()) as { providers: { keys: { usage: { this_instance: { requests: number } } }[] }[] };
    return stats.providers[0]!.keys.reduce((sum, key) => sum + key.usage.this_instance.requests, 0);
  };
  const ownBefore = await Promise.all(instances.map(own));
  const sent = [5, 7, 9];
  for (const [index, count] of sent.entries()) for (let i = 0; i < count; i++) expect((await chat(instances[index]!)).status).toBe(200);
  await Promise.all(instances.map((instance) => instance.ctx.store.flush()));
  for (const instance of instances) expect(await total(instance)).toBe(before + 21);
  const owns = await Promise.all(instances.map(own));
  expect(owns.map((count, index) => count - ownBefore[index]!)).toEqual(sent);
});

test("with a password: the instance works, and neither the password nor the URL's secret reaches a log line when Redis goes away", async () => {
  const password = "redis-s3cret-pass-7f3a";
  const guarded = await startRedis({ password });
  const lines: string[] = [];
  const log = createLogger({ level: "debug", color: false, write: (line) => lines.push(line) });
  const instance = await startProxy({ env: { OPENAI_API_KEY: KEYS[0]!, OPENAI_API_BASE: mock.url, REDIS_URL: guarded.url }, log });
  try {
    mock.script(KEYS[0]!, { kind: "success" });
    const first = await chat(instance);
    expect([first.status, lines.filter((line) => line.includes("ERROR"))]).toEqual([200, []]);
    expect(await (await instance.request("/healthz", { auth: false })).json()).toMatchObject({ status: "ok", cluster: "ok" });
    await instance.ctx.store.flush();
    await guarded.stop();
    // Redis away: requests are still answered, and one warning says so.
    for (let i = 0; i < 5; i++) expect((await chat(instance)).status).toBe(200);
    await instance.ctx.store.flush();
    await until(() => lines.some((line) => line.includes("cannot be reached")), 5_000);
    expect(lines.filter((line) => line.includes("cannot be reached"))).toHaveLength(1);
    expect(await (await instance.request("/healthz", { auth: false })).json()).toMatchObject({ status: "ok", cluster: "degraded" });
    const metrics = await (await instance.request("/metrics")).text();
    expect(metrics).toContain("llm_proxy_cluster_connected 0");
    expect(metrics).toContain("llm_proxy_cluster_usage_dropped 0");
    expect(lines.join("\n")).not.toContain(password);
  } finally {
    await instance.stop();
    await guarded.dispose();
  }
});

test("Redis stopped mid-load: no request fails, degraded is reported, and after it is back the state converges and usage sums exactly", async () => {
  const durable = await startRedis({ persist: true });
  const env = { OPENAI_API_KEY_1: KEYS[0]!, OPENAI_API_KEY_2: KEYS[1]!, OPENAI_API_BASE: mock.url, REDIS_URL: durable.url, REDIS_PREFIX: "outage:" };
  const pair = await Promise.all([startProxy({ env }), startProxy({ env })]);
  try {
    await Promise.all(pair.map((instance) => (instance.ctx.store as { watching?: () => Promise<void> }).watching?.()));
    for (const key of KEYS) mock.script(key, { kind: "success" });
    mock.calls.length = 0;
    const statuses: number[] = [];
    let degradedSeen = false;
    let running = true;
    const workers = Array.from({ length: 4 }, async (_, worker) => {
      for (let i = 0; running; i++) statuses.push((await chat(pair[(worker + i) % 2]!)).status);
    });
    await Bun.sleep(300);
    await durable.stop();
    // While Redis is away, a cooldown learned by one instance...
    mock.script(KEYS[0]!, { kind: "rate_limit", retryAfterSeconds: 300 });
    await waitFor(() => pair.some((instance) => instance.ctx.providers.get("openai")!.pool.standing().cooling === 1), 5_000);
    for (let i = 0; i < 50 && !degradedSeen; i++) {
      degradedSeen = ((await (await pair[0]!.request("/healthz", { auth: false })).json()) as { cluster?: string }).cluster === "degraded";
      await Bun.sleep(20);
    }
    await Bun.sleep(300);
    await durable.start();
    await Bun.sleep(300);
    running = false;
    await Promise.all(workers);
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(degradedSeen).toBe(true);

    // ...reaches the other once Redis is back (pushed, then read at the reconcile), and usage lands.
    await waitFor(() => {
      for (const instance of pair) void (instance.ctx.store as { reconcile?: () => Promise<void> }).reconcile?.().catch(() => {});
      return pair.every((instance) => instance.ctx.providers.get("openai")!.pool.standing().cooling === 1 && instance.ctx.store.health?.().reachable === true);
    }, 10_000, 50);
    await Promise.all(pair.map((instance) => instance.ctx.store.flush()));
    const stats = (await (await pair[1]!.request("/v1/stats")).json()) as { providers: { keys: { usage: { all_time: { requests: number } } }[] }[] };
    const counted = stats.providers[0]!.keys.reduce((sum, key) => sum + key.usage.all_time.requests, 0);
    const dropped = pair.reduce((sum, instance) => sum + (instance.ctx.store.health?.().droppedUsage ?? 0), 0);
    // Every attempt counts (the 429s among them): at least one per answered request.
    const attempts = mock.calls.filter((call) => call.path === "/v1/chat/completions").length;
    expect(counted + dropped).toBeGreaterThanOrEqual(statuses.length);
    expect(counted + dropped).toBe(attempts);
    expect(await (await pair[0]!.request("/healthz", { auth: false })).json()).toMatchObject({ cluster: "ok" });
  } finally {
    await Promise.all(pair.map((instance) => instance.stop()));
    await durable.dispose();
  }
}, 30_000);

test("MAX_CONCURRENT_REQUESTS_PER_KEY holds across the cluster: cap 1, one key, two instances, parallel load", async () => {
  const env = { OPENAI_API_KEY: KEYS[0]!, OPENAI_API_BASE: mock.url, MAX_CONCURRENT_REQUESTS_PER_KEY_OPENAI: "1", REDIS_URL: redis.url, REDIS_PREFIX: "capped:" };
  const pair = await Promise.all([startProxy({ env }), startProxy({ env })]);
  try {
    mock.script(KEYS[0]!, { kind: "success", delayMs: 150 });
    mock.setDefault({ kind: "success", delayMs: 150 });
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, mock.openConnections())), 2);
    const statuses = await Promise.all(Array.from({ length: 6 }, (_, i) => chat(pair[i % 2]!).then((response) => response.status)));
    clearInterval(sampler);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    // Six requests of 150 ms each through one slot: served one after another, never two at once.
    expect(peak).toBe(1);
  } finally {
    mock.setDefault({ kind: "success" });
    await Promise.all(pair.map((instance) => instance.stop()));
  }
}, 20_000);

test("an instance killed (kill -9) while holding a key's only slot frees it within the slot's lifetime", async () => {
  const env = { PROXY_API_KEY: "sk-proxy-killed-instance-0001", OPENAI_API_KEY: KEYS[1]!, OPENAI_API_BASE: mock.url, MAX_CONCURRENT_REQUESTS_PER_KEY_OPENAI: "1", REDIS_URL: redis.url, REDIS_PREFIX: "killed:", LOG_LEVEL: "error" };
  const dir = mkdtempSync(join(tmpdir(), "lkp-killed-"));
  writeFileSync(join(dir, ".env"), Object.entries({ ...env, DATA_DIR: join(dir, "data"), LOG_DIR: join(dir, "logs") }).map(([name, value]) => `${name}=${value}`).join("\n"));
  const port = await new Promise<number>((resolve) => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const free = probe.port;
    probe.stop(true);
    resolve(free);
  });
  const doomed = Bun.spawn([process.execPath, "--no-env-file", "src/main.ts", "--env-file", join(dir, ".env"), "--port", String(port)], { cwd: join(import.meta.dir, "../.."), stdout: "ignore", stderr: "ignore" });
  const survivor = await startProxy({ env });
  try {
    for (let tries = 0; !(await fetch(`http://127.0.0.1:${port}/healthz`).then((response) => response.ok, () => false)); tries++) {
      if (tries > 200) throw new Error("the doomed instance did not start");
      await Bun.sleep(50);
    }
    // The doomed instance takes the only slot with a stream that would hold it for a minute.
    mock.script(KEYS[1]!, { kind: "success", chunks: 200, chunkDelayMs: 300 });
    const holding = fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.PROXY_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hold" }], stream: true }),
    }).catch(() => undefined);
    await waitFor(() => mock.openConnections() === 1, 5_000);
    doomed.kill("SIGKILL");
    await doomed.exited;
    await holding;
    mock.script(KEYS[1]!, { kind: "success" });
    const started = Date.now();
    const answered = await chat(survivor);
    const waited = Date.now() - started;
    expect(answered.status).toBe(200);
    // Freed by expiry, not at once (the killed instance never released it), and within its lifetime.
    expect(waited).toBeGreaterThan(1_000);
    expect(waited).toBeLessThan(12_000);
  } finally {
    doomed.kill("SIGKILL");
    await survivor.stop();
  }
}, 30_000);
