/**
 * The library face, used as a program would use it: `createRotatingClient` over the scripted mock
 * upstreams, no server anywhere. It must behave as the proxy does, because it is the same engine:
 * rotation past a rate-limited key with the decision trace as events, streams as async iterables,
 * embeddings, translation to another wire family, and one RotationError with a kind to branch on.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRotatingClient, providersFromEnv, RotationError, type AttemptEvent, type RotatingClient } from "../../src/library/index.ts";
import { DEFAULT_TEXT as ANTHROPIC_TEXT, startMockAnthropic, type MockAnthropic } from "../support/mock-anthropic.ts";
import { DEFAULT_TEXT, startMockGemini } from "../support/mock-gemini.ts";
import { startMockResponses, type MockResponses } from "../support/mock-responses.ts";
import { DEFAULT_CONTENT, startMockUpstream } from "../support/mock-upstream.ts";

const KEY_A = "sk-library-key-aaaa1111";
const KEY_B = "sk-library-key-bbbb2222";
const MESSAGES = [{ role: "user" as const, content: "Say hello." }];

type Stoppable = { stop(): Promise<void> | void };
const running: { mock?: Stoppable; gemini?: Stoppable; client?: RotatingClient }[] = [];
afterEach(async () => {
  for (const { mock, gemini, client } of running.splice(0)) {
    await client?.close();
    await mock?.stop();
    await gemini?.stop();
  }
});

const ANTHROPIC_A = "sk-ant-library-key-aaaa1111";
const ANTHROPIC_B = "sk-ant-library-key-bbbb2222";

async function anthropicClient(): Promise<{ anthropic: MockAnthropic; client: RotatingClient }> {
  const anthropic = await startMockAnthropic();
  const client = createRotatingClient({ providers: { anthropic: { keys: [ANTHROPIC_A, ANTHROPIC_B], baseUrl: anthropic.url } } });
  running.push({ mock: anthropic, client });
  return { anthropic, client };
}

async function responsesHostClient(): Promise<{ host: MockResponses; client: RotatingClient }> {
  const host = await startMockResponses();
  const client = createRotatingClient({ providers: { openai: { keys: [KEY_A, KEY_B], baseUrl: host.url } } });
  running.push({ mock: host, client });
  return { host, client };
}

/** The text of a Messages stream, from its text deltas. */
function messagesText(events: Record<string, unknown>[]): string {
  return events.map((event) => ((event.delta as { type?: string; text?: string } | undefined)?.type === "text_delta" ? (event.delta as { text: string }).text : "")).join("");
}

/** The text of a Responses stream, from its output text deltas. */
function responsesText(events: Record<string, unknown>[]): string {
  return events.map((event) => (event.type === "response.output_text.delta" ? String(event.delta) : "")).join("");
}

function responseOutputText(response: Record<string, unknown>): string {
  const output = response.output as { type: string; content?: { type: string; text?: string }[] }[];
  return output.flatMap((item) => (item.type === "message" ? (item.content ?? []) : [])).map((part) => part.text ?? "").join("");
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const events: T[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

async function openaiClient(extra: { onAttempt?: (event: AttemptEvent) => void; globalTimeoutMs?: number } = {}) {
  const mock = await startMockUpstream();
  const client = createRotatingClient({ providers: { mine: { keys: [KEY_A, KEY_B], baseUrl: mock.url } }, ...extra });
  running.push({ mock, client });
  return { mock, client };
}

describe("createRotatingClient", () => {
  test("a rate-limited key is rotated past, cooled, and the decision trace arrives as events", async () => {
    const events: AttemptEvent[] = [];
    const { mock, client } = await openaiClient({ onAttempt: (event) => events.push(event) });
    mock.script(KEY_A, { kind: "rate_limit", retryAfterSeconds: 30 });

    const completion = await client.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES });
    expect((completion.choices[0] as { message: { content: string } }).message.content).toBe(DEFAULT_CONTENT);
    expect(mock.calls.map((call) => call.key)).toEqual([KEY_A, KEY_B]);
    expect(events.map(({ attempt, masked, outcome, status }) => [attempt, masked, outcome, status])).toEqual([
      [1, "…1111", "rate_limit", 429],
      [2, "…2222", "ok", 200],
    ]);
    expect(events[0]!.action).toMatch(/^cooling until /);
    expect(events.map((event) => event.class)).toEqual(["rate_limit", undefined]);
    expect(JSON.stringify(events)).not.toContain(KEY_A);

    const stats = client.stats().mine!;
    expect(stats).toMatchObject({ healthy: 1, cooling: 1 });
    expect(stats.keys[1]!.usage).toMatchObject({ requests: 1, successes: 1, promptTokens: 10, completionTokens: 5 });
    expect(await client.resetKeys({ provider: "mine" })).toBe(2);
    expect(client.stats().mine).toMatchObject({ healthy: 2, cooling: 0 });
  });

  test("stream: true is an async iterable of chunks, and its usage is counted", async () => {
    const { client } = await openaiClient();
    const stream = await client.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES, stream: true });
    let text = "";
    for await (const chunk of stream) text += ((chunk.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content ?? "");
    expect(text).toBe(DEFAULT_CONTENT);
    const keys = client.stats().mine!.keys;
    expect(keys.reduce((sum, key) => sum + key.usage.successes, 0)).toBe(1);
    expect(keys.every((key) => key.inFlight === 0)).toBe(true);
  });

  test("the caller's request object is read, never changed (it passes the check as it is)", async () => {
    const { mock, client } = await openaiClient();
    const request = { model: "mine/gpt-4o-mini", messages: [{ role: "user", content: "Say hello." }], stream: true as const, api_key: "sk-smuggled" };
    const before = structuredClone(request);
    for await (const chunk of await client.chat(request)) void chunk;
    expect(request).toEqual(before);
    // The proxy's own changes went upstream only: usage asked for, the bare model, no smuggled key.
    expect(mock.calls[0]!.body).toMatchObject({ model: "gpt-4o-mini", stream_options: { include_usage: true } });
    expect(mock.calls[0]!.body.api_key).toBeUndefined();
  });

  test("toReadableStream gives one JSON chunk per line", async () => {
    const { client } = await openaiClient();
    const stream = await client.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES, stream: true });
    const lines = (await new Response(stream.toReadableStream()).text()).trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((chunk) => chunk.choices?.[0]?.delta?.content ?? "").join("")).toBe(DEFAULT_CONTENT);
  });

  test("embeddings go to the provider's embeddings endpoint over the same keys", async () => {
    const { mock, client } = await openaiClient();
    const result = await client.embeddings({ model: "mine/text-embedding-3-small", input: ["a", "b"] });
    expect(result.data.length).toBeGreaterThan(0);
    expect(mock.calls[0]!.path).toBe("/v1/embeddings");
  });

  test("every key failing throws one RotationError of kind all_keys_failed, with the trace and no key in it", async () => {
    const { mock, client } = await openaiClient();
    for (const key of [KEY_A, KEY_B]) mock.script(key, { kind: "server_error", status: 503 });
    const error = await client.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RotationError);
    const rotation = error as RotationError;
    expect([rotation.kind, rotation.status, rotation.code]).toEqual(["all_keys_failed", 502, "all_keys_failed"]);
    expect(rotation.trace.map((step) => step.outcome)).toEqual(["transient", "transient", "transient"]);
    expect(rotation.message).toContain("HTTP 503");
    expect(JSON.stringify({ ...rotation, message: rotation.message })).not.toContain(KEY_A);
  });

  test("a request that is the caller's fault is request_rejected before any key is used", async () => {
    const { mock, client } = await openaiClient();
    for (const [body, code] of [
      [{ model: "nowhere/x", messages: MESSAGES }, "unknown_provider"],
      [{ model: "gpt-4o", messages: MESSAGES }, "model_without_provider"],
    ] as const) {
      const error = (await client.chat(body).catch((caught: unknown) => caught)) as RotationError;
      expect([error.kind, error.code]).toEqual(["request_rejected", code]);
    }
    const bad = (await client.chat({ model: "mine/m", messages: "not a list" } as never).catch((caught: unknown) => caught)) as RotationError;
    expect([bad.kind, bad.status, bad.param]).toEqual(["request_rejected", 400, "messages"]);
    expect(mock.calls).toEqual([]);
  });

  test("a Gemini provider is spoken to in its own wire format and answers in OpenAI's", async () => {
    const gemini = await startMockGemini();
    const client = createRotatingClient({ providers: { gemini: { keys: ["AIzaSyLibraryKey000000000001"], baseUrl: gemini.url } } });
    running.push({ gemini, client });
    const completion = await client.chat({ model: "gemini/gemini-2.5-flash", messages: MESSAGES });
    expect((completion.choices[0] as { message: { content: string } }).message.content).toBe(DEFAULT_TEXT);
    expect(gemini.calls[0]!.path).toContain(":generateContent");
  });

  test("listModels gives provider/model ids from the live lists; countTokens uses the provider's count where it has one", async () => {
    const { client } = await openaiClient();
    const models = await client.listModels();
    expect(models.length).toBeGreaterThan(0);
    expect(models.every((model) => model.id.startsWith("mine/") && model.provider === "mine")).toBe(true);
    // An OpenAI-compatible host has no count endpoint: the local tokenizer's estimate, said so.
    const estimate = await client.countTokens({ model: "mine/gpt-4o-mini", messages: MESSAGES });
    expect(estimate.method).toBe("estimate");
    expect(estimate.tokens).toBeGreaterThan(3);

    const gemini = await startMockGemini();
    const counting = createRotatingClient({ providers: { gemini: { keys: ["AIzaSyLibraryKey000000000002"], baseUrl: gemini.url } } });
    running.push({ gemini, client: counting });
    const exact = await counting.countTokens({ model: "gemini/gemini-2.5-flash", messages: MESSAGES });
    expect(exact.method).toBe("provider");
    expect(gemini.calls.some((call) => call.path.endsWith(":countTokens"))).toBe(true);
    expect((await counting.listModels()).some((model) => model.id === "gemini/gemini-2.5-flash")).toBe(true);
  });

  test("listModels takes a signal too: an aborted wait is kind aborted", async () => {
    const { mock, client } = await openaiClient();
    mock.script(KEY_A, { kind: "hang" });
    mock.script(KEY_B, { kind: "hang" });
    const leave = new AbortController();
    const pending = client.listModels({ signal: leave.signal }).catch((caught: unknown) => caught);
    setTimeout(() => leave.abort(), 50);
    const error = (await pending) as RotationError;
    expect([error.name, error.kind]).toEqual(["RotationError", "aborted"]);
    const already = (await client.listModels({ signal: AbortSignal.abort() }).catch((caught: unknown) => caught)) as RotationError;
    expect(already.kind).toBe("aborted");
  });

  test("an aborted call is kind aborted", async () => {
    const { mock, client } = await openaiClient();
    mock.script(KEY_A, { kind: "hang" });
    mock.script(KEY_B, { kind: "hang" });
    const leave = new AbortController();
    const pending = client.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES }, { signal: leave.signal }).catch((caught: unknown) => caught);
    setTimeout(() => leave.abort(), 50);
    expect(((await pending) as RotationError).kind).toBe("aborted");
  });

  test("SQLite state (Bun) remembers a cooldown across clients, as the proxy does across restarts", async () => {
    const mock = await startMockUpstream();
    const path = join(mkdtempSync(join(tmpdir(), "lkp-library-")), "state.db");
    const options = { providers: { mine: { keys: [KEY_A, KEY_B], baseUrl: mock.url } }, state: { kind: "sqlite" as const, path } };
    mock.script(KEY_A, { kind: "rate_limit", retryAfterSeconds: 60 });
    const first = createRotatingClient(options);
    await first.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES });
    await first.close();
    const second = createRotatingClient(options);
    running.push({ mock, client: second });
    expect(second.stats().mine).toMatchObject({ cooling: 1, healthy: 1 });
    expect(second.stats().mine!.keys[1]!.usage.successes).toBe(1);
  });

  test("options are checked at once, naming the one that is wrong", () => {
    expect(() => createRotatingClient({ providers: { mine: { keys: [] } } })).toThrow("providers.mine.keys: needs at least one key");
    expect(() => createRotatingClient({ providers: { nobody: { keys: ["k"] } } })).toThrow('"nobody" is not a known provider; give its baseUrl (an OpenAI-compatible /v1 URL), or each key its own.');
    expect(() => createRotatingClient({ providers: { azure: { keys: ["k1", { key: "k2", options: { resource: "two" } }] } } })).toThrow(
      "providers.azure.keys[0]: needs options.resource (for https://{resource}.openai.azure.com/openai/v1), or its own baseUrl.",
    );
    expect(() => createRotatingClient({ providers: {}, dailyResetUtc: "25:00" })).toThrow("dailyResetUtc");
  });
});

describe("messages(): the Anthropic Messages API on any provider", () => {
  test("an anthropic/ model goes to Anthropic as sent, past a rate-limited key, and answers a Message", async () => {
    const { anthropic, client } = await anthropicClient();
    anthropic.script(ANTHROPIC_A, { kind: "rate_limit", retryAfterSeconds: 20 });
    const message = await client.messages({ model: "anthropic/claude-sonnet-4-5", max_tokens: 256, messages: MESSAGES, metadata: { user_id: "u-1" } });
    expect(message.type).toBe("message");
    expect(message.content).toEqual([expect.objectContaining({ type: "text", text: ANTHROPIC_TEXT })]);
    expect(anthropic.calls.map((call) => call.key)).toEqual([ANTHROPIC_A, ANTHROPIC_B]);
    // The client's body, model renamed, its own fields kept: no double translation.
    expect(anthropic.calls[1]!.body).toMatchObject({ model: "claude-sonnet-4-5", max_tokens: 256, metadata: { user_id: "u-1" } });
    expect(client.stats().anthropic).toMatchObject({ cooling: 1, healthy: 1 });
  });

  test("stream: true on Anthropic yields its events as they came, and the lease is given back", async () => {
    const { client } = await anthropicClient();
    const events = await collect(await client.messages({ model: "anthropic/claude-sonnet-4-5", max_tokens: 64, messages: MESSAGES, stream: true }));
    expect(events[0]!.type).toBe("message_start");
    expect(events.at(-1)!.type).toBe("message_stop");
    expect(messagesText(events)).toBe(ANTHROPIC_TEXT);
    expect(client.stats().anthropic!.keys.every((key) => key.inFlight === 0)).toBe(true);
  });

  test("an OpenAI-compatible provider is translated both ways, JSON and stream", async () => {
    const { mock, client } = await openaiClient();
    const message = await client.messages({ model: "mine/gpt-4o-mini", max_tokens: 64, system: "Be brief.", messages: MESSAGES });
    expect(message).toMatchObject({ type: "message", role: "assistant", model: "mine/gpt-4o-mini", stop_reason: "end_turn" });
    expect(message.content).toEqual([{ type: "text", text: DEFAULT_CONTENT }]);
    expect(mock.calls[0]!.path).toBe("/v1/chat/completions");
    expect(mock.calls[0]!.body.messages[0]).toEqual({ role: "system", content: "Be brief." });

    const events = await collect(await client.messages({ model: "mine/gpt-4o-mini", max_tokens: 64, messages: MESSAGES, stream: true }));
    expect(events.map((event) => event.type)).toContain("message_delta");
    expect(messagesText(events)).toBe(DEFAULT_CONTENT);
  });

  test("an error after the first event ends the iteration with a RotationError", async () => {
    const { anthropic, client } = await anthropicClient();
    anthropic.script(ANTHROPIC_A, { kind: "error_mid_stream", afterChunks: 1 });
    const stream = await client.messages({ model: "anthropic/claude-sonnet-4-5", max_tokens: 64, messages: MESSAGES, stream: true });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const event of stream) seen.push(event.type);
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RotationError);
    expect((error as RotationError).type).toBe("overloaded_error");
    expect(seen[0]).toBe("message_start");
  });

  test("a body that is not a Messages request is request_rejected, before any key", async () => {
    const { anthropic, client } = await anthropicClient();
    const error = (await client.messages({ model: "anthropic/claude-sonnet-4-5", messages: MESSAGES } as never).catch((caught: unknown) => caught)) as RotationError;
    expect([error.kind, error.status, error.param]).toEqual(["request_rejected", 400, "max_tokens"]);
    expect(anthropic.calls).toEqual([]);
  });
});

describe("responses(): the OpenAI Responses API on any provider", () => {
  test("a host with its own /responses gets the body as sent and answers the response object", async () => {
    const { host, client } = await responsesHostClient();
    host.script(KEY_A, { kind: "insufficient_quota" });
    const response = await client.responses({ model: "openai/gpt-5.5", input: "ping", store: false });
    expect(response).toMatchObject({ object: "response", status: "completed", model: "gpt-5.5" });
    expect(responseOutputText(response)).toBe("pong");
    expect(host.calls.map((call) => [call.key, call.path])).toEqual([
      [KEY_A, "/v1/responses"],
      [KEY_B, "/v1/responses"],
    ]);
    expect(host.calls[1]!.body).toMatchObject({ model: "gpt-5.5", input: "ping", store: false });
  });

  test("stream: true on a native host yields its events, ending at response.completed", async () => {
    const { client } = await responsesHostClient();
    const events = await collect(await client.responses({ model: "openai/gpt-5.5", input: "ping", stream: true }));
    expect(events[0]!.type).toBe("response.created");
    expect(events.at(-1)!.type).toBe("response.completed");
    expect(responsesText(events)).toBe("pong");
  });

  test("a chat-only provider is translated, and previous_response_id continues the conversation from the store", async () => {
    const { mock, client } = await openaiClient();
    const first = await client.responses({ model: "mine/gpt-4o-mini", input: "Say hello.", instructions: "Be brief." });
    expect(first).toMatchObject({ object: "response", status: "completed" });
    expect(responseOutputText(first)).toBe(DEFAULT_CONTENT);
    expect(mock.calls[0]!.path).toBe("/v1/chat/completions");

    const events = await collect(await client.responses({ model: "mine/gpt-4o-mini", input: "And again.", previous_response_id: first.id as string, stream: true }));
    expect(events.at(-1)!.type).toBe("response.completed");
    expect(responsesText(events)).toBe(DEFAULT_CONTENT);
    // The second turn carried the first: its question and its answer, then the new question.
    const sent = mock.calls[1]!.body.messages as { role: string; content: unknown }[];
    expect(sent.map((message) => message.role)).toEqual(["user", "assistant", "user"]);
    expect(JSON.stringify(sent[1]!.content)).toContain(DEFAULT_CONTENT);
  });

  test("an unknown previous_response_id on a translated provider is request_rejected with OpenAI's code", async () => {
    const { mock, client } = await openaiClient();
    const error = (await client.responses({ model: "mine/gpt-4o-mini", input: "hi", previous_response_id: "resp_nowhere" }).catch((caught: unknown) => caught)) as RotationError;
    expect([error.kind, error.status, error.code]).toEqual(["request_rejected", 404, "previous_response_not_found"]);
    expect(mock.calls).toEqual([]);
  });
});

describe("providersFromEnv", () => {
  test("reads the proxy's own variables", () => {
    const providers = providersFromEnv({
      GEMINI_API_KEY_1: "AIzaSyEnvKey00000000000001",
      GEMINI_API_KEY_2: "AIzaSyEnvKey00000000000002",
      MINE_API_KEY: "k1",
      MINE_API_BASE: "http://127.0.0.1:9/v1",
      MAX_CONCURRENT_REQUESTS_PER_KEY_GEMINI: "2",
    });
    expect(providers).toEqual({
      gemini: { keys: ["AIzaSyEnvKey00000000000001", "AIzaSyEnvKey00000000000002"], maxConcurrentPerKey: 2 },
      mine: { keys: ["k1"], baseUrl: "http://127.0.0.1:9/v1" },
    });
  });
});

describe("model routes in the library", () => {
  test("the `routes` option works as ROUTE_<ID> does: listed, served by the first target that can serve, a request fault not hidden", async () => {
    const [first, second] = [await startMockUpstream(), await startMockUpstream()];
    const client = createRotatingClient({
      providers: { first: { keys: [KEY_A], baseUrl: first.url }, second: { keys: [KEY_B], baseUrl: second.url } },
      routes: { "my-default": ["first/model-a", "second/model-b"] },
    });
    running.push({ mock: first, gemini: second, client });

    expect((await client.listModels()).find((model) => model.id === "my-default")).toMatchObject({ provider: "route", owned_by: "route" });
    first.script(KEY_A, { kind: "rate_limit", retryAfterSeconds: 60 });
    const completion = await client.chat({ model: "my-default", messages: MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect([first.callsFor(KEY_A, "/chat/completions").length, second.callsFor(KEY_B, "/chat/completions").length]).toEqual([1, 1]);

    second.script(KEY_B, { kind: "bad_request" });
    const refused = await client.chat({ model: "my-default", messages: MESSAGES }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RotationError);
    expect((refused as RotationError).kind).toBe("request_rejected");
    expect(() => createRotatingClient({ providers: { first: { keys: [KEY_A], baseUrl: first.url } }, routes: { x: ["nowhere/model"] } })).toThrow('the target "nowhere/model" names the provider "nowhere"');
  });
});
