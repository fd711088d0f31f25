/**
 * Seeing what the proxy does: `/metrics` (valid Prometheus text whose counters move by the right
 * amounts), `/v1/stats` (key state and usage), `/v1/keys/reset` (the manual escape hatch), and
 * `logs/failures.log` (one JSON line per failed attempt, no secret in clear).
 */

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";

const KEYS = ["sk-observe-key-aaaa1111", "sk-observe-key-bbbb2222"];
let mock: MockUpstream;
let proxy: ProxyHarness;

async function start(extra: Record<string, string> = {}): Promise<void> {
  proxy = await startProxy({ env: { OPENAI_API_KEY_1: KEYS[0]!, OPENAI_API_KEY_2: KEYS[1]!, OPENAI_API_BASE: mock.url, ...extra } });
}

beforeEach(async () => {
  mock = await startMockUpstream();
});
afterEach(async () => {
  await proxy?.stop();
  await mock.stop();
});

const json = async (response: Response): Promise<any> => response.json();

const chat = (model = "openai/gpt-4o") =>
  proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }) });

/** Parses the exposition format strictly enough to reject malformed output. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    if (line.startsWith("# HELP ")) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      typed.add(type[1]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.e+]+|\+Inf|NaN)$/.exec(line);
    if (!sample) throw new Error(`not a valid exposition line: ${line}`);
    const family = sample[1]!.replace(/_(bucket|sum|count)$/, "");
    if (!typed.has(sample[1]!) && !typed.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    samples.set(`${sample[1]}${sample[2] ?? ""}`, Number(sample[3]));
  }
  return samples;
}

async function scrape(): Promise<Map<string, number>> {
  const response = await proxy.request("/metrics");
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return parseExposition(await response.text());
}

describe("/metrics", () => {
  test("is valid exposition text and its counters move by the right amounts", async () => {
    await start();
    mock.script(KEYS[0]!, [{ kind: "rate_limit", retryAfterSeconds: 30 }, { kind: "success" }]);
    const before = await scrape();
    const okKey = 'llm_proxy_requests_total{route="/v1/chat/completions",provider="openai",model="gpt-4o",status="200"}';
    expect(before.get(okKey) ?? 0).toBe(0);
    for (let i = 0; i < 3; i++) expect((await chat()).status).toBe(200);
    const after = await scrape();
    expect(after.get(okKey)).toBe(3);
    expect(after.get('llm_proxy_upstream_attempts_total{provider="openai",model="gpt-4o",outcome="rate_limit"}')).toBe(1);
    expect(after.get('llm_proxy_upstream_attempts_total{provider="openai",model="gpt-4o",outcome="ok"}')).toBe(3);
    expect(after.get('llm_proxy_tokens_total{provider="openai",model="gpt-4o",kind="prompt"}')).toBe(30);
    expect(after.get('llm_proxy_request_duration_seconds_count{route="/v1/chat/completions",provider="openai",model="gpt-4o"}')).toBe(3);
    expect(after.get('llm_proxy_keys{provider="openai",state="cooling"}')).toBe(1);
    expect(after.get('llm_proxy_keys{provider="openai",state="healthy"}')).toBe(1);
    expect(after.get("llm_proxy_requests_in_flight")).toBe(0); // the scrape itself is not counted
  });

  test("needs the proxy key unless METRICS_REQUIRE_AUTH=false", async () => {
    await start();
    expect((await proxy.request("/metrics", { auth: false })).status).toBe(401);
    await proxy.stop();
    await start({ METRICS_REQUIRE_AUTH: "false" });
    expect((await proxy.request("/metrics", { auth: false })).status).toBe(200);
  });
});

describe("/v1/stats and /v1/keys/reset", () => {
  test("stats show usage per key and the cooling key with its reason; reset brings it back", async () => {
    await start();
    mock.script(KEYS[0]!, { kind: "rate_limit", retryAfterSeconds: 120 });
    expect((await chat()).status).toBe(200);
    expect((await chat()).status).toBe(200);
    const stats = (await (await proxy.request("/v1/stats")).json()) as any;
    const openai = stats.providers.find((p: any) => p.name === "openai");
    expect(openai).toMatchObject({ keys_total: 2, healthy: 1, cooling: 1, disabled: 0, in_flight: 0 });
    const [first, second] = openai.keys;
    expect(first).toMatchObject({ key: "…1111", state: "cooling" });
    expect(first.cooling[0]).toMatchObject({ model: "gpt-4o", strikes: 1 });
    expect(first.cooling[0].reason).toContain("rate limited");
    expect(Date.parse(first.cooling[0].until) - Date.now()).toBeGreaterThan(100_000);
    expect(first.usage.today).toMatchObject({ requests: 1, successes: 0, failures: 1 });
    expect(second.usage.today).toMatchObject({ requests: 2, successes: 2, prompt_tokens: 20, completion_tokens: 10 });
    expect(openai.usage.all_time.requests).toBe(3);
    expect(JSON.stringify(stats)).not.toContain(KEYS[0]);

    const reset = await proxy.request("/v1/keys/reset", { method: "POST", body: JSON.stringify({ provider: "openai", key: "1111" }) });
    expect(await reset.json()).toEqual({ object: "keys.reset", reset: 1 });
    const afterReset = (await (await proxy.request("/v1/stats?provider=openai")).json()) as any;
    expect(afterReset.providers[0]).toMatchObject({ healthy: 2, cooling: 0 });
  });

  test("reset of everything, unknown key and unknown provider answer honestly", async () => {
    await start();
    mock.script(KEYS[0]!, { kind: "invalid_key" });
    expect((await chat()).status).toBe(200);
    expect((await json(await proxy.request("/v1/stats"))).providers[0].disabled).toBe(1);
    expect((await json(await proxy.request("/v1/keys/reset", { method: "POST", body: "{}" }))).reset).toBe(2);
    expect((await json(await proxy.request("/v1/stats"))).providers[0].disabled).toBe(0);
    expect((await proxy.request("/v1/keys/reset", { method: "POST", body: JSON.stringify({ provider: "openai", key: "zzzz" }) })).status).toBe(404);
    expect((await proxy.request("/v1/keys/reset", { method: "POST", body: JSON.stringify({ provider: "nope" }) })).status).toBe(404);
    expect((await proxy.request("/v1/stats?provider=nope")).status).toBe(404);
    expect((await proxy.request("/v1/stats", { auth: false })).status).toBe(401);
  });

  test("a last-4 shared by two keys is refused rather than resetting the wrong one; the id still works", async () => {
    proxy = await startProxy({ env: { OPENAI_API_KEY_1: "sk-first-key-0000-same", OPENAI_API_KEY_2: "sk-second-key-1111-same", OPENAI_API_BASE: mock.url } });
    const ambiguous = await proxy.request("/v1/keys/reset", { method: "POST", body: JSON.stringify({ provider: "openai", key: "same" }) });
    expect(ambiguous.status).toBe(400);
    expect((await json(ambiguous)).error).toMatchObject({ code: "ambiguous_key", param: "key" });
    const [, second] = (await json(await proxy.request("/v1/stats"))).providers[0].keys;
    const byId = await proxy.request("/v1/keys/reset", { method: "POST", body: JSON.stringify({ provider: "openai", key: second.id }) });
    expect(await json(byId)).toEqual({ object: "keys.reset", reset: 1 });
  });
});

describe("failures.log", () => {
  test("one JSON line per failed attempt, with the action taken and no secret", async () => {
    await start();
    mock.script(KEYS[0]!, { kind: "raw", status: 401, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${KEYS[0]}`, type: "invalid_request_error", code: "invalid_api_key" } }) });
    expect((await chat()).status).toBe(200);
    await proxy.ctx.stop();
    const text = readFileSync(join(proxy.settings.logDir, "failures.log"), "utf8");
    const lines = text.trim().split("\n").map((line) => JSON.parse(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ provider: "openai", model: "gpt-4o", status: 401, class: "invalid_key", keyMasked: "…1111", attempt: 1 });
    expect(lines[0].action).toContain("disabled until");
    expect(typeof lines[0].time).toBe("string");
    for (const secret of [...KEYS, proxy.proxyKey]) expect(text).not.toContain(secret);
  });
});
