/**
 * Bodies and names a hostile or broken client may send: nesting deep enough to overflow the
 * converters' recursion, model names long or numerous enough to bloat metrics and the database,
 * and control characters that would forge log lines or corrupt `/metrics`.
 */

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createLogger } from "../../src/logging/logger.ts";
import { startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";

const KEY = "sk-hostile-key-aaaa1111";
let mock: MockUpstream;
let proxy: ProxyHarness;
/** The console lines the proxy writes, after its own redaction (see `consoleLines`). */
let consoleSink: string[] | undefined;

beforeAll(async () => {
  mock = await startMockUpstream();
  const log = createLogger({ level: "info", color: false, write: (line) => consoleSink?.push(line) });
  proxy = await startProxy({ env: { OPENAI_API_KEY: KEY, OPENAI_API_BASE: mock.url }, log });
});
afterAll(async () => {
  await proxy.stop();
  await mock.stop();
});
afterEach(() => mock.reset());

const post = (path: string, body: string) => proxy.request(path, { method: "POST", body });
const json = async (response: Response): Promise<any> => response.json();
const chat = (model: string) => post("/v1/chat/completions", JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }));

/** `levels` arrays inside one another, as a JSON value. */
const nested = (levels: number): string => `${"[".repeat(levels)}${"]".repeat(levels)}`;

const DEPTH_MESSAGE = "The request body nests arrays and objects more than 64 levels deep; the limit is 64.";

describe("deeply nested JSON", () => {
  const deep = nested(100_000);
  const deepObject = `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`;
  const openaiRoutes: [string, string][] = [
    ["/v1/chat/completions", `{"model":"openai/gpt-4o","messages":[{"role":"user","content":${deep}}]}`],
    ["/v1/chat/completions", `{"model":"openai/gpt-4o","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${deepObject}}}]}`],
    ["/v1/embeddings", `{"model":"openai/text-embedding-3-small","input":${deep}}`],
    ["/v1/responses", `{"model":"openai/gpt-4o","input":${deep}}`],
    ["/v1/token-count", `{"model":"openai/gpt-4o","messages":${deep}}`],
  ];
  for (const [path, body] of openaiRoutes) {
    test(`${path} answers 400 with the limit, before any upstream call`, async () => {
      const calls = mock.calls.length;
      const response = await post(path, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: { message: DEPTH_MESSAGE, type: "invalid_request_error", code: null, param: null } });
      expect(mock.calls.length).toBe(calls);
    });
  }

  test("/v1/messages answers an Anthropic-shaped 400", async () => {
    const response = await post("/v1/messages", `{"model":"openai/gpt-4o","max_tokens":10,"messages":[{"role":"user","content":${deep}}]}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ type: "error", error: { type: "invalid_request_error", message: DEPTH_MESSAGE } });
  });

  test("the Gemini API answers a Google-shaped 400", async () => {
    const response = await post("/v1beta/models/openai/gpt-4o:generateContent", `{"contents":${deep}}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: 400, message: DEPTH_MESSAGE, status: "INVALID_ARGUMENT" } });
  });

  test("64 levels are served, 65 are not", async () => {
    // The body, `tools`, the tool and `function` are four levels; the parameters schema adds the rest.
    const at = (levels: number) =>
      `{"model":"openai/gpt-4o","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${'{"a":'.repeat(levels - 4)}1${"}".repeat(levels - 4)}}}]}`;
    expect((await post("/v1/chat/completions", at(64))).status).toBe(200);
    const over = await post("/v1/chat/completions", at(65));
    expect(over.status).toBe(400);
    expect((await json(over)).error.message).toBe(DEPTH_MESSAGE);
  });
});

describe("client-chosen model names", () => {
  test("a name longer than 256 characters is a 400 that does not echo it", async () => {
    const long = `openai/${"m".repeat(100_000)}`;
    const response = await chat(long);
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({
      error: { message: "model is 100007 characters long; the longest accepted is 256.", type: "invalid_request_error", code: "model_too_long", param: "model" },
    });
    expect((await chat(`openai/${"m".repeat(249)}`)).status).toBe(200);
    expect((await chat(`openai/${"m".repeat(250)}`)).status).toBe(400);
    const gemini = await post(`/v1beta/models/openai/${"m".repeat(300)}:generateContent`, '{"contents":[{"parts":[{"text":"hi"}]}]}');
    expect(gemini.status).toBe(400);
    expect((await json(gemini)).error.message).toBe("model is 307 characters long; the longest accepted is 256.");
    expect(await (await proxy.request("/metrics")).text()).not.toContain("m".repeat(257));
  });

  test("a model the provider does not have adds no usage row", async () => {
    const usage = async () => (await json(await proxy.request("/v1/stats?provider=openai"))).providers[0].keys[0].usage;
    const before = await usage();
    mock.script(KEY, { kind: "not_found" });
    for (let i = 0; i < 3; i++) expect((await chat(`openai/invented-${i}`)).status).toBe(404);
    const after = await usage();
    expect(after.all_time).toEqual(before.all_time);
    expect(Object.keys(after.today_by_model).filter((model) => model.startsWith("invented-"))).toEqual([]);
    expect((await proxy.ctx.store.usage({ provider: "openai" })).filter((row) => row.model.startsWith("invented-"))).toEqual([]);
  });
});

describe("control characters and secrets in what the client sends", () => {
  /** The console lines written while `run` goes on. */
  async function consoleLines(run: () => Promise<unknown>): Promise<string[]> {
    const lines: string[] = [];
    consoleSink = lines;
    try {
      await run();
    } finally {
      consoleSink = undefined;
    }
    return lines;
  }

  test("a newline in the model cannot forge a console line", async () => {
    const lines = await consoleLines(async () => expect((await chat("openai/m1\n19:00:00 ERROR FORGED LINE")).status).toBe(200));
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d INFO  req_[0-9a-f]{24}  127\.0\.0\.1:\d+  POST \/v1\/chat\/completions  openai\/m1\\n19:00:00 ERROR FORGED LINE  key …1111  1 attempt  → 200  \d+ ms  10\+5 tokens$/,
    );
  });

  test("a secret sent as the model is masked in the console line", async () => {
    const lines = await consoleLines(async () => expect((await chat(`openai/${KEY}`)).status).toBe(200));
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("  POST /v1/chat/completions  openai/…1111  key …1111  1 attempt  → 200  ");
    expect(lines[0]).not.toContain(KEY);
  });

  test("an upstream error that echoes the key stays masked in the console line that quotes it", async () => {
    mock.script(KEY, { kind: "raw", status: 401, headers: { "content-type": "application/json" }, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}.` } }) });
    const lines = await consoleLines(async () => proxy.request("/v1/models?refresh=1"));
    const quoting = lines.filter((line) => line.includes("Incorrect API key"));
    expect(quoting.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toContain(KEY);
  });

  test("a NUL or newline in the model leaves /metrics valid text", async () => {
    expect((await chat("openai/nul\u0000model\nx")).status).toBe(200);
    const text = await (await proxy.request("/metrics")).text();
    expect(text).not.toContain("\u0000");
    expect(text).toContain('llm_proxy_upstream_attempts_total{provider="openai",model="nul\uFFFDmodel\\nx",outcome="ok"} 1');
  });
});
