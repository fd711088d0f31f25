/**
 * End-to-end tests of the proxy's HTTP API, driven the way users drive it: the real proxy on a
 * loopback port (test/support/proxy-harness.ts), its providers pointed at the scripted mock
 * upstream (test/support/mock-upstream.ts), and requests sent with the real `openai` SDK or with
 * plain fetch when the wire itself is the point (SSE framing, headers, malformed bodies).
 *
 * One proxy serves most tests. It is configured with:
 * - `openai`: two keys, base URL overridden to the mock, `gpt-oss*` ignored;
 * - `local`: a custom OpenAI-compatible provider on the mock, whitelist `zai-*` beating ignore `*`;
 * - `groq`: one key, base URL pointing at a closed loopback port (an upstream that is down);
 * - MAX_BODY_SIZE_MB=1.
 * The mock lists its default model ids (the Cerebras recording): gemma-4-31b, gpt-oss-120b,
 * zai-glm-4.7. Scripts and recorded calls are reset after every test.
 */

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { VERSION } from "../../src/version.ts";
import { countChatTokens, countTextTokens } from "../../src/tokens/count-tokens.ts";
import { parseSse, readFixtureJson } from "../support/fixtures.ts";
import { DEFAULT_CONTENT, startMockUpstream, type Behavior, type MockUpstream, type RecordedCall } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";

const KEY_A = "sk-proj-alpha-0001";
const KEY_B = "sk-proj-bravo-0002";
const LOCAL_KEY = "local-key-7777";
const GROQ_KEY = "gsk-down-9999";
const MODEL = "openai/gpt-4o";
const MESSAGES = [{ role: "user" as const, content: "Hello world" }];
const REQUEST_ID = /^req_[0-9a-f]{24}$/;

let mock: MockUpstream;
let proxy: ProxyHarness;
let client: OpenAI;

beforeAll(async () => {
  mock = await startMockUpstream();
  proxy = await startProxy({
    env: {
      OPENAI_API_KEY_1: KEY_A,
      OPENAI_API_KEY_2: KEY_B,
      OPENAI_API_BASE: mock.url,
      IGNORE_MODELS_OPENAI: "gpt-oss*",
      LOCAL_API_KEY: LOCAL_KEY,
      LOCAL_API_BASE: mock.url,
      WHITELIST_MODELS_LOCAL: "zai-*",
      IGNORE_MODELS_LOCAL: "*",
      GROQ_API_KEY: GROQ_KEY,
      GROQ_API_BASE: await closedPortBaseUrl(),
      MAX_BODY_SIZE_MB: "1",
    },
  });
  client = proxy.openai();
});

afterEach(() => mock.reset());

afterAll(async () => {
  await proxy?.stop();
  await mock?.stop();
});

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

/** A base URL on a loopback port that nothing listens on any more. */
async function closedPortBaseUrl(): Promise<string> {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const port = server.port;
  await server.stop(true);
  return `http://127.0.0.1:${port}/v1`;
}

/** Upstream calls whose path ends with `suffix` (every call when omitted). */
function upstreamCalls(suffix?: string): RecordedCall[] {
  return suffix === undefined ? [...mock.calls] : mock.calls.filter((call) => call.path.endsWith(suffix));
}

/** POST a JSON body (an object, or a raw string sent as is) to the proxy with the proxy key. */
function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return proxy.request(path, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}

function chatBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: MODEL, messages: MESSAGES, ...extra };
}

interface ExpectedError {
  status: number;
  type?: string;
  code?: string | null;
  param?: string | null;
  message: string | RegExp;
}

/** Assert an OpenAI-shaped error answer, exactly as a client sees it; returns the error object. */
async function expectError(response: Response, expected: ExpectedError): Promise<any> {
  expect(response.status).toBe(expected.status);
  expect(response.headers.get("content-type") ?? "").toContain("application/json");
  expect(response.headers.get("x-request-id") ?? "").toMatch(REQUEST_ID);
  const body: any = await response.json();
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  if (typeof expected.message === "string") expect(body.error.message).toBe(expected.message);
  else expect(body.error.message).toMatch(expected.message);
  if (expected.type !== undefined) expect(body.error.type).toBe(expected.type);
  if (expected.code !== undefined) expect(body.error.code).toBe(expected.code);
  if (expected.param !== undefined) expect(body.error.param).toBe(expected.param);
  return body.error;
}

/** The JSON payloads of an SSE body, in order, without `[DONE]`. */
function ssePayloads(text: string): any[] {
  return parseSse(text)
    .filter((event) => event.data !== "[DONE]")
    .map((event) => JSON.parse(event.data));
}

/** Collect every chunk of an SDK stream. */
async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const chunks: T[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

function streamedText(chunks: OpenAI.Chat.Completions.ChatCompletionChunk[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("");
}

function providerStanding(name: string) {
  return proxy.ctx.providers.get(name)!.pool.standing();
}

const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } },
  { type: "function", function: { name: "get_product_name", parameters: { type: "object", properties: {} } } },
];

// ---------------------------------------------------------------------------------------------
// 1. chat, non-stream
// ---------------------------------------------------------------------------------------------

describe("chat completions, non-stream", () => {
  test("the SDK gets the upstream's content, model and usage; the upstream gets the bare model", async () => {
    mock.setDefault({ kind: "success", content: "Hi there, human.", usage: { prompt: 12, completion: 4 } });

    const { data, response } = await client.chat.completions.create({ model: MODEL, messages: MESSAGES, temperature: 0.2 }).withResponse();

    expect(data.object).toBe("chat.completion");
    expect(data.choices).toHaveLength(1);
    expect(data.choices[0]!.message).toMatchObject({ role: "assistant", content: "Hi there, human." });
    expect(data.choices[0]!.finish_reason).toBe("stop");
    // Non-stream answers pass through: the model is the one the upstream reports.
    expect(data.model).toBe("gpt-4o");
    expect(data.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });

    const calls = upstreamCalls("/chat/completions");
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.body.model).toBe("gpt-4o");
    expect(call.body.messages).toEqual(MESSAGES);
    expect(call.body.temperature).toBe(0.2);
    expect([KEY_A, KEY_B]).toContain(call.key);

    expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);
    expect(response.headers.get("x-proxy-attempts")).toBe("1");
    expect(response.headers.get("x-proxy-key")).toBe(`...${call.key.slice(-4)}`);
  });

  test("client-supplied api_key / api_base / base_url never reach the upstream; other fields do", async () => {
    const response = await postJson(
      "/v1/chat/completions",
      chatBody({
        api_key: "sk-attacker-key",
        api_base: "http://attacker.invalid/v1",
        base_url: "http://attacker.invalid/v1",
        seed: 7,
        vendor_extension: { keep: true },
      }),
    );

    expect(response.status).toBe(200);
    const body: any = await response.json();
    expect(body.choices[0].message.content).toBe(DEFAULT_CONTENT);

    const calls = upstreamCalls();
    expect(calls).toHaveLength(1);
    const call = calls[0]!;
    expect(call.path).toBe("/v1/chat/completions");
    expect([KEY_A, KEY_B]).toContain(call.key);
    expect(call.body).not.toHaveProperty("api_key");
    expect(call.body).not.toHaveProperty("api_base");
    expect(call.body).not.toHaveProperty("base_url");
    expect(call.body.seed).toBe(7);
    expect(call.body.vendor_extension).toEqual({ keep: true });
  });

  test("a custom provider is reached with its own key and the model after its prefix", async () => {
    const completion = await client.chat.completions.create({ model: "local/zai-glm-4.7", messages: MESSAGES });

    expect(completion.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    const calls = upstreamCalls("/chat/completions");
    expect(calls.map((call) => [call.key, call.body.model])).toEqual([[LOCAL_KEY, "zai-glm-4.7"]]);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. chat, stream
// ---------------------------------------------------------------------------------------------

describe("chat completions, stream", () => {
  test("the SDK reassembles the text; no usage chunk reaches a client that did not ask, yet the upstream was asked for usage", async () => {
    mock.setDefault({ kind: "success", content: "Streaming works fine.", chunks: 4 });

    const chunks = await collect(await client.chat.completions.create({ model: MODEL, messages: MESSAGES, stream: true }));

    expect(streamedText(chunks)).toBe("Streaming works fine.");
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta?.content).length).toBe(4);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
    expect(chunks.filter((chunk) => chunk.choices.length === 0)).toEqual([]);
    expect(chunks.filter((chunk) => chunk.usage !== undefined && chunk.usage !== null)).toEqual([]);

    const calls = upstreamCalls("/chat/completions");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body.stream).toBe(true);
    expect(calls[0]!.body.model).toBe("gpt-4o");
    expect(calls[0]!.body.stream_options).toEqual({ include_usage: true });
  });

  test("a client that asks for usage gets exactly one usage chunk, last, with the upstream's counts", async () => {
    mock.setDefault({ kind: "success", content: "Counting tokens.", usage: { prompt: 21, completion: 4 } });

    const chunks = await collect(
      await client.chat.completions.create({ model: MODEL, messages: MESSAGES, stream: true, stream_options: { include_usage: true } }),
    );

    expect(streamedText(chunks)).toBe("Counting tokens.");
    const withUsage = chunks.filter((chunk) => chunk.usage !== undefined && chunk.usage !== null);
    expect(withUsage).toHaveLength(1);
    expect(withUsage[0]).toBe(chunks.at(-1)!);
    expect(withUsage[0]!.choices).toEqual([]);
    expect(withUsage[0]!.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 4, total_tokens: 25 });
    expect(upstreamCalls("/chat/completions")[0]!.body.stream_options).toEqual({ include_usage: true });
  });

  test("on the wire: an event stream with a request id, every event JSON, ended by exactly one [DONE]", async () => {
    mock.setDefault({ kind: "success", content: "abcdef", chunks: 3 });

    const response = await postJson("/v1/chat/completions", chatBody({ stream: true }));

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);
    const text = await response.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const events = parseSse(text);
    expect(events.filter((event) => event.data === "[DONE]")).toHaveLength(1);
    const payloads = ssePayloads(text);
    expect(payloads.every((payload) => payload.object === "chat.completion.chunk")).toBe(true);
    expect(payloads[0].choices[0].delta.role).toBe("assistant");
    expect(payloads.map((payload) => payload.choices[0]?.delta?.content ?? "").join("")).toBe("abcdef");
    expect(payloads.some((payload) => payload.choices.length === 0)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. tool calls
// ---------------------------------------------------------------------------------------------

describe("tool calls", () => {
  test("non-stream: two parallel tool calls come back intact with finish_reason tool_calls", async () => {
    mock.setDefault({ kind: "success", toolCalls: true });

    const completion = await client.chat.completions.create({ model: MODEL, messages: MESSAGES, tools: TOOLS });

    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      { id: "call_jYdIdRZHxZTn5bWCq5jlMrJi", type: "function", function: { name: "delete_file", arguments: '{"path": ".env"}' } },
      { id: "call_TmlTVWQbzrXCZ4jNsCVNbNqu", type: "function", function: { name: "create_file", arguments: '{"path": "test.txt"}' } },
    ]);
    expect(upstreamCalls("/chat/completions")[0]!.body.tools).toEqual(TOOLS);
  });

  test("stream: the SDK reassembles two parallel tool calls from deltas with indexes 0 and 1", async () => {
    mock.setDefault({ kind: "success", toolCalls: true });

    const stream = client.chat.completions.stream({ model: MODEL, messages: MESSAGES, tools: TOOLS });
    const chunks = await collect(stream);
    const final = await stream.finalChatCompletion();

    const indexes = new Set(chunks.flatMap((chunk) => (chunk.choices[0]?.delta?.tool_calls ?? []).map((call) => call.index)));
    expect([...indexes].sort()).toEqual([0, 1]);
    const choice = final.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.tool_calls).toMatchObject([
      { id: "call_NS4iQj14cDFwc0BnrKqDHavt", type: "function", function: { name: "get_weather", arguments: '{"city": "Mexico City"}' } },
      { id: "call_SkGkkGDvHQEEk0CGbnAh2AQw", type: "function", function: { name: "get_product_name", arguments: "{}" } },
    ]);
    // The client did not ask for usage: the usage-only chunk the proxy requested stays with it.
    expect(chunks.filter((chunk) => chunk.choices.length === 0)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. embeddings
// ---------------------------------------------------------------------------------------------

describe("embeddings", () => {
  test("string input: one vector, dimensions and the bare model forwarded", async () => {
    const recorded = readFixtureJson("openai/embeddings-single.json").data[0].embedding as number[];

    const result = await client.embeddings.create({ model: "openai/text-embedding-3-small", input: "The food was delicious", dimensions: 256 });

    expect(result.object).toBe("list");
    expect(result.data).toHaveLength(1);
    expect(result.data[0]!.index).toBe(0);
    expect(result.data[0]!.embedding).toHaveLength(recorded.length);
    expect(result.data[0]!.embedding[0]).toBeCloseTo(recorded[0]!, 6);
    expect(result.usage.prompt_tokens).toBe(Math.ceil("The food was delicious".length / 4));

    const calls = upstreamCalls("/embeddings");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body).toMatchObject({ model: "text-embedding-3-small", input: "The food was delicious", dimensions: 256 });
  });

  test("array input: one vector per input, in order", async () => {
    const result = await client.embeddings.create({ model: "openai/text-embedding-3-small", input: ["first input", "second input"], dimensions: 5 });

    expect(result.data.map((item) => item.index)).toEqual([0, 1]);
    expect(result.data.map((item) => item.embedding.length)).toEqual([5, 5]);
    const calls = upstreamCalls("/embeddings");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body.input).toEqual(["first input", "second input"]);
    expect(calls[0]!.body.dimensions).toBe(5);
  });

  test("input of the wrong type is a 400 naming input, with no upstream call", async () => {
    const response = await postJson("/v1/embeddings", { model: "openai/text-embedding-3-small", input: 42 });

    await expectError(response, { status: 400, type: "invalid_request_error", param: "input", message: /^input: / });
    expect(upstreamCalls()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. /v1/models
// ---------------------------------------------------------------------------------------------

describe("GET /v1/models", () => {
  const EXPECTED_MODELS = [
    { id: "openai/gemma-4-31b", object: "model", created: 0, owned_by: "Cerebras" },
    { id: "openai/zai-glm-4.7", object: "model", created: 0, owned_by: "Cerebras" },
    { id: "local/zai-glm-4.7", object: "model", created: 0, owned_by: "Cerebras" },
  ];

  test("prefixed, filtered ids; a provider that is down is named in a header, not an error", async () => {
    const response = await proxy.request("/v1/models");

    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-unavailable-providers")).toBe("groq");
    expect(await response.json()).toEqual({ object: "list", data: EXPECTED_MODELS });
  });

  test("the SDK lists the same ids", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(EXPECTED_MODELS.map((model) => model.id));
  });

  test("the list is cached: a second call asks no upstream again", async () => {
    const first = await (await proxy.request("/v1/models")).json();
    const listingsAfterFirst = upstreamCalls("/models").length;
    const second = await (await proxy.request("/v1/models")).json();

    expect(second).toEqual(first);
    expect(upstreamCalls("/models").length).toBe(listingsAfterFirst);
  });

  test("a filtered-out model requested in chat is a 404 with no upstream call", async () => {
    for (const model of ["openai/gpt-oss-120b", "openai/GPT-OSS-120B", "local/gemma-4-31b"]) {
      const response = await postJson("/v1/chat/completions", chatBody({ model }));
      const provider = model.slice(0, model.indexOf("/")).toUpperCase();
      await expectError(response, {
        status: 404,
        code: "model_not_found",
        message: `The model "${model}" is filtered out by IGNORE_MODELS_${provider} / WHITELIST_MODELS_${provider}.`,
      });
    }
    expect(upstreamCalls()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 6. /v1/providers
// ---------------------------------------------------------------------------------------------

describe("GET /v1/providers", () => {
  test("every configured provider with its key count and health, and no key in clear", async () => {
    const response = await proxy.request("/v1/providers");
    expect(response.status).toBe(200);
    const text = await response.text();
    const body = JSON.parse(text);

    expect(body.object).toBe("list");
    const rows = body.data.map((p: any) => ({ name: p.name, custom: p.custom, keys: p.keys, healthy: p.healthy, cooling: p.cooling, disabled: p.disabled, in_flight: p.in_flight }));
    expect(rows).toEqual([
      { name: "openai", custom: false, keys: 2, healthy: 2, cooling: 0, disabled: 0, in_flight: 0 },
      { name: "local", custom: true, keys: 1, healthy: 1, cooling: 0, disabled: 0, in_flight: 0 },
      { name: "groq", custom: false, keys: 1, healthy: 1, cooling: 0, disabled: 0, in_flight: 0 },
    ]);
    expect(body.data[0]).toMatchObject({ display_name: "OpenAI", family: "openai", group: "Model makers", base_url: mock.url, max_concurrent_per_key: null, incident: null });
    expect(body.data[1]).toMatchObject({ name: "local", group: "Custom" });
    for (const secret of [KEY_A, KEY_B, LOCAL_KEY, GROQ_KEY]) expect(text).not.toContain(secret);
  });

  test("the whole catalog, grouped: each provider's variables, example model and whether it is configured", async () => {
    const body: any = await (await proxy.request("/v1/providers")).json();
    expect(body.catalog.map((group: any) => group.group)).toEqual(["Model makers", "Clouds", "Inference hosts", "Routers and aggregators", "China and Asia", "Embeddings", "Local servers"]);
    const all = body.catalog.flatMap((group: any) => group.providers);
    const byName = Object.fromEntries(all.map((p: any) => [p.name, p]));
    expect(all.length).toBeGreaterThanOrEqual(36);
    expect(byName.openai).toMatchObject({ configured: true, key_variable: "OPENAI_API_KEY", example_model: "openai/gpt-4o-mini" });
    expect(byName.azure).toMatchObject({ configured: false, family: "azure", settings: ["AZURE_RESOURCE", "AZURE_API_VERSION"], base_url: "https://{resource}.openai.azure.com/openai/v1" });
    expect(byName.bedrock).toMatchObject({ family: "bedrock", settings: ["BEDROCK_REGION"] });
    expect(byName.ollama).toMatchObject({ keyless: true, key_variable: null, base_url: "http://localhost:11434/v1" });
    expect(byName.cloudflare.settings).toEqual(["CLOUDFLARE_ACCOUNT_ID"]);
  });

  test("a key rejected as invalid counts as disabled and a rate-limited one as cooling", async () => {
    const keys = { invalid: "mk-invalid-1111", limited: "mk-limited-2222", good: "mk-good-3333" };
    const own = await startProxy({ env: { MIXED_API_KEY_1: keys.invalid, MIXED_API_KEY_2: keys.limited, MIXED_API_KEY_3: keys.good, MIXED_API_BASE: mock.url } });
    try {
      mock.script(keys.invalid, { kind: "invalid_key" });
      mock.script(keys.limited, { kind: "rate_limit", retryAfterSeconds: 120 });
      const ownClient = own.openai();
      // Each request succeeds (on the good key at the latest); least-recently-used selection
      // reaches the other two keys within three requests.
      for (let i = 0; i < 3 && (mock.callsFor(keys.invalid).length === 0 || mock.callsFor(keys.limited).length === 0); i++) {
        const completion = await ownClient.chat.completions.create({ model: "mixed/some-model", messages: MESSAGES });
        expect(completion.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
      }
      expect(mock.callsFor(keys.invalid)).toHaveLength(1);
      expect(mock.callsFor(keys.limited)).toHaveLength(1);

      const body: any = await (await own.request("/v1/providers")).json();
      expect(body.data).toHaveLength(1);
      expect(body.data[0]).toMatchObject({ name: "mixed", custom: true, keys: 3, healthy: 1, cooling: 1, disabled: 1, in_flight: 0 });
    } finally {
      await own.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// 7. /v1/token-count
// ---------------------------------------------------------------------------------------------

describe("POST /v1/token-count", () => {
  test("messages: the chat-framed count of the local tokenizer", async () => {
    const response = await postJson("/v1/token-count", { model: MODEL, messages: MESSAGES });

    expect(response.status).toBe(200);
    const body: any = await response.json();
    // 3 priming + 3 per message + "user" (1) + "Hello world" (2) on o200k_base.
    expect(body).toEqual({ token_count: 9, model: MODEL, encoding: "o200k_base" });
    expect(body.token_count).toBe(countChatTokens(MESSAGES, "gpt-4o"));
  });

  test("text: the plain count, tokenizer chosen by the bare model", async () => {
    const gpt4o: any = await (await postJson("/v1/token-count", { model: MODEL, text: "Hello world" })).json();
    expect(gpt4o).toEqual({ token_count: 2, model: MODEL, encoding: "o200k_base" });

    const gpt4: any = await (await postJson("/v1/token-count", { model: "openai/gpt-4", text: "Hello world" })).json();
    expect(gpt4).toMatchObject({ token_count: countTextTokens("Hello world", "gpt-4"), encoding: "cl100k_base" });
  });

  test("special-token text such as <|endoftext|> is counted as ordinary text, not rejected", async () => {
    const response = await postJson("/v1/token-count", { model: MODEL, text: "<|endoftext|>" });

    expect(response.status).toBe(200);
    const body: any = await response.json();
    expect(body.token_count).toBe(countTextTokens("<|endoftext|>", "gpt-4o"));
    expect(body.token_count).toBe(7);

    const inMessage = await postJson("/v1/token-count", { model: MODEL, messages: [{ role: "user", content: "<|endoftext|>" }] });
    expect(inMessage.status).toBe(200);
    expect(((await inMessage.json()) as any).token_count).toBe(3 + 3 + 1 + 7);
  });

  test("a missing model is a 400 naming model", async () => {
    const response = await postJson("/v1/token-count", { messages: MESSAGES });
    await expectError(response, { status: 400, type: "invalid_request_error", param: "model", message: /^model: is required/ });
  });

  test("neither messages nor text is a 400 that says so", async () => {
    const response = await postJson("/v1/token-count", { model: MODEL });
    await expectError(response, { status: 400, param: "messages", message: "messages: needs either messages or text" });
  });
});

// ---------------------------------------------------------------------------------------------
// 8. auth, request ids, CORS
// ---------------------------------------------------------------------------------------------

describe("auth, request ids and CORS", () => {
  const UNAUTHORIZED: ExpectedError = {
    status: 401,
    type: "authentication_error",
    code: "invalid_proxy_key",
    param: null,
    message: "Missing or wrong proxy key: send Authorization: Bearer <PROXY_API_KEY> (or x-api-key).",
  };

  test("no key is a 401 OpenAI-shaped error, and nothing goes upstream", async () => {
    const response = await proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify(chatBody()), auth: false });
    await expectError(response, UNAUTHORIZED);
    expect(upstreamCalls()).toEqual([]);
  });

  test("a wrong key is a 401, for raw requests and for the SDK", async () => {
    const response = await proxy.request("/v1/models", { auth: false, headers: { authorization: "Bearer not-the-proxy-key" } });
    await expectError(response, UNAUTHORIZED);

    const wrong = new OpenAI({ baseURL: proxy.baseURL, apiKey: "not-the-proxy-key", maxRetries: 0 });
    const error = await wrong.chat.completions.create({ model: MODEL, messages: MESSAGES }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: "invalid_proxy_key" });
    expect(upstreamCalls()).toEqual([]);
  });

  test("x-api-key is accepted in place of Authorization", async () => {
    const response = await proxy.request("/v1/providers", { auth: false, headers: { "x-api-key": proxy.proxyKey } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).object).toBe("list");
  });

  test("GET / and GET /healthz answer without a key", async () => {
    for (const path of ["/", "/healthz"]) {
      const response = await proxy.request(path, { auth: false });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);
      expect(await response.json()).toEqual({ status: "ok", service: "llm-key-proxy", version: VERSION });
    }
  });

  test("unknown routes are OpenAI-shaped 404s, and every answer has its own request id", async () => {
    const inside = await proxy.request("/v1/no-such-route");
    await expectError(inside, { status: 404, code: "unknown_route", message: /^No route GET \/v1\/no-such-route\./ });
    const outside = await proxy.request("/no-such-route", { auth: false });
    await expectError(outside, { status: 404, code: "unknown_route", message: /^No route GET \/no-such-route\./ });

    const ids = await Promise.all([1, 2, 3].map(async () => (await proxy.request("/healthz", { auth: false })).headers.get("x-request-id")));
    expect(new Set(ids).size).toBe(3);
  });

  test("a CORS preflight is answered without a key, allowing the origin and the auth header", async () => {
    const response = await proxy.request("/v1/chat/completions", {
      method: "OPTIONS",
      auth: false,
      headers: {
        origin: "http://localhost:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });

    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);
  });

  test("a cross-origin call exposes the proxy's headers to the browser", async () => {
    const response = await proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify(chatBody()), headers: { origin: "http://localhost:5173" } });

    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = (response.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    for (const header of ["x-request-id", "x-proxy-attempts", "retry-after"]) expect(exposed).toContain(header);
  });

  test("a call without Origin (an SDK, curl) gets no CORS headers; an OPTIONS without Origin is still a 204", async () => {
    const response = await proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify(chatBody()) });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("x-request-id")).toMatch(REQUEST_ID);

    const preflight = await proxy.request("/v1/chat/completions", { method: "OPTIONS", auth: false });
    expect(preflight.status).toBe(204);
  });
});

// ---------------------------------------------------------------------------------------------
// 9. bad input
// ---------------------------------------------------------------------------------------------

describe("bad input", () => {
  const cases: { name: string; path?: string; body: unknown; expected: ExpectedError }[] = [
    {
      name: "malformed JSON",
      body: '{"model": "openai/gpt-4o", "messages": [',
      expected: { status: 400, type: "invalid_request_error", param: null, message: /^The request body is not valid JSON \(.+\)\.$/ },
    },
    {
      name: "an empty body",
      body: "",
      expected: { status: 400, param: null, message: "The request body is empty; send a JSON object." },
    },
    {
      name: "a JSON array as the body",
      body: [chatBody()],
      expected: { status: 400, param: null, message: "The request body must be a JSON object." },
    },
    {
      name: "a missing model",
      body: { messages: MESSAGES },
      expected: { status: 400, type: "invalid_request_error", param: "model", message: 'model: is required and must be a string like "openai/gpt-4o-mini"' },
    },
    {
      name: "a model without a provider prefix",
      body: chatBody({ model: "gpt-4o" }),
      expected: {
        status: 400,
        code: "model_without_provider",
        param: "model",
        message: 'model must be "provider/model" (for example "openai/<model>"); got "gpt-4o". Configured providers: openai, local, groq.',
      },
    },
    {
      name: "an unknown provider",
      body: chatBody({ model: "nope/gpt-4o" }),
      expected: { status: 404, type: "not_found_error", code: "unknown_provider", message: /^Unknown provider "nope": no NOPE_API_KEY is configured\. Configured providers: openai, local, groq\.$/ },
    },
    {
      name: 'temperature "hot"',
      body: chatBody({ temperature: "hot" }),
      expected: { status: 400, type: "invalid_request_error", param: "temperature", message: /^temperature: .*number/ },
    },
    {
      name: "messages that are not an array",
      body: chatBody({ messages: "Hello world" }),
      expected: { status: 400, param: "messages", message: "messages: is required and must be an array of messages" },
    },
    {
      name: "a message without a role",
      body: chatBody({ messages: [{ content: "Hello world" }] }),
      expected: { status: 400, param: "messages[0].role", message: 'messages[0].role: must be a string such as "user" or "assistant"' },
    },
  ];

  for (const { name, path, body, expected } of cases) {
    test(`${name} ⇒ ${expected.status}, with no upstream call`, async () => {
      const response = await postJson(path ?? "/v1/chat/completions", typeof body === "string" ? body : JSON.stringify(body));
      await expectError(response, expected);
      expect(upstreamCalls()).toEqual([]);
    });
  }

  test("the SDK surfaces a bad request as BadRequestError with param and code", async () => {
    const error = await client.chat.completions.create({ model: "gpt-4o", messages: MESSAGES }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: "model", code: "model_without_provider", type: "invalid_request_error" });
  });

  /** A chat body whose one message is `bytes` long. */
  function chatOfSize(bytes: number): string {
    return JSON.stringify(chatBody({ messages: [{ role: "user", content: "x".repeat(bytes) }] }));
  }

  for (const [label, bytes] of [["1.5 MiB", 1.5 * 1024 * 1024], ["2 MiB", 2 * 1024 * 1024]] as const) {
    test(`a ${label} body over MAX_BODY_SIZE_MB=1 ⇒ OpenAI-shaped 413, with no upstream call`, async () => {
      const response = await postJson("/v1/chat/completions", chatOfSize(bytes));

      await expectError(response, { status: 413, code: "request_too_large", param: null, message: "The request body is larger than 1 MiB (MAX_BODY_SIZE_MB)." });
      expect(upstreamCalls()).toEqual([]);
    });
  }

  test("a body just under MAX_BODY_SIZE_MB is served", async () => {
    const bytes = 1024 * 1024 - 200;
    const response = await postJson("/v1/chat/completions", chatOfSize(bytes));

    expect(response.status).toBe(200);
    expect(upstreamCalls("/chat/completions")[0]!.body.messages[0].content).toHaveLength(bytes);
  });
});

// ---------------------------------------------------------------------------------------------
// 10. upstream request faults
// ---------------------------------------------------------------------------------------------

describe("an upstream 400 caused by the request", () => {
  const UPSTREAM_MESSAGE = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.";
  const badRequest: Behavior = { kind: "bad_request" };

  function expectKeysHealthy(): void {
    const standing = providerStanding("openai");
    expect({ healthy: standing.healthy, cooling: standing.cooling, disabled: standing.disabled }).toEqual({ healthy: 2, cooling: 0, disabled: 0 });
    for (const key of standing.keys) {
      expect(key.coolingModels).toEqual([]);
      expect(key.disabledUntil).toBe(0);
      expect(key.inFlight).toBe(0);
    }
  }

  test("non-stream: the SDK gets 400 with the upstream's message and param after one call; no key is blamed", async () => {
    mock.script(KEY_A, badRequest);
    mock.script(KEY_B, badRequest);

    const error = await client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 5 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, type: "invalid_request_error", param: "max_tokens", code: "unsupported_parameter" });
    expect((error as { error?: unknown }).error).toMatchObject({ message: UPSTREAM_MESSAGE });
    expect(upstreamCalls("/chat/completions")).toHaveLength(1);
    expectKeysHealthy();
  });

  test("stream: the same 400 arrives as an HTTP error before any event, after one call", async () => {
    mock.script(KEY_A, badRequest);
    mock.script(KEY_B, badRequest);

    const response = await postJson("/v1/chat/completions", chatBody({ stream: true, max_tokens: 5 }));

    await expectError(response, { status: 400, type: "invalid_request_error", code: "unsupported_parameter", param: "max_tokens", message: UPSTREAM_MESSAGE });
    expect(response.headers.get("x-proxy-attempts")).toBe("1");
    expect(upstreamCalls("/chat/completions")).toHaveLength(1);
    expectKeysHealthy();
  });

  test("repeated request faults never cool a key: each is one call and a 400, never a 429", async () => {
    mock.setDefault(badRequest);

    for (let i = 0; i < 4; i++) {
      const response = await postJson("/v1/chat/completions", chatBody({ max_tokens: 5 }));
      await expectError(response, { status: 400, param: "max_tokens", message: UPSTREAM_MESSAGE });
    }

    expect(upstreamCalls("/chat/completions")).toHaveLength(4);
    expectKeysHealthy();
  });
});
