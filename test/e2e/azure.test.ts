/**
 * Azure OpenAI end to end: the real proxy in front of two scripted Azure resources (two mocks),
 * configured as a user's `.env` would: key 1 on resource A through the v1 API
 * (`AZURE_API_BASE_1=<A>/openai/v1`), key 2 on resource B through the classic deployment URLs
 * (`AZURE_API_BASE_2=<B>`, `AZURE_API_VERSION`). Driven with the real `openai` client (raw fetch where
 * the exact bytes matter). Each test checks what the client sees, which resource answered with
 * which URL and header, and the keys' standing in `GET /v1/stats`:
 *
 * - answers pass through with Azure's content filter annotations (`prompt_filter_results`,
 *   `content_filter_results`), whole and streamed, text and tool calls;
 * - each style gets its URL, the `api-key` header (never `Authorization`) and its api-version;
 * - a 429 cools the key for `retry-after-ms`, a 401 / 403 disables it, a 500 rotates; the prompt
 *   filter's 400, a missing deployment's 404 and v1's unknown_model 400 go back to the client
 *   without trying the other resource;
 * - a stream the content filter cuts ends with finish_reason content_filter, not an error;
 * - embeddings, `GET /v1/models` and `/v1/responses` (AZURE_RESPONSES=native) on both styles.
 */

import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { parseSse, readFixtureJson, readFixtureText, readSseJson } from "../support/fixtures.ts";
import { DEFAULT_CONTENT, FIXTURE, startMockAzure, type AzureBehavior, type MockAzure } from "../support/mock-azure.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { errorBody, FAST_ENV, stopRigAfterEach } from "./rig-helpers.ts";

/** Two Azure keys as the portal shows them: 32 hex digits, last four distinct. */
const KEY_A = "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f";
const KEY_B = "0a1b2c3d4e5f60718293a4b5c6d7e8f1";
const API_VERSION = "2024-10-21";
const DEPLOYMENT = "gpt-4o";
const EMBEDDING_DEPLOYMENT = "text-embedding-3-small";
const MODEL = `azure/${DEPLOYMENT}`;
const MESSAGES = [{ role: "user" as const, content: "What is the capital of France?" }];
const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: "function", function: { name: "secret_retrieval_tool", parameters: { type: "object", properties: { password: { type: "string" } }, required: ["password"] } } },
];

interface AzureRig {
  /** Resource A, reached by key 1 through the v1 API. */
  a: MockAzure;
  /** Resource B, reached by key 2 through the classic deployment URLs. */
  b: MockAzure;
  proxy: ProxyHarness;
  client: OpenAI;
}

const keep = stopRigAfterEach<AzureRig>((rig) => [rig.a, rig.b]);

async function start(env: Record<string, string> = {}): Promise<AzureRig> {
  const deployments = [DEPLOYMENT, EMBEDDING_DEPLOYMENT];
  const [a, b] = await Promise.all([startMockAzure({ deployments }), startMockAzure({ deployments, region: "West Europe" })]);
  const proxy = await startProxy({
    env: {
      ...FAST_ENV,
      AZURE_API_KEY_1: KEY_A,
      AZURE_API_BASE_1: a.v1,
      AZURE_API_KEY_2: KEY_B,
      AZURE_API_BASE_2: b.url,
      AZURE_API_VERSION: API_VERSION,
      ...env,
    },
  });
  return keep({ a, b, proxy, client: proxy.openai() });
}

/** A chat through the proxy with raw fetch (status, headers and bytes as sent). */
function rawChat(proxy: ProxyHarness, body: Record<string, unknown> = {}): Promise<Response> {
  return proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: MODEL, messages: MESSAGES, ...body }) });
}

async function azureStats(proxy: ProxyHarness): Promise<any> {
  const stats = (await (await proxy.request("/v1/stats")).json()) as any;
  return stats.providers.find((p: any) => p.name === "azure");
}

/** Key 1's row in the stats (keys with their own endpoint show as `…last4@host`). */
async function keyRow(proxy: ProxyHarness, secret: string): Promise<any> {
  const row = (await azureStats(proxy)).keys.find((key: any) => key.key.startsWith(`…${secret.slice(-4)}@`));
  if (!row) throw new Error(`no stats row for …${secret.slice(-4)}`);
  return row;
}

const payloadsOf = (text: string): any[] => parseSse(text).filter((e) => e.data !== "[DONE]").map((e) => JSON.parse(e.data));

/** The arguments of each streamed tool call, fragments joined in order, by index. */
function joinedArguments(chunks: readonly any[]): string[] {
  const byIndex: string[] = [];
  for (const chunk of chunks) for (const call of chunk.choices?.[0]?.delta?.tool_calls ?? []) byIndex[call.index] = (byIndex[call.index] ?? "") + (call.function?.arguments ?? "");
  return byIndex;
}

async function apiError(work: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpenAI.APIError);
  return error as InstanceType<typeof OpenAI.APIError>;
}

describe("answers pass through with Azure's content filter annotations", () => {
  test("non-stream chat: prompt_filter_results and content_filter_results reach the client", async () => {
    const { a, client } = await start();
    const completion = await client.chat.completions.create({ model: MODEL, messages: MESSAGES });
    const recorded = readFixtureJson(FIXTURE.chatText);
    expect(completion.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect((completion as any).prompt_filter_results).toEqual(recorded.prompt_filter_results);
    expect((completion.choices[0] as any).content_filter_results).toEqual(recorded.choices[0].content_filter_results);
    expect(a.calls).toHaveLength(1);
  });

  test("a recorded stream reaches the client byte for byte when it asked for usage; its text is the recorded text", async () => {
    const { a, proxy } = await start();
    a.script(KEY_A, { kind: "fixture", file: FIXTURE.streamText });
    const response = await rawChat(proxy, { stream: true, stream_options: { include_usage: true } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    const text = await response.text();
    expect(text).toBe(readFixtureText(FIXTURE.streamText));
    const recordedText = readSseJson(FIXTURE.streamText).map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("");
    expect(payloadsOf(text).map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("")).toBe(recordedText);
  });

  test("through the SDK the same stream gives the recorded text, the prompt_filter_results chunk first, and no usage chunk it did not ask for", async () => {
    const { a, client } = await start();
    a.script(KEY_A, { kind: "fixture", file: FIXTURE.streamText });
    const chunks: any[] = [];
    for await (const chunk of await client.chat.completions.create({ model: MODEL, messages: MESSAGES, stream: true })) chunks.push(chunk);
    const recorded = readSseJson(FIXTURE.streamText);
    expect(chunks[0]).toEqual(recorded[0]);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("")).toBe(recorded.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join(""));
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
    // The proxy asked Azure for usage on the client's behalf (to count tokens), then dropped that chunk.
    expect(a.calls[0]!.body.stream_options).toEqual({ include_usage: true });
  });

  test("a streamed tool call: the argument fragments join to the recorded JSON, for both parallel calls", async () => {
    const { a, client } = await start();
    a.script(KEY_A, { kind: "success", toolCalls: true });
    const chunks: any[] = [];
    for await (const chunk of await client.chat.completions.create({ model: MODEL, messages: MESSAGES, tools: TOOLS, stream: true })) chunks.push(chunk);
    const expected = joinedArguments(readSseJson(FIXTURE.streamToolCalls));
    expect(expected).toEqual(['{"password": "mellon"}', '{"password": "radiance"}']);
    expect(joinedArguments(chunks)).toEqual(expected);
    expect(chunks.flatMap((chunk) => chunk.choices[0]?.delta?.tool_calls ?? []).flatMap((call: any) => call.function?.name ?? [])).toEqual(["secret_retrieval_tool", "secret_retrieval_tool"]);
    expect(chunks.at(-1).choices[0].finish_reason).toBe("tool_calls");
    expect(a.calls[0]!.body.tools).toEqual(TOOLS);
  });

  test("non-stream parallel tool calls arrive as recorded", async () => {
    const { a, client } = await start();
    a.script(KEY_A, { kind: "success", toolCalls: true });
    const completion = await client.chat.completions.create({ model: MODEL, messages: MESSAGES, tools: TOOLS });
    const recorded = readFixtureJson(FIXTURE.chatToolCalls).choices[0];
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
    expect(completion.choices[0]!.message.tool_calls).toEqual(recorded.message.tool_calls);
    expect((completion.choices[0] as any).content_filter_results).toEqual({});
  });

  test("a stream the content filter cuts off ends with finish_reason content_filter and the filtered category, not an error", async () => {
    const { a, proxy } = await start();
    a.script(KEY_A, { kind: "output_filtered", afterChunks: 2, category: "violence" });
    const response = await rawChat(proxy, { stream: true });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const chunks = payloadsOf(text);
    expect(chunks.some((chunk) => chunk.error !== undefined)).toBe(false);
    const last = chunks.at(-1).choices[0];
    expect(last.finish_reason).toBe("content_filter");
    expect(last.content_filter_results.violence).toEqual({ filtered: true, severity: "medium" });
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta?.content).length).toBe(2);
    // The answer was delivered as Azure ended it: one attempt, the key not blamed.
    expect(a.calls).toHaveLength(1);
    expect((await keyRow(proxy, KEY_A)).state).toBe("ok");
  });
});

describe("URLs, headers and api-version per style", () => {
  test("v1 key: {base}/chat/completions with the deployment as model; classic key: /openai/deployments/<dep>/chat/completions?api-version; api-key only", async () => {
    const { a, b, client, proxy } = await start();
    // Least recently used first: the first request takes key 1, the second key 2.
    await client.chat.completions.create({ model: MODEL, messages: MESSAGES });
    await client.chat.completions.create({ model: MODEL, messages: MESSAGES });
    const [v1] = a.calls;
    const [classic] = b.calls;
    expect(v1).toMatchObject({ method: "POST", path: "/openai/v1/chat/completions", query: "", style: "v1", key: KEY_A, authorization: "", deployment: DEPLOYMENT });
    expect(v1!.body.model).toBe(DEPLOYMENT);
    expect(classic).toMatchObject({ method: "POST", path: `/openai/deployments/${DEPLOYMENT}/chat/completions`, query: `?api-version=${API_VERSION}`, style: "deployments", key: KEY_B, authorization: "", apiVersion: API_VERSION });
    // Neither resource saw the other's key, nor the proxy's own key.
    for (const call of [...a.calls, ...b.calls]) expect(JSON.stringify(call)).not.toContain(proxy.proxyKey);
    expect(a.calls.map((call) => call.key)).toEqual([KEY_A]);
    expect(b.calls.map((call) => call.key)).toEqual([KEY_B]);
  });

  test.each([
    ["AZURE_API_VERSION is the classic key's api-version", { AZURE_API_VERSION: "2024-12-01-preview" }, "2024-12-01-preview"],
    ["AZURE_API_VERSION_2 overrides it for key 2 alone", { AZURE_API_VERSION_2: "2025-01-01-preview" }, "2025-01-01-preview"],
  ])("%s", async (_name, env, expected) => {
    const { a, b, client } = await start(env);
    await client.chat.completions.create({ model: MODEL, messages: MESSAGES });
    await client.chat.completions.create({ model: MODEL, messages: MESSAGES });
    expect(b.calls.map((call) => call.query)).toEqual([`?api-version=${expected}`]);
    // The v1 API takes no api-version.
    expect(a.calls.map((call) => call.query)).toEqual([""]);
  });
});

describe("rotation across resources", () => {
  test("a 429 with retry-after-ms on key 1: key 2 answers, and key 1 cools for exactly retry-after-ms", async () => {
    const { a, b, client, proxy } = await start();
    // retry-after says 3 s and the message "retry after 3 seconds"; retry-after-ms is the precise hint.
    a.script(KEY_A, { kind: "rate_limit", retryAfterMs: 2500 });
    const before = Date.now();
    const { data, response } = await client.chat.completions.create({ model: MODEL, messages: MESSAGES }).withResponse();
    const after = Date.now();
    expect(data.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(1);

    const row = await keyRow(proxy, KEY_A);
    expect(row.state).toBe("cooling");
    expect(row.cooling).toHaveLength(1);
    expect(row.cooling[0]).toMatchObject({ model: DEPLOYMENT, strikes: 1 });
    expect(row.cooling[0].reason).toContain("rate limited");
    const until = Date.parse(row.cooling[0].until);
    expect(until).toBeGreaterThanOrEqual(before + 2500);
    expect(until).toBeLessThanOrEqual(after + 2500 + 5);
    expect((await keyRow(proxy, KEY_B)).state).toBe("ok");

    // While it cools, key 2 serves without key 1 being tried.
    await client.chat.completions.create({ model: MODEL, messages: MESSAGES });
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(2);
  });

  test.each([
    ["401 invalid subscription key", { kind: "invalid_key" } as AzureBehavior],
    ["403 key-based authentication disabled", { kind: "forbidden" } as AzureBehavior],
  ])("a %s on key 1 disables it and key 2 answers; later requests never try it", async (_name, behavior) => {
    const { a, b, client, proxy } = await start();
    a.script(KEY_A, behavior);
    const { data, response } = await client.chat.completions.create({ model: MODEL, messages: MESSAGES }).withResponse();
    expect(data.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");

    const row = await keyRow(proxy, KEY_A);
    expect(row.state).toBe("disabled");
    expect(Date.parse(row.disabled.until)).toBeGreaterThan(Date.now());
    expect(await azureStats(proxy)).toMatchObject({ keys_total: 2, healthy: 1, disabled: 1 });

    for (let i = 0; i < 2; i++) await client.chat.completions.create({ model: MODEL, messages: MESSAGES });
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(3);
  });

  test("a 500 on key 1 rotates at once to key 2, and key 1 stays in service", async () => {
    const { a, b, client, proxy } = await start();
    a.script(KEY_A, [{ kind: "server_error" }, { kind: "success" }]);
    const { data, response } = await client.chat.completions.create({ model: MODEL, messages: MESSAGES }).withResponse();
    expect(data.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    expect([a.calls.length, b.calls.length]).toEqual([1, 1]);
    expect(await azureStats(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
    // Least recently used, key 1 serves the next request.
    await client.chat.completions.create({ model: MODEL, messages: MESSAGES });
    expect(a.calls).toHaveLength(2);
  });
});

describe("the request's own faults go back to the client, untried elsewhere", () => {
  test("the prompt filter's 400: status 400, code content_filter, param prompt; the other resource is never tried and no key is blamed", async () => {
    const { a, b, client, proxy } = await start();
    a.script(KEY_A, { kind: "content_filter" });
    const error = await apiError(client.chat.completions.create({ model: MODEL, messages: MESSAGES }));
    expect(error.status).toBe(400);
    expect(error.code).toBe("content_filter");
    expect(error.param).toBe("prompt");
    expect(error.message).toContain(readFixtureJson(FIXTURE.contentFilter).error.message);
    expect(error.headers?.get("x-proxy-attempts")).toBe("1");
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(0);
    expect(await azureStats(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });

  test("a deployment the resource lacks: classic DeploymentNotFound reaches the client as a 404, v1's unknown_model as a 400", async () => {
    const { a, b, proxy } = await start();
    // Key 1 serves a first request, so key 2 (least recently used) takes the next.
    expect((await rawChat(proxy)).status).toBe(200);

    const notFound = await rawChat(proxy, { model: "azure/gpt-5-missing" });
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get("x-proxy-attempts")).toBe("1");
    const error = await errorBody(notFound);
    expect(error.code).toBe("DeploymentNotFound");
    expect(error.message).toContain("The API deployment for this resource does not exist");
    expect(b.calls.at(-1)).toMatchObject({ path: "/openai/deployments/gpt-5-missing/chat/completions", key: KEY_B });

    const unknown = await rawChat(proxy, { model: "azure/gpt-5-missing" });
    expect(unknown.status).toBe(400);
    expect((await errorBody(unknown)).code).toBe("unknown_model");
    expect(a.calls.at(-1)).toMatchObject({ path: "/openai/v1/chat/completions", deployment: "gpt-5-missing", key: KEY_A });
    expect([a.calls.length, b.calls.length]).toEqual([2, 1]);
    expect(await azureStats(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });
});

describe("embeddings, models and responses", () => {
  test("embeddings: one vector per input, on the v1 URL and on the deployment's embeddings URL", async () => {
    const { a, b, client } = await start();
    for (let i = 0; i < 2; i++) {
      const answer = await client.embeddings.create({ model: `azure/${EMBEDDING_DEPLOYMENT}`, input: ["first text", "second text"] });
      expect(answer.data.map((item) => item.index)).toEqual([0, 1]);
      expect(answer.data[0]!.embedding.length).toBeGreaterThan(0);
    }
    expect(a.calls[0]).toMatchObject({ path: "/openai/v1/embeddings", key: KEY_A, deployment: EMBEDDING_DEPLOYMENT });
    expect(a.calls[0]!.body).toMatchObject({ model: EMBEDDING_DEPLOYMENT, input: ["first text", "second text"] });
    expect(b.calls[0]).toMatchObject({ path: `/openai/deployments/${EMBEDDING_DEPLOYMENT}/embeddings`, apiVersion: API_VERSION, key: KEY_B });
  });

  test("GET /v1/models lists the resource's models as azure/<id>, asked with api-key on the style's models URL", async () => {
    const { a, b, proxy } = await start();
    const response = await proxy.request("/v1/models");
    expect(response.status).toBe(200);
    const ids = ((await response.json()) as any).data.map((model: any) => model.id);
    expect(ids).toContain("azure/gpt-4o-2024-11-20");
    expect(ids).toContain("azure/text-embedding-3-small");
    const listCalls = [...a.calls, ...b.calls].filter((call) => call.operation === "models");
    expect(listCalls.length).toBeGreaterThan(0);
    for (const call of listCalls) {
      expect(call.method).toBe("GET");
      expect(call.authorization).toBe("");
      if (call.key === KEY_A) expect(call).toMatchObject({ path: "/openai/v1/models", query: "" });
      else expect(call).toMatchObject({ key: KEY_B, path: "/openai/models", apiVersion: API_VERSION });
    }
  });

  test("/v1/responses with AZURE_RESPONSES=native passes through to each resource's /responses (v1 for a GA api-version), whole and streamed", async () => {
    const { a, b, client } = await start({ AZURE_RESPONSES: "native" });
    const recordedText = readFixtureJson(FIXTURE.responsesText).output[0].content[0].text;
    const whole = await client.responses.create({ model: MODEL, input: "ping" });
    expect(whole.output_text).toBe(recordedText);
    const stream = await client.responses.create({ model: MODEL, input: "ping", stream: true });
    let text = "";
    for await (const event of stream) if (event.type === "response.output_text.delta") text += event.delta;
    expect(text).toBe(recordedText);

    expect(a.calls).toHaveLength(1);
    expect(a.calls[0]).toMatchObject({ method: "POST", path: "/openai/v1/responses", key: KEY_A, authorization: "" });
    expect(a.calls[0]!.body).toMatchObject({ model: DEPLOYMENT, input: "ping" });
    // 2024-10-21 (GA) predates the classic /openai/responses route: the classic key goes to the
    // resource's v1 /responses instead of earning a 404.
    expect(b.calls).toHaveLength(1);
    expect(b.calls[0]).toMatchObject({ method: "POST", path: "/openai/v1/responses", query: "", key: KEY_B, authorization: "", stream: true });
    expect(b.calls[0]!.body.model).toBe(DEPLOYMENT);
    // Neither went to chat completions.
    expect([...a.calls, ...b.calls].every((call) => call.operation === "responses")).toBe(true);
  });

  test("a classic key whose api-version has the Responses API gets /openai/responses?api-version=…", async () => {
    const { b, client } = await start({ AZURE_RESPONSES: "native", AZURE_API_VERSION_2: "2025-04-01-preview" });
    const recordedText = readFixtureJson(FIXTURE.responsesText).output[0].content[0].text;
    for (let i = 0; i < 2; i++) expect((await client.responses.create({ model: MODEL, input: "ping" })).output_text).toBe(recordedText);
    expect(b.calls).toHaveLength(1);
    expect(b.calls[0]).toMatchObject({ path: "/openai/responses", query: "?api-version=2025-04-01-preview", key: KEY_B });
  });
});
