/**
 * Bodies and names a hostile or broken client may send: nesting deep enough to overflow the
 * converters' recursion, model names long or numerous enough to bloat metrics and the database,
 * and control characters that would forge log lines or corrupt `/metrics`.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";

let mock: MockUpstream;
let proxy: ProxyHarness;

beforeAll(async () => {
  mock = await startMockUpstream();
  proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-hostile-key-aaaa1111", OPENAI_API_BASE: mock.url } });
});
afterAll(async () => {
  await proxy.stop();
  await mock.stop();
});

const post = (path: string, body: string) => proxy.request(path, { method: "POST", body });

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
    expect((await over.json()).error.message).toBe(DEPTH_MESSAGE);
  });
});
