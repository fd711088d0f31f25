/**
 * Keys with endpoints of their own, end to end through the real `openai` client: three keyless
 * "servers" (three mocks) behind one provider share the load, and when one is killed its slot
 * stops being chosen while the other two serve; keys paired with their own base URL go to exactly
 * that URL and rotate like any key; stats and usage name each slot by key and host.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";

const started: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of started.splice(0).reverse()) await thing.stop().catch(() => {});
});

async function mocks(count: number): Promise<MockUpstream[]> {
  const list = await Promise.all(Array.from({ length: count }, () => startMockUpstream({ keyless: true })));
  started.push(...list);
  return list;
}

async function proxyWith(env: Record<string, string>): Promise<ProxyHarness> {
  const proxy = await startProxy({ env });
  started.push(proxy);
  return proxy;
}

const hostOf = (url: string) => new URL(url).host;

async function statsOf(proxy: ProxyHarness, provider: string): Promise<any> {
  const stats = (await (await proxy.request("/v1/stats")).json()) as any;
  return stats.providers.find((p: any) => p.name === provider);
}

describe("keyless servers behind one provider", () => {
  test("requests spread over all three; one killed: its slot is passed over and the other two serve", async () => {
    const servers = await mocks(3);
    const proxy = await proxyWith(Object.fromEntries(servers.map((server, i) => [`LOCAL_API_BASE_${i + 1}`, server.url])));
    const client = proxy.openai();

    for (let i = 0; i < 12; i++) {
      const answer = await client.chat.completions.create({ model: "local/gpt-4o-mini", messages: [{ role: "user", content: `hi ${i}` }] });
      expect(answer.choices[0]!.message.content).toBeTruthy();
    }
    // Least recently used first: the load goes round the servers.
    expect(servers.map((server) => server.calls.length)).toEqual([4, 4, 4]);
    // No key was invented for a keyless server.
    expect(servers.flatMap((server) => server.calls.map((call) => call.key))).toEqual(Array(12).fill(""));

    await servers[1]!.stop();
    const before = [servers[0]!.calls.length, servers[2]!.calls.length];
    const attempts: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { data, response } = await client.chat.completions
        .create({ model: "local/gpt-4o-mini", messages: [{ role: "user", content: `after ${i}` }] })
        .withResponse();
      expect(data.choices[0]!.message.content).toBeTruthy();
      attempts.push(Number(response.headers.get("x-proxy-attempts")));
    }
    const served = [servers[0]!.calls.length - before[0]!, servers[2]!.calls.length - before[1]!];
    expect(served[0]! + served[1]!).toBe(20);
    expect(Math.min(...served)).toBeGreaterThanOrEqual(8);
    // Once the dead server's circuit is open it costs nothing: only the first requests tried it.
    expect(attempts.slice(5).every((n) => n === 1)).toBe(true);

    const local = await statsOf(proxy, "local");
    expect(local.keys.map((key: any) => key.key)).toEqual(servers.map((server) => hostOf(server.url)));
    expect(local.keys.map((key: any) => key.state)).toEqual(["ok", "failing", "ok"]);
    expect(local.keys[1].circuits[0]).toMatchObject({ model: "gpt-4o-mini", state: "open" });
    // Usage is counted per slot like any key.
    expect(local.keys[0].usage.today.requests).toBeGreaterThanOrEqual(4);
  }, 20_000);

  test("a single base URL and no key is one keyless slot: its models are listed, its stats name the host", async () => {
    const [server] = await mocks(1);
    const proxy = await proxyWith({ OLLAMA_API_BASE: server!.url });
    const models = (await (await proxy.request("/v1/models")).json()) as any;
    expect(models.data.length).toBeGreaterThan(0);
    expect(models.data.every((m: any) => m.id.startsWith("ollama/"))).toBe(true);
    expect(server!.calls.at(-1)).toMatchObject({ path: "/v1/models", key: "" });
    const ollama = await statsOf(proxy, "ollama");
    expect(ollama.keys.map((key: any) => key.key)).toEqual([hostOf(server!.url)]);
  });
});

describe("keys with their own base URL", () => {
  test("each key goes to its own endpoint; a 429 there rotates to the next key's endpoint", async () => {
    const [east, west] = await mocks(2);
    const proxy = await proxyWith({
      POOL_API_KEY_EAST: "sk-pool-east-0001",
      POOL_API_BASE_EAST: east!.url,
      POOL_API_KEY_WEST: "sk-pool-west-0002",
      POOL_API_BASE_WEST: west!.url,
    });
    east!.script("sk-pool-east-0001", { kind: "rate_limit", retryAfterSeconds: 30 });
    const client = proxy.openai();
    for (let i = 0; i < 3; i++) {
      const answer = await client.chat.completions.create({ model: "pool/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
      expect(answer.choices[0]!.message.content).toBeTruthy();
    }
    // East was tried once and cooled; every answer came from west, with west's own key.
    expect(east!.calls.map((call) => call.key)).toEqual(["sk-pool-east-0001"]);
    expect(west!.calls.map((call) => call.key)).toEqual(["sk-pool-west-0002", "sk-pool-west-0002", "sk-pool-west-0002"]);

    const pool = await statsOf(proxy, "pool");
    expect(pool.keys.map((key: any) => key.key)).toEqual([`…0001@${hostOf(east!.url)}`, `…0002@${hostOf(west!.url)}`]);
    expect(pool.keys[0].state).toBe("cooling");
    // Neither key shows whole anywhere in the stats.
    const text = JSON.stringify(await (await proxy.request("/v1/stats")).json());
    expect(text).not.toContain("sk-pool-east-0001");
    expect(text).not.toContain("sk-pool-west-0002");
  });
});

describe("the library takes the same keys", () => {
  test("{ baseUrl } is a keyless server, { key, baseUrl } a key of its own endpoint; both rotate", async () => {
    const { createRotatingClient } = await import("../../src/library/index.ts");
    const [keyless, keyed] = await mocks(2);
    const client = createRotatingClient({ providers: { pool: { keys: [{ baseUrl: keyless!.url }, { key: "sk-lib-own-0001", baseUrl: keyed!.url }] } } });
    started.push({ stop: () => client.close() });
    for (let i = 0; i < 4; i++) {
      const answer = await client.chat({ model: "pool/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
      expect(answer.choices[0]!.message.content).toBeTruthy();
    }
    expect(keyless!.calls.map((call) => call.key)).toEqual(["", ""]);
    expect(keyed!.calls.map((call) => call.key)).toEqual(["sk-lib-own-0001", "sk-lib-own-0001"]);
  });
});
