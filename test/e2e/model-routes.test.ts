/**
 * Model routes end to end: the real proxy with `ROUTE_<ID>` routes over two OpenAI-compatible mocks
 * (`first/…`, `second/…`) and the Anthropic mock, called with the real `openai` client and raw fetch.
 *
 * - a route is listed in /v1/models and served by its first target while that target can serve;
 * - it falls through to the next target when the first cannot serve (its key cooling, disabled,
 *   every key failed), never on a request fault, and for a stream only before the first byte;
 * - every front uses routes (chat, embeddings, Messages, Responses, Gemini-native), across families;
 * - the serving target is in `x-proxy-route`, the request log line, the detailed log and the metrics;
 * - weighted routes spread first picks by weight; fallbacks still follow.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type OpenAI from "openai";
import { createLogger } from "../../src/logging/logger.ts";
import { keyId } from "../../src/key-identity.ts";
import { DEFAULT_TEXT as CLAUDE_TEXT, startMockAnthropic, type MockAnthropic } from "../support/mock-anthropic.ts";
import { providerStanding } from "../support/key-standing.ts";
import { DEFAULT_CONTENT, startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { contentPieces, FAST_ENV } from "./rig-helpers.ts";

const FIRST_KEY = "first-upstream-key-0001";
const SECOND_KEY = "second-upstream-key-0002";
const CLAUDE_KEY = "sk-ant-route-key-0003";
const MESSAGES = [{ role: "user" as const, content: "Hi" }];

let first: MockUpstream;
let second: MockUpstream;
let anthropic: MockAnthropic;
let proxy: ProxyHarness;
let client: OpenAI;
let logDir: string;
const lines: string[] = [];

beforeAll(async () => {
  [first, second, anthropic] = await Promise.all([startMockUpstream(), startMockUpstream(), startMockAnthropic()]);
  logDir = mkdtempSync(join(tmpdir(), "lkp-routes-logs-"));
  proxy = await startProxy({
    env: {
      ...FAST_ENV,
      LOG_DIR: logDir,
      REQUEST_LOGGING: "true",
      FIRST_API_BASE: first.url,
      FIRST_API_KEY: FIRST_KEY,
      SECOND_API_BASE: second.url,
      SECOND_API_KEY: SECOND_KEY,
      ANTHROPIC_API_BASE: anthropic.url,
      ANTHROPIC_API_KEY: CLAUDE_KEY,
      ROUTE_SMART: "smart => first/model-a, second/model-b",
      // A client's own default model name, dots and dashes included, as Claude Code and Codex send them.
      ROUTE_CLAUDE: "claude-sonnet-4-5 => anthropic/claude-sonnet-4-5, first/model-a",
      ROUTE_CODEX: "gpt-5.1-codex => second/model-b",
      ROUTE_FAST: "fast => weighted: first/model-a*3, second/model-b*1",
    },
    log: createLogger({ level: "debug", color: false, write: (line) => lines.push(line) }),
  });
  client = proxy.openai({ timeoutMs: 10_000 });
});

afterAll(async () => {
  await proxy.stop();
  await Promise.all([first.stop(), second.stop(), anthropic.stop()]);
});

/** A clean slate: scripts, calls and key state of every provider. */
function reset(): void {
  for (const mock of [first, second, anthropic]) mock.reset();
  for (const runtime of proxy.ctx.providers.values()) runtime.pool.reset();
}

function post(path: string, body: unknown): Promise<Response> {
  return proxy.request(path, { method: "POST", body: JSON.stringify(body) });
}

const keyStanding = (provider: string, key: string) => providerStanding(proxy, provider).keys.find((k) => k.id === keyId(key))!;

describe("a route is a model", () => {
  test("/v1/models lists every route by its name, owned by route", async () => {
    const data = ((await (await proxy.request("/v1/models")).json()) as any).data as { id: string; owned_by: string }[];
    for (const name of ["smart", "claude-sonnet-4-5", "gpt-5.1-codex", "fast"]) expect(data).toContainEqual(expect.objectContaining({ id: name, owned_by: "route" }));
    expect(data.some((model) => model.id.startsWith("first/"))).toBe(true);
  });

  test("while the first target can serve, it serves; x-proxy-route names it; the second is never asked", async () => {
    reset();
    const response = await post("/v1/chat/completions", { model: "smart", messages: MESSAGES });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-route")).toBe("smart=first/model-a");
    expect(((await response.json()) as any).choices[0].message.content).toBe(DEFAULT_CONTENT);
    expect(first.calls.map((call) => call.body.model)).toEqual(["model-a"]);
    expect(second.calls).toHaveLength(0);
  });
});

describe("falling through", () => {
  test("the first target's only key rate-limited: the second answers in the same request, and the next request goes straight to it", async () => {
    reset();
    first.script(FIRST_KEY, { kind: "rate_limit", retryAfterSeconds: 60 });
    const response = await post("/v1/chat/completions", { model: "smart", messages: MESSAGES });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-route")).toBe("smart=second/model-b");
    expect(first.calls).toHaveLength(1);
    expect(second.calls.map((call) => call.body.model)).toEqual(["model-b"]);
    expect(keyStanding("first", FIRST_KEY).coolingModels.map((cooling) => cooling.model)).toEqual(["model-a"]);

    // The first target is cooling: not asked again, and not waited for.
    const started = Date.now();
    const next = await client.chat.completions.create({ model: "smart", messages: MESSAGES });
    expect(next.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(first.calls).toHaveLength(1);
    expect(second.calls).toHaveLength(2);
  });

  test("a disabled key and a failing provider fall through too", async () => {
    reset();
    first.script(FIRST_KEY, { kind: "invalid_key" });
    expect((await post("/v1/chat/completions", { model: "smart", messages: MESSAGES })).headers.get("x-proxy-route")).toBe("smart=second/model-b");
    reset();
    first.setDefault({ kind: "server_error", status: 503 });
    const response = await post("/v1/chat/completions", { model: "smart", messages: MESSAGES });
    expect(response.headers.get("x-proxy-route")).toBe("smart=second/model-b");
    // No retry of the same key while another target could answer.
    expect(first.calls).toHaveLength(1);
  });

  test("a request fault is the client's: it goes back at once, and the second target is not asked", async () => {
    reset();
    first.script(FIRST_KEY, { kind: "bad_request" });
    const response = await post("/v1/chat/completions", { model: "smart", messages: MESSAGES });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-proxy-route")).toBe("smart=first/model-a");
    expect(second.calls).toHaveLength(0);
  });

  test("every target out: the last target's answer, honest status and Retry-After; each was asked once", async () => {
    reset();
    first.script(FIRST_KEY, { kind: "rate_limit", retryAfterSeconds: 60 });
    second.script(SECOND_KEY, { kind: "rate_limit", retryAfterSeconds: 45 });
    const response = await post("/v1/chat/completions", { model: "smart", messages: MESSAGES });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(30);
    expect(response.headers.get("x-proxy-route")).toBe("smart=second/model-b");
    expect([first.calls.length, second.calls.length]).toEqual([1, 1]);
  });

  test("streams: before the first byte the next target streams instead; after it, the stream is the answer and ends with an error", async () => {
    reset();
    first.script(FIRST_KEY, { kind: "rate_limit", retryAfterSeconds: 60 });
    const stream = await client.chat.completions.create({ model: "smart", messages: MESSAGES, stream: true });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(contentPieces(chunks).join("")).toBe(DEFAULT_CONTENT);
    expect(second.calls).toHaveLength(1);

    reset();
    first.script(FIRST_KEY, { kind: "error_mid_stream", afterChunks: 1 });
    const response = await post("/v1/chat/completions", { model: "smart", messages: MESSAGES, stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-route")).toBe("smart=first/model-a");
    const text = await response.text();
    expect(text).toContain('"error"');
    expect(second.calls).toHaveLength(0);
  });
});

describe("every front, across families", () => {
  test("Messages: Claude Code's own model name is a route; Anthropic out of service falls through to an OpenAI-compatible host, answered as a Message", async () => {
    reset();
    const direct = await post("/v1/messages", { model: "claude-sonnet-4-5", max_tokens: 64, messages: MESSAGES });
    expect(direct.headers.get("x-proxy-route")).toBe("claude-sonnet-4-5=anthropic/claude-sonnet-4-5");
    expect(((await direct.json()) as any).content[0].text).toBe(CLAUDE_TEXT);

    reset();
    anthropic.script(CLAUDE_KEY, { kind: "credit_balance" });
    const response = await post("/v1/messages", { model: "claude-sonnet-4-5", max_tokens: 64, messages: MESSAGES });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-route")).toBe("claude-sonnet-4-5=first/model-a");
    const message = (await response.json()) as any;
    expect(message.type).toBe("message");
    expect(message.content[0].text).toBe(DEFAULT_CONTENT);
  });

  test("Responses (Codex's model name), embeddings and the Gemini-native front use routes", async () => {
    reset();
    const responses = await post("/v1/responses", { model: "gpt-5.1-codex", input: "Hi" });
    expect(responses.status).toBe(200);
    expect(responses.headers.get("x-proxy-route")).toBe("gpt-5.1-codex=second/model-b");

    first.script(FIRST_KEY, { kind: "rate_limit", retryAfterSeconds: 60 });
    const embeddings = await post("/v1/embeddings", { model: "smart", input: ["a", "b"] });
    expect(embeddings.status).toBe(200);
    expect(embeddings.headers.get("x-proxy-route")).toBe("smart=second/model-b");

    const gemini = await post("/v1beta/models/smart:generateContent", { contents: [{ role: "user", parts: [{ text: "Hi" }] }] });
    expect(gemini.status).toBe(200);
    expect(gemini.headers.get("x-proxy-route")).toBe("smart=second/model-b");
    expect(((await gemini.json()) as any).candidates[0].content.parts[0].text).toBe(DEFAULT_CONTENT);
  });
});

describe("weighted routes", () => {
  test("first picks follow the weights (3:1 over 400 requests); a picked target that cannot serve falls back to the other", async () => {
    reset();
    for (let i = 0; i < 400; i++) expect((await post("/v1/chat/completions", { model: "fast", messages: MESSAGES })).status).toBe(200);
    const [a, b] = [first.calls.length, second.calls.length];
    expect(a + b).toBe(400);
    // Expected 300; 4.5 standard deviations either side.
    expect(a).toBeGreaterThan(260);
    expect(a).toBeLessThan(340);

    reset();
    first.script(FIRST_KEY, { kind: "rate_limit", retryAfterSeconds: 60 });
    for (let i = 0; i < 20; i++) expect((await post("/v1/chat/completions", { model: "fast", messages: MESSAGES })).status).toBe(200);
    expect(first.calls).toHaveLength(1);
    expect(second.calls).toHaveLength(20);
  });
});

describe("what the proxy says it did", () => {
  test("the log line, the detailed log and the metrics name the route and the target that served", async () => {
    reset();
    first.script(FIRST_KEY, { kind: "rate_limit", retryAfterSeconds: 60 });
    lines.length = 0;
    const response = await post("/v1/chat/completions", { model: "smart", messages: MESSAGES });
    const requestId = response.headers.get("x-request-id")!;
    await response.text();
    await Bun.sleep(50);
    expect(lines.find((line) => line.includes(requestId))).toContain("route smart → second/model-b");

    const metrics = await (await proxy.request("/metrics")).text();
    expect(metrics).toContain('llm_proxy_route_targets_total{route_name="smart",target="first/model-a",outcome="fell_through"}');
    expect(metrics).toMatch(/llm_proxy_route_targets_total\{route_name="smart",target="second\/model-b",outcome="served"\} \d+/);

    await proxy.ctx.requestLog.flush();
    const folder = readdirSync(join(logDir, "detailed_logs")).find((name) => name.endsWith(`_${requestId}`))!;
    const metadata = JSON.parse(readFileSync(join(logDir, "detailed_logs", folder, "metadata.json"), "utf8"));
    expect(metadata).toMatchObject({ route: "/v1/chat/completions", model_route: "smart", provider: "second", model: "model-b" });
    expect(metadata.fell_through).toEqual([{ target: "first/model-a", trace: [expect.objectContaining({ outcome: "rate_limit" })] }]);
  });
});
