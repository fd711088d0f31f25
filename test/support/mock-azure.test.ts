/**
 * Tests for the scripted Azure OpenAI mock: both URL styles are routed and recorded (key from
 * `api-key` only, deployment, api-version), the shapes it serves match the recorded Azure fixtures
 * they are built from, and the documented error answers carry their headers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { parseSse, readFixtureJson, readFixtureText, readSseJson } from "./fixtures.ts";
import { DEFAULT_CONTENT, FIXTURE, startMockAzure, type MockAzure } from "./mock-azure.ts";
import { describeMockCore } from "./mock-core-tests.ts";
import { json, sortedKeys } from "./probes.ts";

let mock: MockAzure;

beforeAll(async () => {
  mock = await startMockAzure({ deployments: ["gpt-4o", "embed"] });
});
afterEach(() => mock.reset());
afterAll(() => mock.stop());

const MESSAGES = [{ role: "user", content: "What is the capital of France?" }];
const VERSION = "2024-10-21";

function headersFor(key: string | null): Record<string, string> {
  return key === null ? { "content-type": "application/json" } : { "content-type": "application/json", "api-key": key };
}

/** A chat in the classic style: deployment in the path, api-version in the query. */
function classicChat(key: string | null, extra: Record<string, unknown> = {}, deployment = "gpt-4o", signal?: AbortSignal): Promise<Response> {
  return fetch(`${mock.url}/openai/deployments/${deployment}/chat/completions?api-version=${VERSION}`, {
    method: "POST",
    headers: headersFor(key),
    body: JSON.stringify({ messages: MESSAGES, ...extra }),
    signal,
  });
}

/** A chat on the v1 API: the deployment is the body's model. */
function v1Chat(key: string | null, extra: Record<string, unknown> = {}, deployment = "gpt-4o"): Promise<Response> {
  return fetch(`${mock.v1}/chat/completions`, { method: "POST", headers: headersFor(key), body: JSON.stringify({ model: deployment, messages: MESSAGES, ...extra }) });
}

const payloads = (text: string): any[] => parseSse(text).filter((e) => e.data !== "[DONE]").map((e) => JSON.parse(e.data));

describe("routing and recording", () => {
  test("both URL styles are recorded with key, deployment and api-version; Authorization is recorded, never taken as the key", async () => {
    expect((await classicChat("k-a")).status).toBe(200);
    expect((await v1Chat("k-b")).status).toBe(200);
    const bearerOnly = await fetch(`${mock.v1}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer k-c" },
      body: JSON.stringify({ model: "gpt-4o", messages: MESSAGES }),
    });
    expect(bearerOnly.status).toBe(401);
    expect(mock.calls.map(({ key, style, operation, deployment, apiVersion, authorization }) => ({ key, style, operation, deployment, apiVersion, authorization }))).toEqual([
      { key: "k-a", style: "deployments", operation: "chat/completions", deployment: "gpt-4o", apiVersion: VERSION, authorization: "" },
      { key: "k-b", style: "v1", operation: "chat/completions", deployment: "gpt-4o", apiVersion: null, authorization: "" },
      { key: "", style: "v1", operation: "chat/completions", deployment: "gpt-4o", apiVersion: null, authorization: "Bearer k-c" },
    ]);
    expect(mock.calls[0]!.path).toBe("/openai/deployments/gpt-4o/chat/completions");
    expect(mock.calls[0]!.query).toBe(`?api-version=${VERSION}`);
  });

  test("a classic URL without api-version, or an unknown path, is a 404 Resource not found", async () => {
    const noVersion = await fetch(`${mock.url}/openai/deployments/gpt-4o/chat/completions`, { method: "POST", headers: headersFor("k"), body: "{}" });
    expect(noVersion.status).toBe(404);
    expect((await json(noVersion)).error).toEqual({ code: "404", message: "Resource not found" });
    expect((await fetch(`${mock.url}/v1/chat/completions`, { method: "POST", headers: headersFor("k"), body: "{}" })).status).toBe(404);
  });

  test("an unknown deployment: DeploymentNotFound 404 on the classic style, the recorded unknown_model 400 on v1", async () => {
    const classic = await classicChat("k", {}, "nope");
    expect(classic.status).toBe(404);
    expect((await json(classic)).error.code).toBe("DeploymentNotFound");
    const v1 = await v1Chat("k", {}, "nope");
    expect(v1.status).toBe(400);
    expect(await v1.text()).toBe(readFixtureText(FIXTURE.unknownModel).replaceAll("this-model-does-not-exist-12345", "nope"));
  });

  test("every answer carries the recorded Azure headers", async () => {
    const response = await classicChat("k");
    expect(response.headers.get("x-ms-region")).toBe("East US");
    expect(response.headers.get("x-ms-deployment-name")).toBe("gpt-4o");
    expect(response.headers.get("apim-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("99");
  });
});

describe("chat answers", () => {
  test("non-stream text keeps the recorded Azure shape: content_filter_results and prompt_filter_results", async () => {
    const body = await json(await classicChat("k"));
    const recorded = readFixtureJson(FIXTURE.chatText);
    expect(sortedKeys(body)).toEqual(sortedKeys(recorded));
    expect(body.choices[0].message.content).toBe(DEFAULT_CONTENT);
    expect(body.choices[0].content_filter_results).toEqual(recorded.choices[0].content_filter_results);
    expect(body.prompt_filter_results).toEqual(recorded.prompt_filter_results);
    expect(body.id).not.toBe(recorded.id);
  });

  test("non-stream tool calls are the recorded two parallel calls", async () => {
    mock.script("k-tools", { kind: "success", toolCalls: true });
    const body = await json(await v1Chat("k-tools"));
    expect(body.choices[0].message.tool_calls).toEqual(readFixtureJson(FIXTURE.chatToolCalls).choices[0].message.tool_calls);
    expect(body.choices[0].finish_reason).toBe("tool_calls");
  });

  test("a text stream opens with the prompt_filter_results chunk, then the content; usage only with include_usage", async () => {
    mock.script("k-stream", { kind: "success", content: "abcdef", chunks: 3 });
    const response = await classicChat("k-stream", { stream: true });
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const text = await response.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const chunks = payloads(text);
    expect(chunks[0]).toEqual(readSseJson(FIXTURE.streamText)[0]);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("abcdef");
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
    expect(chunks.every((c) => !("usage" in c))).toBe(true);

    const withUsage = payloads(await (await classicChat("k-stream", { stream: true, stream_options: { include_usage: true } })).text());
    expect(withUsage.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 14, completion_tokens: 9 } });
  });

  test("a streamed tool call: the recorded fragments join to the recorded arguments", async () => {
    mock.script("k-tools", { kind: "success", toolCalls: true });
    const chunks = payloads(await (await v1Chat("k-tools", { stream: true })).text());
    const args = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).filter((t: any) => t.index === 0).map((t: any) => t.function.arguments).join("");
    expect(args).toBe('{"password": "mellon"}');
  });

  test("a fixture stream is replayed byte for byte", async () => {
    mock.script("k-fixture", { kind: "fixture", file: FIXTURE.streamText });
    expect(await (await classicChat("k-fixture", { stream: true })).text()).toBe(readFixtureText(FIXTURE.streamText));
  });

  test("output_filtered: the stream ends with finish_reason content_filter and the category filtered", async () => {
    mock.script("k-cut", { kind: "output_filtered", afterChunks: 1, category: "self_harm" });
    const chunks = payloads(await (await classicChat("k-cut", { stream: true })).text());
    const last = chunks.at(-1).choices[0];
    expect(last.finish_reason).toBe("content_filter");
    expect(last.content_filter_results.self_harm).toEqual({ filtered: true, severity: "medium" });
    expect(last.content_filter_results.violence.filtered).toBe(false);
    expect(chunks.filter((c) => c.choices[0]?.delta?.content).length).toBe(1);

    const whole = await json(await classicChat("k-cut"));
    expect(whole.choices[0].finish_reason).toBe("content_filter");
  });
});

describe("errors", () => {
  test("content_filter: the recorded 400 byte for byte, with x-ms-rai-invoked", async () => {
    mock.script("k", { kind: "content_filter" });
    const response = await classicChat("k", { stream: true });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-ms-rai-invoked")).toBe("true");
    expect(await response.text()).toBe(readFixtureText(FIXTURE.contentFilter));
  });

  test("rate_limit: code \"429\", retry-after, retry-after-ms and the remaining counters; the message names the wait", async () => {
    mock.script("k", { kind: "rate_limit", retryAfterMs: 2500 });
    const response = await classicChat("k");
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("3");
    expect(response.headers.get("retry-after-ms")).toBe("2500");
    expect(response.headers.get("x-ratelimit-remaining-tokens")).toBe("0");
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("97");
    const error = (await json(response)).error;
    expect(error.code).toBe("429");
    expect(error.message).toContain(`ChatCompletions_Create Operation under Azure OpenAI API version ${VERSION}`);
    expect(error.message).toContain("Please retry after 3 seconds.");
  });

  test.each([
    ["invalid_key", 401, "401"],
    ["forbidden", 403, "AuthenticationTypeDisabled"],
    ["deployment_not_found", 404, "DeploymentNotFound"],
    ["server_error", 500, null],
  ] as const)("%s answers %d with code %p", async (kind, status, code) => {
    mock.script("k", { kind });
    const response = await v1Chat("k");
    expect(response.status).toBe(status);
    expect((await json(response)).error.code).toBe(code);
  });
});

describe("embeddings, models, responses", () => {
  test("embeddings on both styles, one vector per input in the recorded OpenAI shape", async () => {
    const classic = await fetch(`${mock.url}/openai/deployments/embed/embeddings?api-version=${VERSION}`, { method: "POST", headers: headersFor("k"), body: JSON.stringify({ input: ["a", "b", "c"] }) });
    const body = await json(classic);
    expect(body.object).toBe("list");
    expect(body.data.map((d: any) => d.index)).toEqual([0, 1, 2]);
    const v1 = await json(await fetch(`${mock.v1}/embeddings`, { method: "POST", headers: headersFor("k"), body: JSON.stringify({ model: "embed", input: "x" }) }));
    expect(v1.data[0].embedding).toEqual(readFixtureJson(FIXTURE.embeddingsSingle).data[0].embedding);
    expect(mock.calls.map((c) => [c.style, c.deployment])).toEqual([["deployments", "embed"], ["v1", "embed"]]);
  });

  test("the model list in Azure's shape, on both styles", async () => {
    for (const url of [`${mock.url}/openai/models?api-version=${VERSION}`, `${mock.v1}/models`]) {
      const body = await json(await fetch(url, { headers: headersFor("k") }));
      expect(body.object).toBe("list");
      expect(body.data.map((m: any) => m.id)).toEqual(["gpt-4o-2024-11-20", "text-embedding-3-small"]);
      expect(body.data[0]).toMatchObject({ object: "model", status: "succeeded", capabilities: { chat_completion: true } });
    }
  });

  test("responses: the recorded answer and stream with a new id and the requested model", async () => {
    const whole = await json(await fetch(`${mock.v1}/responses`, { method: "POST", headers: headersFor("k"), body: JSON.stringify({ model: "gpt-4o", input: "ping" }) }));
    expect(whole.object).toBe("response");
    expect(whole.model).toBe("gpt-4o");
    expect(whole.output[0].content[0].text).toBe(readFixtureJson(FIXTURE.responsesText).output[0].content[0].text);
    const stream = await fetch(`${mock.url}/openai/responses?api-version=2025-04-01-preview`, { method: "POST", headers: headersFor("k"), body: JSON.stringify({ model: "gpt-4o", input: "ping", stream: true }) });
    const events = parseSse(await stream.text());
    expect(events[0]!.event).toBe("response.created");
    expect(events.at(-1)!.event).toBe("response.completed");
    expect(mock.calls.map((c) => [c.style, c.operation, c.apiVersion])).toEqual([["v1", "responses", null], ["deployments", "responses", "2025-04-01-preview"]]);
  });

  test("the classic /openai/responses route needs an api-version of 2025-03-01-preview or later; GA 2024-10-21 has none", async () => {
    const ga = await fetch(`${mock.url}/openai/responses?api-version=${VERSION}`, { method: "POST", headers: headersFor("k"), body: JSON.stringify({ model: "gpt-4o", input: "ping" }) });
    expect(ga.status).toBe(404);
    expect((await json(ga)).error).toEqual({ code: "404", message: "Resource not found" });
    const preview = await fetch(`${mock.url}/openai/responses?api-version=2025-03-01-preview`, { method: "POST", headers: headersFor("k"), body: JSON.stringify({ model: "gpt-4o", input: "ping" }) });
    expect(preview.status).toBe(200);
  });
});

describeMockCore({
  start: () => startMockAzure(),
  send: (target, key, { stream, signal }) =>
    fetch(`${target.url}/openai/deployments/gpt-4o/chat/completions?api-version=${VERSION}`, {
      method: "POST",
      headers: headersFor(key),
      body: JSON.stringify({ messages: MESSAGES, stream }),
      signal,
    }),
  longStream: { kind: "success", chunks: 20, chunkDelayMs: 50 },
  replyText: (body) => body.choices[0].message.content,
  streamedText: (body) => payloads(body).map((c) => c.choices[0]?.delta?.content ?? "").join(""),
  defaultText: DEFAULT_CONTENT,
});
