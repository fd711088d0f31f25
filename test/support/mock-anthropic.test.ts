/**
 * Tests for the scripted Anthropic mock: every behaviour is driven with plain fetch, and the shapes
 * it serves are checked against the recorded fixtures in test/fixtures/anthropic they are built
 * from (event names and order, pings, padding, usage fields, error bodies).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readChunkLines, readChunksJson, readFixtureJson, readFixtureText, readSseFixture } from "./fixtures.ts";
import { CREDIT_BALANCE_MESSAGE, DEFAULT_CALLS, DEFAULT_CHUNKS, DEFAULT_MODELS, DEFAULT_SIGNATURE, DEFAULT_TEXT, DEFAULT_THINKING, RATE_LIMIT_REQUESTS_PER_MINUTE, estimateInputTokens, estimateTokens, startMockAnthropic, type MockAnthropic } from "./mock-anthropic.ts";
import { describeMockCore } from "./mock-core-tests.ts";
import { drain, json, waitFor } from "./probes.ts";

let mock: MockAnthropic;

beforeAll(async () => {
  mock = await startMockAnthropic();
});
afterEach(() => mock.reset());
afterAll(() => mock.stop());

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

const MODEL = "claude-sonnet-4-5-20250929";
const VERSION = "2023-06-01";
const PROMPT = "What is the capital of France?";
const REQUEST = { model: MODEL, max_tokens: 1024, messages: [{ role: "user", content: PROMPT }] };

interface CallOptions {
  /** Replaces the whole JSON body (a string is sent as-is). */
  body?: unknown;
  /** Merged into the default request body. */
  extra?: Record<string, unknown>;
  /** How the key travels (default x-api-key). */
  auth?: "x-api-key" | "bearer" | "both" | "none";
  /** null sends no anthropic-version header. */
  version?: string | null;
  beta?: string;
  signal?: AbortSignal;
}

function headersFor(key: string, options: CallOptions): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const auth = options.auth ?? "x-api-key";
  if (auth === "x-api-key" || auth === "both") headers["x-api-key"] = key;
  if (auth === "bearer") headers.authorization = `Bearer ${key}`;
  if (auth === "both") headers.authorization = "Bearer other-key";
  const version = options.version === undefined ? VERSION : options.version;
  if (version !== null) headers["anthropic-version"] = version;
  if (options.beta) headers["anthropic-beta"] = options.beta;
  return headers;
}

function post(path: string, key: string, options: CallOptions = {}): Promise<Response> {
  const body = options.body ?? { ...REQUEST, ...options.extra };
  return fetch(mock.url + path, {
    method: "POST",
    headers: headersFor(key, options),
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: options.signal,
  });
}

function messages(key: string, options: CallOptions = {}): Promise<Response> {
  return post("/messages", key, options);
}

function streamMessages(key: string, options: CallOptions = {}): Promise<Response> {
  return post("/messages", key, { ...options, extra: { stream: true, ...options.extra } });
}

function countTokens(key: string, body: unknown): Promise<Response> {
  return post("/messages/count_tokens", key, { body });
}

function get(path: string, key: string, options: CallOptions = {}): Promise<Response> {
  return fetch(mock.url + path, { headers: headersFor(key, options), signal: options.signal });
}

interface Frame {
  event: string;
  data: any;
  /** The data line exactly as sent. */
  raw: string;
}

/**
 * Strict Anthropic framing: the body is nothing but `event: <name>\ndata: <json>\n\n` blocks, and
 * each event name equals its payload's `type`.
 */
function frames(text: string): Frame[] {
  expect(text.endsWith("\n\n")).toBe(true);
  return text
    .slice(0, -2)
    .split("\n\n")
    .map((block) => {
      const match = /^event: ([a-z_]+)\ndata: ([^\n]+)$/.exec(block);
      if (!match) throw new Error(`not an Anthropic SSE event: ${JSON.stringify(block)}`);
      const data = JSON.parse(match[2]!);
      expect(data.type).toBe(match[1]!);
      return { event: match[1]!, data, raw: match[2]! };
    });
}

async function streamFrames(response: Response): Promise<Frame[]> {
  return frames(await response.text());
}

/** Event names, with the delta type of content_block_delta events, consecutive repeats collapsed. */
function shape(events: { event?: string; data: any }[]): string[] {
  const names = events.map((e) => {
    const name = e.event ?? e.data.type;
    return name === "content_block_delta" ? `${name}:${e.data.delta.type}` : name;
  });
  return names.filter((name, i) => name !== names[i - 1]);
}

function recordedSse(file: string): { event?: string; data: any }[] {
  return readSseFixture(file).map((e) => ({ event: e.event, data: JSON.parse(e.data) }));
}

function deltasOf(list: Frame[], index: number, type: string, field: string): string[] {
  return list.filter((f) => f.event === "content_block_delta" && f.data.index === index && f.data.delta.type === type).map((f) => f.data.delta[field]);
}

const RECORDED_TEXT: any = readFixtureJson("anthropic/text.json");
const RECORDED_STREAM = recordedSse("anthropic/stream-text.sse.txt");
/** The `event: error` frame of the recorded mid-stream failure, byte for byte. */
const RECORDED_ERROR_FRAME = ((text: string) => text.slice(text.indexOf("event: error")))(
  readFixtureText("anthropic/stream-midstream-overloaded-error.sse.txt"),
);

// ---------------------------------------------------------------------------------------------
// text
// ---------------------------------------------------------------------------------------------

describe("text, non-stream", () => {
  test("the recorded message shape with the requested model, a fresh id and estimated usage", async () => {
    const response = await messages("k-text");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("request-id")).toMatch(/^req_/);
    const body = await json(response);
    const recordedKeys = Object.keys(RECORDED_TEXT);
    recordedKeys.splice(recordedKeys.indexOf("stop_sequence") + 1, 0, "stop_details");
    expect(Object.keys(body)).toEqual(recordedKeys);
    expect(body).toMatchObject({ model: MODEL, type: "message", role: "assistant", stop_reason: "end_turn", stop_sequence: null, stop_details: null });
    expect(body.id).toMatch(/^msg_/);
    expect(body.content).toEqual([{ type: "text", text: DEFAULT_TEXT }]);
    expect(Object.keys(body.usage)).toEqual(Object.keys(RECORDED_TEXT.usage));
    expect(body.usage).toMatchObject({
      input_tokens: estimateInputTokens(REQUEST),
      output_tokens: estimateTokens(DEFAULT_TEXT),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      service_tier: "standard",
    });
  });

  test("compact JSON on the wire, as Anthropic serves it", async () => {
    const text = await (await messages("k-compact")).text();
    expect(text).toBe(JSON.stringify(JSON.parse(text)));
  });

  test("every response has its own message id and request id", async () => {
    const [a, b] = await Promise.all([messages("k-ids"), messages("k-ids")]);
    expect((await json(a)).id).not.toBe((await json(b)).id);
    expect(a.headers.get("request-id")).not.toBe(b.headers.get("request-id"));
  });

  test("text, stop reason and usage overrides", async () => {
    mock.script("k-over", [
      { kind: "text", text: "Paris.", stopReason: "max_tokens", usage: { input: 7, output: 2, cacheRead: 1111, cacheCreation: 418 } },
      { kind: "text", stopReason: "stop_sequence" },
    ]);
    const first = await json(await messages("k-over"));
    expect(first.content[0].text).toBe("Paris.");
    expect(first.stop_reason).toBe("max_tokens");
    expect(first.usage).toMatchObject({
      input_tokens: 7,
      output_tokens: 2,
      cache_read_input_tokens: 1111,
      cache_creation_input_tokens: 418,
      cache_creation: { ephemeral_5m_input_tokens: 418, ephemeral_1h_input_tokens: 0 },
    });
    const second = await json(await messages("k-over", { extra: { stop_sequences: ["\n\nHuman:"] } }));
    expect(second).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: "\n\nHuman:" });
  });
});

describe("text, stream", () => {
  test("event: + data: framing, the recorded event order with a ping after the first block start", async () => {
    const response = await streamMessages("k-stream");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    const list = await streamFrames(response);
    expect(list.map((f) => f.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      ...Array(DEFAULT_CHUNKS).fill("content_block_delta"),
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(shape(list)).toEqual(shape(RECORDED_STREAM));
    expect(deltasOf(list, 0, "text_delta", "text").join("")).toBe(DEFAULT_TEXT);
    expect(list[1]!.data).toEqual({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    expect(list[list.length - 3]!.data).toEqual({ type: "content_block_stop", index: 0 });
  });

  test("with one chunk the event sequence is exactly the recorded one", async () => {
    mock.script("k-one", { kind: "text", chunks: 1 });
    const list = await streamFrames(await streamMessages("k-one"));
    expect(list.map((f) => f.event)).toEqual(RECORDED_STREAM.map((e) => e.event!));
  });

  test("the ping frame is the recorded bytes", async () => {
    const text = await (await streamMessages("k-ping")).text();
    expect(text).toContain('event: ping\ndata: {"type": "ping"}\n\n');
  });

  test("message_start and message_delta carry the recorded fields; usage is realistic and cumulative", async () => {
    const list = await streamFrames(await streamMessages("k-usage"));
    const recordedStart = RECORDED_STREAM[0]!.data.message;
    const start = list[0]!.data.message;
    expect(Object.keys(start)).toEqual(Object.keys(recordedStart));
    expect(start).toMatchObject({ model: MODEL, content: [], stop_reason: null, stop_sequence: null, stop_details: null });
    expect(Object.keys(start.usage)).toEqual(Object.keys(recordedStart.usage));
    expect(start.usage).toMatchObject({ input_tokens: estimateInputTokens(REQUEST), output_tokens: 1 });
    const delta = list.find((f) => f.event === "message_delta")!.data;
    const recordedDelta = RECORDED_STREAM.find((e) => e.event === "message_delta")!.data;
    expect(Object.keys(delta.delta)).toEqual(Object.keys(recordedDelta.delta));
    expect(Object.keys(delta.usage)).toEqual(Object.keys(recordedDelta.usage));
    expect(delta).toMatchObject({
      delta: { stop_reason: "end_turn", stop_sequence: null, stop_details: null },
      usage: { input_tokens: estimateInputTokens(REQUEST), output_tokens: estimateTokens(DEFAULT_TEXT) },
    });
  });

  test("data lines are padded before the last } as Anthropic pads them, and stay valid JSON", async () => {
    const list = await streamFrames(await streamMessages("k-pad"));
    const padded = list.filter((f) => / +}$/.test(f.raw));
    expect(padded.length).toBeGreaterThan(list.length / 2);
    expect(list.every((f) => f.event === "ping" || f.raw.replace(/ +}$/, "}") === JSON.stringify(f.data))).toBe(true);
  });

  test("padding: false sends compact data lines", async () => {
    const other = await startMockAnthropic({ padding: false });
    try {
      const response = await fetch(`${other.url}/messages`, {
        method: "POST",
        headers: headersFor("k", {}),
        body: JSON.stringify({ ...REQUEST, stream: true }),
      });
      const list = frames(await response.text());
      expect(list.every((f) => f.event === "ping" || f.raw === JSON.stringify(f.data))).toBe(true);
    } finally {
      await other.stop();
    }
  });

  test("each event is flushed on its own, chunkDelayMs apart", async () => {
    mock.script("k-flush", { kind: "text", chunks: 4, chunkDelayMs: 30 });
    const started = Date.now();
    const { reads } = await drain(await streamMessages("k-flush"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(8 * 30 - 20);
    expect(reads).toHaveLength(10);
    expect(reads.every((r) => frames(r).length === 1)).toBe(true);
  });

  test("chunks sets the number of text deltas; the text is never split into empty pieces", async () => {
    mock.script("k-chunks", [{ kind: "text", text: "abcdefgh", chunks: 5 }, { kind: "text", text: "ab", chunks: 5 }]);
    const five = deltasOf(await streamFrames(await streamMessages("k-chunks")), 0, "text_delta", "text");
    expect(five).toHaveLength(5);
    expect(five.join("")).toBe("abcdefgh");
    const two = deltasOf(await streamFrames(await streamMessages("k-chunks")), 0, "text_delta", "text");
    expect(two).toEqual(["a", "b"]);
  });
});

// ---------------------------------------------------------------------------------------------
// thinking and tool use
// ---------------------------------------------------------------------------------------------

describe("thinking", () => {
  test("non-stream: content is [thinking, text]; the signature is the recorded one; thinking is billed as output", async () => {
    mock.script("k-think", { kind: "thinking" });
    const body = await json(await messages("k-think"));
    expect(body.content).toEqual([
      { type: "thinking", thinking: DEFAULT_THINKING, signature: DEFAULT_SIGNATURE },
      { type: "text", text: DEFAULT_TEXT },
    ]);
    const recordedSignature = recordedSse("anthropic/stream-thinking.sse.txt").find((e) => e.data.delta?.type === "signature_delta")!.data.delta.signature;
    expect(DEFAULT_SIGNATURE).toBe(recordedSignature);
    expect(body.usage.output_tokens).toBe(estimateTokens(DEFAULT_THINKING) + estimateTokens(DEFAULT_TEXT));
  });

  test("stream: the recorded shape — thinking_delta…, empty thinking_delta, signature_delta, then a text block", async () => {
    mock.script("k-think-s", { kind: "thinking", thinking: "Let me think about it.", signature: "sig-123", text: "Paris." });
    const list = await streamFrames(await streamMessages("k-think-s"));
    expect(shape(list)).toEqual(shape(recordedSse("anthropic/stream-thinking.sse.txt")));
    expect(list[1]!.data.content_block).toEqual({ type: "thinking", thinking: "", signature: "" });
    expect(list[2]!.event).toBe("ping");
    const thinking = deltasOf(list, 0, "thinking_delta", "thinking");
    expect(thinking.join("")).toBe("Let me think about it.");
    expect(thinking[thinking.length - 1]).toBe("");
    expect(deltasOf(list, 0, "signature_delta", "signature")).toEqual(["sig-123"]);
    expect(list.find((f) => f.event === "content_block_start" && f.data.index === 1)!.data.content_block).toEqual({ type: "text", text: "" });
    expect(deltasOf(list, 1, "text_delta", "text").join("")).toBe("Paris.");
    expect(list.filter((f) => f.event === "ping")).toHaveLength(1);
  });

  test("the same shape as the other thinking recording (thinking-signature-delta.chunks.txt), context_management aside", async () => {
    mock.script("k-think-c", { kind: "thinking" });
    const list = await streamFrames(await streamMessages("k-think-c"));
    expect(shape(list)).toEqual(shape(readChunksJson("anthropic/thinking-signature-delta.chunks.txt").map((data) => ({ data }))));
  });
});

describe("tool_use", () => {
  test("non-stream default: the recorded call, a toolu_ id, stop_reason tool_use", async () => {
    mock.script("k-tool", { kind: "tool_use" });
    const body = await json(await messages("k-tool"));
    expect(DEFAULT_CALLS).toEqual([{ name: "searchDocs", input: { query: "alpha" } }]);
    expect(body.stop_reason).toBe("tool_use");
    expect(body.content).toHaveLength(1);
    expect(body.content[0]).toMatchObject({ type: "tool_use", name: "searchDocs", input: { query: "alpha" } });
    expect(body.content[0].id).toMatch(/^toolu_/);
  });

  test("parallel calls with thinking first: [thinking, tool_use, tool_use] with distinct ids", async () => {
    const calls = [
      { name: "get_weather", input: { city: "Paris" } },
      { name: "get_time", input: { zone: "Europe/Paris", format: { hours: 24 } } },
    ];
    mock.script("k-tools", { kind: "tool_use", calls, withThinking: true });
    const body = await json(await messages("k-tools"));
    expect(body.content.map((b: any) => b.type)).toEqual(["thinking", "tool_use", "tool_use"]);
    expect(body.content[0].signature).toBe(DEFAULT_SIGNATURE);
    expect(body.content.slice(1).map((b: any) => ({ name: b.name, input: b.input }))).toEqual(calls);
    expect(body.content[1].id).not.toBe(body.content[2].id);
  });

  test("stream: the recorded shape — tool_use start with input {} and caller, an empty fragment first, Python-spaced JSON", async () => {
    mock.script("k-tool-s", { kind: "tool_use" });
    const list = await streamFrames(await streamMessages("k-tool-s"));
    expect(shape(list)).toEqual(shape(readChunksJson("anthropic/tool-use-input-json-delta.chunks.txt").map((data) => ({ data }))));
    const start = list[1]!.data.content_block;
    expect(start).toMatchObject({ type: "tool_use", name: "searchDocs", input: {}, caller: { type: "direct" } });
    expect(start.id).toMatch(/^toolu_/);
    const fragments = deltasOf(list, 0, "input_json_delta", "partial_json");
    expect(fragments[0]).toBe("");
    expect(fragments.length).toBeGreaterThan(2);
    const recorded = readChunksJson("anthropic/tool-use-input-json-delta.chunks.txt")
      .filter((e) => e.delta?.type === "input_json_delta")
      .map((e) => e.delta.partial_json)
      .join("");
    expect(fragments.join("")).toBe(recorded);
    expect(list.find((f) => f.event === "message_delta")!.data.delta.stop_reason).toBe("tool_use");
  });

  test("an empty input streams only the empty fragment, as stream-tool-use.sse.txt does", async () => {
    mock.script("k-tool-empty", { kind: "tool_use", calls: [{ name: "pelican_name_generator", input: {} }] });
    const list = await streamFrames(await streamMessages("k-tool-empty"));
    expect(deltasOf(list, 0, "input_json_delta", "partial_json")).toEqual([""]);
    expect(list.map((f) => f.event)).toEqual(recordedSse("anthropic/stream-tool-use.sse.txt").map((e) => e.event!));
  });

  test("stream with thinking and parallel calls: block indexes in order, one ping, every input parses", async () => {
    const calls = [
      { name: "a", input: { n: 1, list: [1, 2] } },
      { name: "b", input: { s: "x\"y" } },
    ];
    mock.script("k-tools-s", { kind: "tool_use", calls, withThinking: true });
    const list = await streamFrames(await streamMessages("k-tools-s"));
    const starts = list.filter((f) => f.event === "content_block_start").map((f) => [f.data.index, f.data.content_block.type]);
    expect(starts).toEqual([
      [0, "thinking"],
      [1, "tool_use"],
      [2, "tool_use"],
    ]);
    expect(list.filter((f) => f.event === "ping")).toHaveLength(1);
    expect(JSON.parse(deltasOf(list, 1, "input_json_delta", "partial_json").join(""))).toEqual(calls[0]!.input);
    expect(JSON.parse(deltasOf(list, 2, "input_json_delta", "partial_json").join(""))).toEqual(calls[1]!.input);
  });
});

// ---------------------------------------------------------------------------------------------
// fixtures and refusals
// ---------------------------------------------------------------------------------------------

describe("fixture replay", () => {
  test(".json on a non-stream request is served byte for byte with status 200", async () => {
    mock.script("k-fx", { kind: "fixture", file: "anthropic/parallel-tool-use.json" });
    const response = await messages("k-fx");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(readFixtureText("anthropic/parallel-tool-use.json"));
  });

  test("a 200 .json on a stream request is streamed like the mock's own messages", async () => {
    mock.script("k-fx-s", { kind: "fixture", file: "anthropic/redacted-thinking.json" });
    const recorded = readFixtureJson("anthropic/redacted-thinking.json");
    const list = await streamFrames(await streamMessages("k-fx-s"));
    expect(list[0]!.data.message.id).toBe(recorded.id);
    expect(list[1]!.data.content_block).toEqual(recorded.content[0]);
    expect(deltasOf(list, 1, "text_delta", "text").join("")).toBe(recorded.content[1].text);
    expect(list.find((f) => f.event === "message_delta")!.data.usage.output_tokens).toBe(recorded.usage.output_tokens);
  });

  test(".sse.txt is replayed byte for byte, one read per event", async () => {
    mock.script("k-fx-sse", { kind: "fixture", file: "anthropic/stream-text.sse.txt", chunkDelayMs: 10 });
    const { text, reads } = await drain(await streamMessages("k-fx-sse"));
    expect(text).toBe(readFixtureText("anthropic/stream-text.sse.txt"));
    expect(reads).toHaveLength(RECORDED_STREAM.length);
  });

  test(".chunks.txt lines are framed with their event names, data bytes untouched", async () => {
    mock.script("k-fx-chunks", { kind: "fixture", file: "anthropic/cache-write.chunks.txt" });
    const list = await streamFrames(await streamMessages("k-fx-chunks"));
    const lines = readChunkLines("anthropic/cache-write.chunks.txt");
    expect(list.map((f) => f.raw)).toEqual(lines);
    expect(list.map((f) => f.event)).toEqual(lines.map((l) => JSON.parse(l).type));
  });

  test("an error-NNN- fixture keeps its status and plain JSON body, also on a stream request", async () => {
    mock.script("k-fx-err", { kind: "fixture", file: "anthropic/error-404-not-found-model.json" });
    const response = await streamMessages("k-fx-err");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.text()).toBe(readFixtureText("anthropic/error-404-not-found-model.json"));
  });

  test("a stream recording on a non-stream request is reported as a mock misuse", async () => {
    mock.script("k-fx-misuse", { kind: "fixture", file: "anthropic/text.chunks.txt" });
    const response = await messages("k-fx-misuse");
    expect(response.status).toBe(500);
    expect(await response.text()).toContain("mock anthropic");
  });
});

describe("refusal", () => {
  test("stream: the recorded refusal sequence with its stop_details, for the requested model", async () => {
    mock.script("k-refuse", { kind: "refusal" });
    const list = await streamFrames(await streamMessages("k-refuse"));
    const recorded = readChunksJson("anthropic/refusal-stop-details.chunks.txt");
    expect(list.map((f) => f.event)).toEqual(recorded.map((e) => e.type));
    expect(list[0]!.data.message.model).toBe(MODEL);
    const delta = list[2]!.data;
    expect(delta.delta.stop_reason).toBe("refusal");
    expect(delta.delta.stop_details).toEqual(recorded[2].delta.stop_details);
    expect(delta.usage.output_tokens).toBe(recorded[2].usage.output_tokens);
  });

  test("non-stream: no content, stop_reason refusal, the recorded stop_details", async () => {
    mock.script("k-refuse-ns", { kind: "refusal" });
    const body = await json(await messages("k-refuse-ns"));
    expect(body.content).toEqual([]);
    expect(body.stop_reason).toBe("refusal");
    expect(body.stop_details).toMatchObject({ type: "refusal", category: "cyber" });
  });
});

// ---------------------------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------------------------

describe("error responses", () => {
  test("rate_limit: 429 rate_limit_error with retry-after and anthropic-ratelimit-requests-* (RFC 3339 reset)", async () => {
    mock.script("k-429", { kind: "rate_limit", retryAfterSeconds: 7 });
    const before = Date.now();
    const response = await messages("k-429");
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("7");
    expect(response.headers.get("anthropic-ratelimit-requests-limit")).toBe(String(RATE_LIMIT_REQUESTS_PER_MINUTE));
    expect(response.headers.get("anthropic-ratelimit-requests-remaining")).toBe("0");
    const reset = response.headers.get("anthropic-ratelimit-requests-reset")!;
    expect(reset).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Date.parse(reset)).toBeGreaterThanOrEqual(before + 7000 - 1000);
    expect(Date.parse(reset)).toBeLessThanOrEqual(Date.now() + 7000 + 1000);
    const body = await json(response);
    expect(Object.keys(body)).toEqual(["type", "error", "request_id"]);
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.message).toContain("would exceed the rate limit for your organization");
    expect(body.request_id).toBe(response.headers.get("request-id")!);
  });

  test("rate_limit without a wait still sends retry-after (1 s), on stream requests too", async () => {
    mock.script("k-429-d", { kind: "rate_limit" });
    const response = await streamMessages("k-429-d");
    expect(response.status).toBe(429);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("retry-after")).toBe("1");
  });

  test("overloaded: 529 with the recorded body, byte for byte", async () => {
    mock.script("k-529", { kind: "overloaded" });
    const response = await streamMessages("k-529");
    expect(response.status).toBe(529);
    expect(await response.text()).toBe(readFixtureText("anthropic/error-529-overloaded.json"));
  });

  test("invalid_key: 401 authentication_error 'invalid x-api-key'", async () => {
    mock.script("k-401", { kind: "invalid_key" });
    const response = await messages("k-401");
    expect(response.status).toBe(401);
    expect((await json(response)).error).toEqual({ type: "authentication_error", message: "invalid x-api-key" });
  });

  test("credit_balance: 400 invalid_request_error with the billing message", async () => {
    mock.script("k-credit", { kind: "credit_balance" });
    const response = await messages("k-credit");
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body.error).toEqual({ type: "invalid_request_error", message: CREDIT_BALANCE_MESSAGE });
    expect(body.error.message).toBe(
      "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
    );
  });

  test("bad_request serves the recorded 400, or the named fixture with its status", async () => {
    mock.script("k-400", [{ kind: "bad_request" }, { kind: "bad_request", fixture: "anthropic/error-400-invalid-request-effort.json" }]);
    const first = await messages("k-400");
    expect(first.status).toBe(400);
    expect(await first.text()).toBe(readFixtureText("anthropic/error-400-tool-result-without-tool-use.json"));
    const second = await messages("k-400");
    expect(second.status).toBe(400);
    expect((await json(second)).error.message).toContain("effort level");
  });

  test("error behaviours apply to count_tokens and the model list too", async () => {
    mock.script("k-err-all", [{ kind: "rate_limit" }, { kind: "overloaded" }, { kind: "invalid_key" }]);
    expect((await countTokens("k-err-all", REQUEST)).status).toBe(429);
    expect((await get("/models", "k-err-all")).status).toBe(529);
    expect((await get(`/models/${MODEL}`, "k-err-all")).status).toBe(401);
  });
});

describe("broken streams", () => {
  test("error_mid_stream: message_start, block start, ping, one delta, then the recorded event: error; no message_stop", async () => {
    mock.script("k-mid", { kind: "error_mid_stream" });
    const response = await streamMessages("k-mid");
    expect(response.status).toBe(200);
    const { text, reads, error } = await drain(response);
    expect(error).toBeUndefined();
    const list = frames(text);
    expect(list.map((f) => f.event)).toEqual(["message_start", "content_block_start", "ping", "content_block_delta", "error"]);
    expect(reads.length).toBeGreaterThan(1);
    expect(text.endsWith(RECORDED_ERROR_FRAME)).toBe(true);
    expect(list[4]!.data.error).toEqual({ details: null, type: "overloaded_error", message: "Overloaded" });
  });

  test("error_mid_stream with afterChunks sends that many non-empty text deltas first", async () => {
    mock.script("k-mid-3", { kind: "error_mid_stream", afterChunks: 3 });
    const list = await streamFrames(await streamMessages("k-mid-3"));
    const deltas = deltasOf(list, 0, "text_delta", "text");
    expect(deltas).toHaveLength(3);
    expect(deltas.every((d) => d.length > 0)).toBe(true);
    expect(list[list.length - 1]!.event).toBe("error");
  });

  test("error_first_event: HTTP 200 stream whose first and only event is the overloaded error", async () => {
    mock.script("k-first", { kind: "error_first_event" });
    const response = await streamMessages("k-first");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    expect(await response.text()).toBe(RECORDED_ERROR_FRAME);
  });

  test("in-stream error behaviours on non-stream requests answer 529 overloaded", async () => {
    mock.script("k-ns", [{ kind: "error_first_event" }, { kind: "error_mid_stream", afterChunks: 2 }]);
    for (let i = 0; i < 2; i++) {
      const response = await messages("k-ns");
      expect(response.status).toBe(529);
      expect((await json(response)).error.type).toBe("overloaded_error");
    }
  });

  test("reset_mid_stream: N deltas arrive, then reading the body fails", async () => {
    mock.script("k-reset", { kind: "reset_mid_stream", afterChunks: 2 });
    const response = await streamMessages("k-reset");
    expect(response.status).toBe(200);
    const { text, error } = await drain(response);
    expect(error).toBeDefined();
    const list = frames(text);
    expect(list.map((f) => f.event)).toEqual(["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta"]);
    await waitFor(() => mock.openConnections() === 0);
  });

  test("reset_mid_stream with a large afterChunks still sends that many non-empty deltas", async () => {
    mock.script("k-reset-many", { kind: "reset_mid_stream", afterChunks: 40 });
    const { text, error } = await drain(await streamMessages("k-reset-many"));
    expect(error).toBeDefined();
    const deltas = deltasOf(frames(text), 0, "text_delta", "text");
    expect(deltas).toHaveLength(40);
    expect(deltas.every((d) => d.length > 0)).toBe(true);
  });

  test("reset_mid_stream on a non-stream request closes the socket with no response", async () => {
    mock.script("k-reset-ns", { kind: "reset_mid_stream", afterChunks: 0 });
    await expect(messages("k-reset-ns")).rejects.toThrow();
    await waitFor(() => mock.openConnections() === 0);
  });
});

// ---------------------------------------------------------------------------------------------
// count_tokens and models
// ---------------------------------------------------------------------------------------------

describe("count_tokens", () => {
  test("answers {input_tokens} with the documented estimate; max_tokens is not needed", async () => {
    const body = { model: MODEL, messages: REQUEST.messages };
    const response = await countTokens("k-count", body);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ input_tokens: estimateInputTokens(body) });
    expect(estimateInputTokens(body)).toBe(estimateTokens(PROMPT));
  });

  test("the estimate counts system, text, tool_use, tool_result and tool definitions", async () => {
    const tool = { name: "get_weather", description: "Weather for a city", input_schema: { type: "object", properties: { city: { type: "string" } } } };
    const body = {
      model: MODEL,
      system: [{ type: "text", text: "Be brief." }],
      tools: [tool],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "Sunny, 21C" }] }] },
      ],
    };
    const expected = estimateTokens(["Be brief.", "Weather in Paris?", 'get_weather{"city":"Paris"}', "Sunny, 21C", JSON.stringify(tool)].join("\n"));
    expect(await json(await countTokens("k-count2", body))).toEqual({ input_tokens: expected });
    expect(estimateInputTokens({ ...body, system: "Be brief." })).toBe(expected);
  });

  test("messages usage reports the same input_tokens that count_tokens returns", async () => {
    const body = { ...REQUEST, system: "You are a geography tutor." };
    const counted = (await json(await countTokens("k-count3", { model: MODEL, system: body.system, messages: body.messages }))).input_tokens;
    const usage = (await json(await messages("k-count3", { body }))).usage;
    expect(usage.input_tokens).toBe(counted);
  });

  test("model and messages are required (400 invalid_request_error)", async () => {
    const response = await countTokens("k-count4", { messages: [] });
    expect(response.status).toBe(400);
    expect((await json(response)).error).toEqual({ type: "invalid_request_error", message: "model: Field required" });
  });
});

describe("GET models", () => {
  async function listAll(key: string, query = ""): Promise<{ pages: any[]; ids: string[] }> {
    const pages: any[] = [];
    let after = "";
    for (;;) {
      const page = await json(await get(`/models?${query}${after}`, key));
      pages.push(page);
      if (!page.has_more) break;
      after = `${query ? "&" : ""}after_id=${page.last_id}`;
    }
    return { pages, ids: pages.flatMap((p) => p.data.map((m: any) => m.id)) };
  }

  test("pages of 2 by default; following has_more / last_id yields every model, newest first", async () => {
    const { pages, ids } = await listAll("k-models");
    expect(pages.map((p) => p.data.length)).toEqual([2, 2, 1]);
    expect(ids).toEqual(DEFAULT_MODELS.map((m) => m.id));
    expect(pages.map((p) => p.has_more)).toEqual([true, true, false]);
    const first = pages[0];
    expect(Object.keys(first)).toEqual(["data", "has_more", "first_id", "last_id"]);
    expect(first.first_id).toBe(first.data[0].id);
    expect(first.last_id).toBe(first.data[1].id);
    expect(first.data[0]).toEqual({ type: "model", id: DEFAULT_MODELS[0]!.id, display_name: DEFAULT_MODELS[0]!.display_name, created_at: DEFAULT_MODELS[0]!.created_at });
    expect(mock.callsFor("k-models", "/models").map((c) => c.query)).toEqual([
      "",
      `?after_id=${pages[0].last_id}`,
      `?after_id=${pages[1].last_id}`,
    ]);
  });

  test("a smaller limit wins; a larger one is capped by the mock's page size", async () => {
    expect((await json(await get("/models?limit=1", "k-limit"))).data).toHaveLength(1);
    expect((await json(await get("/models?limit=1000", "k-limit"))).data).toHaveLength(2);
    const { ids } = await listAll("k-limit", "limit=1");
    expect(ids).toHaveLength(DEFAULT_MODELS.length);
  });

  test("before_id pages backward", async () => {
    const last = DEFAULT_MODELS[DEFAULT_MODELS.length - 1]!.id;
    const page = await json(await get(`/models?before_id=${last}`, "k-before"));
    expect(page.data.map((m: any) => m.id)).toEqual(DEFAULT_MODELS.slice(-3, -1).map((m) => m.id));
    expect(page.has_more).toBe(true);
    const first = await json(await get(`/models?before_id=${DEFAULT_MODELS[1]!.id}`, "k-before"));
    expect(first.data.map((m: any) => m.id)).toEqual([DEFAULT_MODELS[0]!.id]);
    expect(first.has_more).toBe(false);
  });

  test("an unknown cursor is a 400 invalid_request_error; an empty page has null ids", async () => {
    const response = await get("/models?after_id=claude-nope", "k-cursor");
    expect(response.status).toBe(400);
    expect((await json(response)).error.type).toBe("invalid_request_error");
    const empty = await json(await get(`/models?after_id=${DEFAULT_MODELS[DEFAULT_MODELS.length - 1]!.id}`, "k-cursor"));
    expect(empty).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
  });

  test("configured models and page size; missing names and dates are filled in", async () => {
    const other = await startMockAnthropic({ models: [{ id: "claude-a", display_name: "Claude A" }, { id: "claude-b" }, { id: "claude-c" }], pageSize: 3 });
    try {
      const page = await json(await fetch(`${other.url}/models`, { headers: headersFor("k", {}) }));
      expect(page.data.map((m: any) => m.id)).toEqual(["claude-a", "claude-b", "claude-c"]);
      expect(page.has_more).toBe(false);
      expect(page.data[0].display_name).toBe("Claude A");
      expect(page.data[1].display_name).toBe("claude-b");
      expect(page.data[1].created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    } finally {
      await other.stop();
    }
  });

  test("GET /models/{id} returns one model; an unknown id gets the recorded 404 shape naming it", async () => {
    const one = await get(`/models/${MODEL}`, "k-one-model");
    expect(one.status).toBe(200);
    expect((await json(one)).id).toBe(MODEL);
    const missing = await get("/models/claude-sonet-4-5", "k-one-model");
    expect(missing.status).toBe(404);
    const body = await json(missing);
    const recorded = readFixtureJson("anthropic/error-404-not-found-model.json");
    expect(Object.keys(body)).toEqual(Object.keys(recorded));
    expect(body.error).toEqual(recorded.error);
  });

  test("message behaviours on the model routes mean 'answer normally'", async () => {
    mock.script("k-models-text", [{ kind: "tool_use" }, { kind: "refusal" }, { kind: "fixture", file: "anthropic/text.json" }]);
    for (let i = 0; i < 3; i++) expect((await json(await get("/models", "k-models-text"))).data).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------------------------
// auth, headers and validation
// ---------------------------------------------------------------------------------------------

describe("auth and headers", () => {
  test("x-api-key is the key; the header used, anthropic-version and anthropic-beta are recorded", async () => {
    await messages("k-hdr", { beta: "interleaved-thinking-2025-05-14" });
    const call = mock.callsFor("k-hdr")[0]!;
    expect(call).toMatchObject({ key: "k-hdr", authHeader: "x-api-key", anthropicVersion: VERSION, anthropicBeta: "interleaved-thinking-2025-05-14" });
  });

  test("Authorization: Bearer is accepted and recorded as such", async () => {
    const response = await messages("k-bearer", { auth: "bearer" });
    expect(response.status).toBe(200);
    expect(mock.callsFor("k-bearer")[0]).toMatchObject({ key: "k-bearer", authHeader: "authorization", anthropicBeta: null });
  });

  test("with both headers, x-api-key wins", async () => {
    await messages("k-both", { auth: "both" });
    expect(mock.callsFor("k-both")[0]!.authHeader).toBe("x-api-key");
    expect(mock.callsFor("other-key")).toHaveLength(0);
  });

  test("no key: 401 'x-api-key header is required', recorded with key '' and authHeader null", async () => {
    const response = await messages("ignored", { auth: "none" });
    expect(response.status).toBe(401);
    const body = await json(response);
    expect(body.error).toEqual({ type: "authentication_error", message: "x-api-key header is required" });
    expect(body.request_id).toBe(response.headers.get("request-id")!);
    expect(mock.calls[0]).toMatchObject({ key: "", authHeader: null });
  });

  test("no anthropic-version: 400 invalid_request_error like the real API, recorded as null, script untouched", async () => {
    mock.script("k-nover", [{ kind: "rate_limit" }, { kind: "overloaded" }]);
    const response = await messages("k-nover", { version: null });
    expect(response.status).toBe(400);
    expect((await json(response)).error).toEqual({ type: "invalid_request_error", message: "anthropic-version: header is required" });
    expect(mock.callsFor("k-nover")[0]!.anthropicVersion).toBeNull();
    expect((await messages("k-nover")).status).toBe(429);
  });

  test("with knownKeys, other keys get 401 invalid x-api-key and scripts are not consumed", async () => {
    const other = await startMockAnthropic({ knownKeys: ["good"] });
    try {
      other.script("bad", { kind: "rate_limit" });
      const send = (key: string) => fetch(`${other.url}/messages`, { method: "POST", headers: headersFor(key, {}), body: JSON.stringify(REQUEST) });
      const bad = await send("bad");
      expect(bad.status).toBe(401);
      expect((await json(bad)).error.message).toBe("invalid x-api-key");
      expect((await send("good")).status).toBe(200);
      other.script("good", [{ kind: "overloaded" }, { kind: "text" }]);
      expect((await send("bad")).status).toBe(401);
      expect((await send("good")).status).toBe(529);
    } finally {
      await other.stop();
    }
  });
});

describe("validation and routing", () => {
  test("a messages request without max_tokens is a 400 'max_tokens: Field required' and does not consume the script", async () => {
    mock.script("k-nomax", [{ kind: "overloaded" }]);
    const { max_tokens: _, ...withoutMax } = REQUEST;
    const response = await messages("k-nomax", { body: withoutMax });
    expect(response.status).toBe(400);
    expect((await json(response)).error).toEqual({ type: "invalid_request_error", message: "max_tokens: Field required" });
    expect((await messages("k-nomax")).status).toBe(529);
  });

  test("model and messages are required; a non-integer max_tokens is refused", async () => {
    const noModel = await messages("k-val", { body: { max_tokens: 5, messages: [] } });
    expect((await json(noModel)).error.message).toBe("model: Field required");
    const noMessages = await messages("k-val", { body: { model: MODEL, max_tokens: 5 } });
    expect((await json(noMessages)).error.message).toBe("messages: Field required");
    const badMax = await messages("k-val", { extra: { max_tokens: "many" } });
    expect(badMax.status).toBe(400);
    expect((await json(badMax)).error.message).toStartWith("max_tokens:");
  });

  test("a non-JSON body is a 400 and is recorded as null", async () => {
    const response = await messages("k-notjson", { body: "not json" });
    expect(response.status).toBe(400);
    expect((await json(response)).error.type).toBe("invalid_request_error");
    expect(mock.callsFor("k-notjson")[0]!.body).toBeNull();
  });

  test("unknown routes get a 404 not_found_error, even without a key, and do not consume the script", async () => {
    mock.script("k-route", [{ kind: "overloaded" }]);
    const response = await post("/chat/completions", "k-route");
    expect(response.status).toBe(404);
    expect((await json(response)).error).toEqual({ type: "not_found_error", message: "Not Found" });
    expect((await post("/complete", "x", { auth: "none" })).status).toBe(404);
    expect((await messages("k-route")).status).toBe(529);
  });

  test("every call is recorded with key, auth header, version, path, query, method, parsed body, stream and time", async () => {
    const before = Date.now();
    await messages("k-rec");
    await (await streamMessages("k-rec")).text();
    await countTokens("k-rec", { model: MODEL, messages: [] });
    await get("/models?limit=1", "k-rec");
    const calls = mock.callsFor("k-rec");
    expect(calls.map((c) => [c.method, c.path, c.query, c.stream])).toEqual([
      ["POST", "/v1/messages", "", false],
      ["POST", "/v1/messages", "", true],
      ["POST", "/v1/messages/count_tokens", "", false],
      ["GET", "/v1/models", "?limit=1", false],
    ]);
    expect(calls[0]!.body).toEqual(REQUEST);
    expect(calls[1]!.body).toEqual({ ...REQUEST, stream: true });
    expect(calls[3]!.body).toBeNull();
    expect(calls.every((c) => c.at >= before && c.at <= Date.now() && c.aborted === false)).toBe(true);
    expect(calls.every((c) => c.authHeader === "x-api-key" && c.anthropicVersion === VERSION)).toBe(true);
    expect(mock.callsFor("k-rec", "/messages")).toHaveLength(2);
    expect(mock.callsFor("k-rec", "/count_tokens")).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// scripts, hangs, slowness and aborts (mock-core's machinery)
// ---------------------------------------------------------------------------------------------

describeMockCore({
  start: () => startMockAnthropic(),
  send: (target, key, { stream, signal }) =>
    fetch(`${target.url}/messages`, { method: "POST", headers: headersFor(key, {}), body: JSON.stringify({ ...REQUEST, stream }), signal }),
  longStream: { kind: "text", chunks: 20, chunkDelayMs: 50 },
  replyText: (body) => body.content[0].text,
  streamedText: (body) => deltasOf(frames(body), 0, "text_delta", "text").join(""),
  defaultText: DEFAULT_TEXT,
});
