/**
 * Tests for the scripted Gemini mock: every behaviour is driven with plain fetch, and the shapes it
 * serves are checked against the recorded fixtures in test/fixtures/google they are built from.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { parseSse, readChunkLines, readFixtureJson, readFixtureText, readSseJson } from "./fixtures.ts";
import { DEFAULT_CALLS, DEFAULT_CHUNKS, DEFAULT_MODEL_IDS, DEFAULT_SIGNATURE, DEFAULT_TEXT, DEFAULT_TOOL_THOUGHTS_TOKENS, QUOTA_ID_PER_DAY, QUOTA_ID_PER_MINUTE, TEXT_SIGNATURE, estimateTokens, startMockGemini, type MockGemini } from "./mock-gemini.ts";
import { describeMockCore } from "./mock-core-tests.ts";
import { drain, json, sortedKeys, waitFor } from "./probes.ts";

let mock: MockGemini;

beforeAll(async () => {
  mock = await startMockGemini();
});
afterEach(() => mock.reset());
afterAll(() => mock.stop());

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

const MODEL = "gemini-2.5-flash";
const PROMPT = "What is the capital of France?";
const REQUEST = { contents: [{ role: "user", parts: [{ text: PROMPT }] }] };

interface CallOptions {
  model?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Appended to the URL as-is, e.g. "&key=abc". */
  extraQuery?: string;
}

function headersFor(key: string | null | undefined): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const value = key === undefined ? "g-test" : key;
  if (value !== null) headers["x-goog-api-key"] = value;
  return headers;
}

/** `key` null sends no x-goog-api-key header. */
function post(path: string, key: string | null, options: CallOptions = {}): Promise<Response> {
  return fetch(mock.url + path, {
    method: "POST",
    headers: headersFor(key),
    body: JSON.stringify(options.body ?? REQUEST),
    signal: options.signal,
  });
}

function generate(key: string | null, options: CallOptions = {}): Promise<Response> {
  return post(`/models/${options.model ?? MODEL}:generateContent${options.extraQuery ?? ""}`, key, options);
}

function streamGenerate(key: string | null, options: CallOptions = {}): Promise<Response> {
  return post(`/models/${options.model ?? MODEL}:streamGenerateContent?alt=sse${options.extraQuery ?? ""}`, key, options);
}

function embed(key: string, requests: unknown[], model = "gemini-embedding-001"): Promise<Response> {
  return post(`/models/${model}:batchEmbedContents`, key, { body: { requests } });
}

function listModels(key: string | null, query = ""): Promise<Response> {
  return fetch(`${mock.url}/models${query}`, { headers: headersFor(key) });
}

function embedRequest(text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: "models/gemini-embedding-001", content: { parts: [{ text }] }, ...extra };
}

async function streamPayloads(response: Response): Promise<any[]> {
  return parseSse(await response.text()).map((e) => JSON.parse(e.data));
}

/** Every `data:` line of a Google stream is one JSON object followed by CRLF CRLF. */
const CRLF_EVENTS = /^(data: [^\r\n]+\r\n\r\n)+$/;

function quotaIdOf(body: any): string {
  return body.error.details.find((d: any) => d["@type"].endsWith("QuotaFailure")).violations[0].quotaId;
}

function retryDelayOf(body: any): string {
  return body.error.details.find((d: any) => d["@type"].endsWith("RetryInfo")).retryDelay;
}

// ---------------------------------------------------------------------------------------------
// text
// ---------------------------------------------------------------------------------------------

describe("text, non-stream", () => {
  test("uses the recorded generateContent shape with the path model, a fresh id and estimated usage", async () => {
    mock.script("k-text", { kind: "text", text: "Paris." });
    const response = await generate("k-text");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=UTF-8");
    const body = await json(response);
    const recorded = readFixtureJson("google/text-gemini3.json");
    expect(sortedKeys(body)).toEqual(sortedKeys(recorded));
    expect(sortedKeys(body.candidates[0])).toEqual(sortedKeys(recorded.candidates[0]));
    expect(body.candidates[0].content).toEqual({ parts: [{ text: "Paris." }], role: "model" });
    expect(body.candidates[0].finishReason).toBe("STOP");
    expect(body.modelVersion).toBe(MODEL);
    expect(body.responseId).not.toBe(recorded.responseId);
    const prompt = estimateTokens(PROMPT);
    const candidates = estimateTokens("Paris.");
    expect(body.usageMetadata).toEqual({
      promptTokenCount: prompt,
      candidatesTokenCount: candidates,
      totalTokenCount: prompt + candidates,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: prompt }],
    });
  });

  test("defaults to DEFAULT_TEXT; every response has its own responseId", async () => {
    const first = await json(await generate("k-default"));
    const second = await json(await generate("k-default"));
    expect(first.candidates[0].content.parts[0].text).toBe(DEFAULT_TEXT);
    expect(first.responseId).not.toBe(second.responseId);
  });

  test("thoughts come first as a thought:true part; the answer carries a signature; thoughts are billed", async () => {
    mock.script("k-think", { kind: "text", text: "Answer.", thoughts: "Let me think about it." });
    const body = await json(await generate("k-think"));
    expect(body.candidates[0].content.parts).toEqual([
      { text: "Let me think about it.", thought: true },
      { text: "Answer.", thoughtSignature: TEXT_SIGNATURE },
    ]);
    const usage = body.usageMetadata;
    expect(usage.thoughtsTokenCount).toBe(estimateTokens("Let me think about it."));
    expect(usage.totalTokenCount).toBe(usage.promptTokenCount + usage.candidatesTokenCount + usage.thoughtsTokenCount);
    // Same part layout as the recorded includeThoughts answer.
    const recorded = readFixtureJson("google/thinking-parts-include-thoughts.json").candidates[0].content.parts;
    expect(body.candidates[0].content.parts.map(sortedKeys)).toEqual(recorded.slice(0, 2).map(sortedKeys));
  });

  test("usage overrides replace the estimates", async () => {
    mock.script("k-usage", { kind: "text", thoughts: "hmm", usage: { prompt: 100, candidates: 20, thoughts: 7 } });
    const usage = (await json(await generate("k-usage"))).usageMetadata;
    expect(usage).toMatchObject({ promptTokenCount: 100, candidatesTokenCount: 20, thoughtsTokenCount: 7, totalTokenCount: 127 });
  });

  test("prompt tokens count system instruction and every content part", async () => {
    const body = {
      systemInstruction: { parts: [{ text: "Be brief." }] },
      contents: [
        { role: "user", parts: [{ text: "a".repeat(40) }] },
        { role: "model", parts: [{ text: "b".repeat(40) }] },
      ],
    };
    const usage = (await json(await generate("k-prompt", { body }))).usageMetadata;
    expect(usage.promptTokenCount).toBe(estimateTokens(["Be brief.", "a".repeat(40), "b".repeat(40)].join("\n")));
  });
});

describe("text, stream", () => {
  test("CRLF-framed data events, no [DONE], text split across events, finishReason and full usage on the last", async () => {
    mock.script("k-stream", { kind: "text", text: "The capital of France is Paris." });
    const response = await streamGenerate("k-stream");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const raw = await response.text();
    expect(raw).toMatch(CRLF_EVENTS);
    expect(raw).not.toContain("[DONE]");
    const chunks = parseSse(raw).map((e) => JSON.parse(e.data));
    expect(chunks).toHaveLength(DEFAULT_CHUNKS);
    expect(chunks.map((c) => c.candidates[0].content.parts[0].text).join("")).toBe("The capital of France is Paris.");
    expect(chunks.slice(0, -1).every((c) => c.candidates[0].finishReason === undefined)).toBe(true);
    const last = chunks[chunks.length - 1];
    expect(last.candidates[0].finishReason).toBe("STOP");
    expect(new Set(chunks.map((c) => c.responseId)).size).toBe(1);
    expect(chunks.every((c) => c.modelVersion === MODEL && c.candidates[0].content.role === "model")).toBe(true);
    // Usage grows per event and ends where the non-stream answer's usage is.
    const counts = chunks.map((c) => c.usageMetadata.candidatesTokenCount ?? 0);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    mock.script("k-stream", { kind: "text", text: "The capital of France is Paris." });
    const whole = await json(await generate("k-stream"));
    expect(last.usageMetadata).toEqual(whole.usageMetadata);
    // Same top-level and candidate fields as the recorded stream (plus the index Gemini 2.5+ sends).
    const recorded = readSseJson("google/stream-basic.sse.txt");
    expect(sortedKeys(last)).toEqual(sortedKeys(recorded[recorded.length - 1]));
  });

  test("thoughts stream first, without candidatesTokenCount; the first answer part is signed", async () => {
    mock.script("k-stream-think", { kind: "text", text: "Cross at the light.", thoughts: "Safety first, then clarity.", chunks: 2 });
    const chunks = await streamPayloads(await streamGenerate("k-stream-think"));
    expect(chunks).toHaveLength(4);
    const parts = chunks.map((c) => c.candidates[0].content.parts[0]);
    expect(parts.slice(0, 2).every((p) => p.thought === true)).toBe(true);
    expect(parts.slice(0, 2).map((p) => p.text).join("")).toBe("Safety first, then clarity.");
    expect(parts[2]).toEqual({ text: parts[2].text, thoughtSignature: TEXT_SIGNATURE });
    expect(parts[3].thoughtSignature).toBeUndefined();
    expect(parts.slice(2).map((p) => p.text).join("")).toBe("Cross at the light.");
    expect(chunks[0].usageMetadata.candidatesTokenCount).toBeUndefined();
    expect(chunks[0].usageMetadata.thoughtsTokenCount).toBeGreaterThan(0);
    expect(chunks[3].usageMetadata.thoughtsTokenCount).toBe(estimateTokens("Safety first, then clarity."));
    // Same event layout as the recorded includeThoughts stream.
    const recorded = readSseJson("google/stream-thought-summaries-include-thoughts.sse.txt");
    expect(sortedKeys(chunks[0].candidates[0])).toEqual(sortedKeys(recorded[0].candidates[0]));
    expect(sortedKeys(chunks[0].usageMetadata)).toEqual(sortedKeys(recorded[0].usageMetadata));
  });

  test("each event is flushed on its own, chunkDelayMs apart", async () => {
    mock.script("k-flush", { kind: "text", chunks: 4, chunkDelayMs: 40 });
    const started = Date.now();
    const { reads } = await drain(await streamGenerate("k-flush"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(reads).toHaveLength(4);
    expect(reads.every((r) => CRLF_EVENTS.test(r) && r.split("data: ").length === 2)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// tool calls
// ---------------------------------------------------------------------------------------------

describe("tool calls", () => {
  test("default: the recorded call with its signature, finishReason STOP and billed thoughts", async () => {
    mock.script("k-tool", { kind: "tool_call" });
    const body = await json(await generate("k-tool"));
    const recorded = readFixtureJson("google/tool-call-gemini3.json");
    expect(body.candidates[0].content.parts).toEqual(recorded.candidates[0].content.parts);
    expect(body.candidates[0].finishReason).toBe("STOP");
    expect(body.candidates[0].finishMessage).toBe(recorded.candidates[0].finishMessage);
    expect(body.usageMetadata.thoughtsTokenCount).toBe(DEFAULT_TOOL_THOUGHTS_TOKENS);
    expect(body.modelVersion).toBe(MODEL);
  });

  test("parallel calls: only the first is signed; signature:null signs none", async () => {
    const calls = [
      { name: "sum", args: { x: 1, y: 2 } },
      { name: "sum", args: { x: 3, y: 4 } },
      { name: "now", args: {} },
    ];
    mock.script("k-par", [{ kind: "tool_call", calls, signature: "sig-1" }, { kind: "tool_call", calls, signature: null }]);
    const signed = (await json(await generate("k-par"))).candidates[0].content.parts;
    expect(signed).toEqual([
      { functionCall: calls[0], thoughtSignature: "sig-1" },
      { functionCall: calls[1] },
      { functionCall: calls[2] },
    ]);
    const unsigned = (await json(await generate("k-par"))).candidates[0].content.parts;
    expect(unsigned.every((p: any) => p.thoughtSignature === undefined)).toBe(true);
  });

  test("stream: one call per event, first signed, then the recorded empty-text STOP event", async () => {
    const calls = [
      { name: "a", args: { n: 1 } },
      { name: "b", args: { n: 2 } },
    ];
    mock.script("k-tool-s", { kind: "tool_call", calls });
    const response = await streamGenerate("k-tool-s");
    const raw = await response.text();
    expect(raw).toMatch(CRLF_EVENTS);
    const chunks = parseSse(raw).map((e) => JSON.parse(e.data));
    expect(chunks).toHaveLength(3);
    expect(chunks[0].candidates[0].content.parts).toEqual([{ functionCall: calls[0], thoughtSignature: DEFAULT_SIGNATURE }]);
    expect(chunks[1].candidates[0].content.parts).toEqual([{ functionCall: calls[1] }]);
    const recorded = readSseJson("google/stream-tool-call-thought-signature.sse.txt");
    expect(chunks[2].candidates[0].content).toEqual(recorded[1].candidates[0].content);
    expect(chunks[2].candidates[0].finishReason).toBe("STOP");
    expect(chunks.every((c) => c.usageMetadata.thoughtsTokenCount === DEFAULT_TOOL_THOUGHTS_TOKENS)).toBe(true);
  });

  test("stream: callsPerEvent puts parallel calls in one event", async () => {
    mock.script("k-tool-one", { kind: "tool_call", calls: [...DEFAULT_CALLS, { name: "x", args: {} }], callsPerEvent: 5 });
    const chunks = await streamPayloads(await streamGenerate("k-tool-one"));
    expect(chunks).toHaveLength(2);
    expect(chunks[0].candidates[0].content.parts).toHaveLength(2);
    expect(chunks[0].candidates[0].content.parts[0].thoughtSignature).toBe(DEFAULT_SIGNATURE);
  });
});

// ---------------------------------------------------------------------------------------------
// fixtures, empty, blocked
// ---------------------------------------------------------------------------------------------

describe("fixture replay", () => {
  test(".json on a non-stream request is served byte for byte with status 200", async () => {
    mock.script("k-fx", { kind: "fixture", file: "google/usage-cached-content.json" });
    const response = await generate("k-fx");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(readFixtureText("google/usage-cached-content.json"));
  });

  test("an error-NNN- fixture keeps its status, also on the stream endpoint (plain body)", async () => {
    const file = "google/error-404-stream-endpoint-debuginfo.json";
    mock.script("k-fx-err", { kind: "fixture", file });
    const response = await streamGenerate("k-fx-err");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(await response.text()).toBe(readFixtureText(file));
  });

  test(".sse.txt on a stream request is replayed byte for byte, one read per event", async () => {
    const file = "google/stream-thinking-function-call-thought-signature.sse.txt";
    mock.script("k-fx-sse", { kind: "fixture", file, chunkDelayMs: 20 });
    const { text, reads } = await drain(await streamGenerate("k-fx-sse"));
    expect(text).toBe(readFixtureText(file));
    expect(reads).toHaveLength(3);
  });

  test("a 200 .json on a stream request becomes one SSE event", async () => {
    mock.script("k-fx-one", { kind: "fixture", file: "google/text-gemini3.json" });
    const raw = await (await streamGenerate("k-fx-one")).text();
    expect(raw).toMatch(CRLF_EVENTS);
    expect(parseSse(raw).map((e) => JSON.parse(e.data))).toEqual([readFixtureJson("google/text-gemini3.json")]);
  });

  test(".chunks.txt lines become SSE events", async () => {
    mock.script("k-fx-chunks", { kind: "fixture", file: "google/text-gemini3.chunks.txt" });
    const raw = await (await streamGenerate("k-fx-chunks")).text();
    expect(raw).toMatch(CRLF_EVENTS);
    const lines = readChunkLines("google/text-gemini3.chunks.txt");
    expect(parseSse(raw).map((e) => e.data)).toEqual(lines);
  });

  test("a stream recording on a non-stream request is reported as a mock misuse", async () => {
    mock.script("k-fx-bad", { kind: "fixture", file: "google/stream-basic.sse.txt" });
    const response = await generate("k-fx-bad");
    expect(response.status).toBe(500);
    expect(await response.text()).toContain("mock gemini");
  });
});

describe("empty and blocked", () => {
  test("empty: 200, a candidate with no parts, finishReason STOP, usage without candidatesTokenCount", async () => {
    mock.script("k-empty", { kind: "empty" });
    const body = await json(await generate("k-empty"));
    expect(body.candidates[0].content).toEqual({ role: "model" });
    expect(body.candidates[0].finishReason).toBe("STOP");
    expect(body.usageMetadata.candidatesTokenCount).toBeUndefined();
    expect(body.usageMetadata.totalTokenCount).toBe(body.usageMetadata.promptTokenCount);
    expect(body.modelVersion).toBe(MODEL);
    expect(body.responseId).toBeString();
  });

  test("empty stream: exactly one such event", async () => {
    mock.script("k-empty-s", { kind: "empty" });
    const chunks = await streamPayloads(await streamGenerate("k-empty-s"));
    expect(chunks).toHaveLength(1);
    expect(chunks[0].candidates[0].content.parts).toBeUndefined();
    expect(chunks[0].candidates[0].finishReason).toBe("STOP");
  });

  test("blocked stream replays the recorded SAFETY promptFeedback byte for byte", async () => {
    mock.script("k-blocked-s", { kind: "blocked" });
    const response = await streamGenerate("k-blocked-s");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(readFixtureText("google/stream-prompt-blocked-safety.sse.txt"));
  });

  test("blocked non-stream: promptFeedback SAFETY, no candidates, usage/model/id", async () => {
    mock.script("k-blocked", { kind: "blocked" });
    const body = await json(await generate("k-blocked"));
    expect(body.candidates).toBeUndefined();
    expect(body.promptFeedback).toEqual(readSseJson("google/stream-prompt-blocked-safety.sse.txt")[0].promptFeedback);
    expect(body.promptFeedback.blockReason).toBe("SAFETY");
    expect(body.usageMetadata.promptTokenCount).toBe(estimateTokens(PROMPT));
    expect(body.modelVersion).toBe(MODEL);
    expect(body.responseId).toBeString();
  });
});

// ---------------------------------------------------------------------------------------------
// error responses
// ---------------------------------------------------------------------------------------------

describe("error responses", () => {
  test("rate_limit_minute: 429 from the recorded template, per-minute quotaId, recorded or given retryDelay", async () => {
    mock.script("k-rpm", [{ kind: "rate_limit_minute" }, { kind: "rate_limit_minute", retryDelay: "2.5s" }]);
    const response = await generate("k-rpm");
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBeNull(); // Google gives no header hint
    const body = await json(response);
    const recorded = readFixtureJson("google/error-429-resource-exhausted-quotafailure-retryinfo.json");
    expect(body).toEqual(recorded);
    expect(quotaIdOf(body)).toBe(QUOTA_ID_PER_MINUTE);
    expect(retryDelayOf(await json(await generate("k-rpm")))).toBe("2.5s");
  });

  test("rate_limit_day: same body with the per-day quotaId", async () => {
    mock.script("k-rpd", { kind: "rate_limit_day" });
    const response = await generate("k-rpd");
    expect(response.status).toBe(429);
    const body = await json(response);
    expect(body.error.status).toBe("RESOURCE_EXHAUSTED");
    expect(quotaIdOf(body)).toBe(QUOTA_ID_PER_DAY);
    expect(retryDelayOf(body)).toBe("34.4s");
  });

  test("invalid_key: the recorded 400 API_KEY_INVALID; the stream endpoint's own recording, labelled event-stream", async () => {
    mock.script("k-bad", { kind: "invalid_key" });
    const plain = await generate("k-bad");
    expect(plain.status).toBe(400);
    expect(await plain.text()).toBe(readFixtureText("google/error-400-api-key-invalid.json"));
    const stream = await streamGenerate("k-bad");
    expect(stream.status).toBe(400);
    expect(stream.headers.get("content-type")).toBe("text/event-stream");
    const body = JSON.parse(await stream.text());
    expect(body).toEqual(readFixtureJson("google/error-400-api-key-invalid-on-stream-endpoint.json"));
    expect(body.error.details[0].reason).toBe("API_KEY_INVALID");
  });

  test("permission_denied, unavailable and bad_request serve the recorded bodies", async () => {
    mock.script("k-errs", [{ kind: "permission_denied" }, { kind: "unavailable" }, { kind: "bad_request" }]);
    const denied = await generate("k-errs");
    expect(denied.status).toBe(403);
    expect(await denied.text()).toBe(readFixtureText("google/error-403-service-disabled.json"));
    const unavailable = await generate("k-errs");
    expect(unavailable.status).toBe(503);
    const text = await unavailable.text();
    expect(text).toContain("\n  "); // pretty-printed, as the wire body is
    expect(JSON.parse(text)).toEqual(readFixtureJson("google/error-503-unavailable-overloaded.json"));
    const bad = await generate("k-errs");
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe(readFixtureText("google/error-400-thinking-level-unsupported.json"));
  });

  test("bad_request with a message: INVALID_ARGUMENT, no API_KEY_INVALID", async () => {
    mock.script("k-bad-msg", { kind: "bad_request", message: "Function call is missing a thought_signature." });
    const response = await generate("k-bad-msg");
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body).toEqual({ error: { code: 400, message: "Function call is missing a thought_signature.", status: "INVALID_ARGUMENT" } });
  });

  test("error behaviours apply to embeddings and the model list too", async () => {
    mock.script("k-all", [{ kind: "rate_limit_day" }, { kind: "invalid_key" }]);
    expect((await embed("k-all", [embedRequest("x")])).status).toBe(429);
    expect((await listModels("k-all")).status).toBe(400);
  });
});

// ---------------------------------------------------------------------------------------------
// broken streams
// ---------------------------------------------------------------------------------------------

describe("broken streams", () => {
  test("error_mid_stream: N text events, then the recorded error object, bare, in its own read", async () => {
    mock.script("k-mid", { kind: "error_mid_stream", afterChunks: 2 });
    const response = await streamGenerate("k-mid");
    expect(response.status).toBe(200);
    const { reads, error } = await drain(response);
    expect(error).toBeUndefined();
    expect(reads).toHaveLength(3);
    expect(reads.slice(0, 2).join("")).toMatch(CRLF_EVENTS);
    const recorded = readFixtureText("google/vertex-stream-error-mid-stream.sse.txt");
    expect(reads[2]).toBe(recorded.slice(recorded.lastIndexOf("\n\n") + 2));
    expect(JSON.parse(reads[2]!).error).toMatchObject({ code: 499, status: "CANCELLED" });
    const texts = parseSse(reads.slice(0, 2).join("")).map((e) => JSON.parse(e.data).candidates[0]);
    expect(texts.every((c) => c.content.parts[0].text.length > 0 && c.finishReason === undefined)).toBe(true);
  });

  test("error_mid_stream with framing sse sends the error as a data event", async () => {
    mock.script("k-mid-sse", { kind: "error_mid_stream", afterChunks: 1, framing: "sse" });
    const raw = await (await streamGenerate("k-mid-sse")).text();
    expect(raw).toMatch(CRLF_EVENTS);
    const chunks = parseSse(raw).map((e) => JSON.parse(e.data));
    expect(chunks).toHaveLength(2);
    expect(chunks[1].error.status).toBe("CANCELLED");
  });

  test("error_first_event: HTTP 200 stream whose first and only content is the 503 error", async () => {
    mock.script("k-first", [{ kind: "error_first_event" }, { kind: "error_first_event", framing: "sse" }]);
    const bare = await streamGenerate("k-first");
    expect(bare.status).toBe(200);
    expect(bare.headers.get("content-type")).toBe("text/event-stream");
    expect(JSON.parse(await bare.text())).toEqual(readFixtureJson("google/error-503-unavailable-overloaded.json"));
    const sse = await streamPayloads(await streamGenerate("k-first"));
    expect(sse).toEqual([readFixtureJson("google/error-503-unavailable-overloaded.json")]);
  });

  test("in-stream error behaviours on non-stream requests answer with the error's status", async () => {
    mock.script("k-ns", [{ kind: "error_first_event" }, { kind: "error_mid_stream", afterChunks: 1 }]);
    const first = await generate("k-ns");
    expect(first.status).toBe(503);
    expect((await json(first)).error.status).toBe("UNAVAILABLE");
    const mid = await generate("k-ns");
    expect(mid.status).toBe(499);
    expect((await json(mid)).error.status).toBe("CANCELLED");
  });

  test("reset_mid_stream: N events arrive, then reading the body fails", async () => {
    mock.script("k-reset", { kind: "reset_mid_stream", afterChunks: 2 });
    const response = await streamGenerate("k-reset");
    expect(response.status).toBe(200);
    const { text, error } = await drain(response);
    expect(error).toBeDefined();
    expect(text).toMatch(CRLF_EVENTS);
    expect(parseSse(text)).toHaveLength(2);
    await waitFor(() => mock.openConnections() === 0);
  });

  test("reset_mid_stream with a large afterChunks still sends that many non-empty events", async () => {
    mock.script("k-reset-many", { kind: "reset_mid_stream", afterChunks: 40 });
    const { text, error } = await drain(await streamGenerate("k-reset-many"));
    expect(error).toBeDefined();
    const chunks = parseSse(text).map((e) => JSON.parse(e.data));
    expect(chunks).toHaveLength(40);
    expect(chunks.every((c) => c.candidates[0].content.parts[0].text.length > 0)).toBe(true);
  });

  test("reset_mid_stream on a non-stream request closes the socket with no response", async () => {
    mock.script("k-reset-ns", { kind: "reset_mid_stream", afterChunks: 0 });
    await expect(generate("k-reset-ns")).rejects.toThrow();
    await waitFor(() => mock.openConnections() === 0);
  });
});

// ---------------------------------------------------------------------------------------------
// embeddings and the model list
// ---------------------------------------------------------------------------------------------

describe("batchEmbedContents", () => {
  test("one vector per request, 768 long by default, from the recorded vectors, in order", async () => {
    const response = await embed("k-emb", [embedRequest("a"), embedRequest("b"), embedRequest("c")]);
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(sortedKeys(body)).toEqual(["embeddings"]);
    expect(body.embeddings).toHaveLength(3);
    expect(body.embeddings.every((e: any) => sortedKeys(e).join() === "values" && e.values.length === 768)).toBe(true);
    const recorded = readFixtureJson("google/embeddings-batch-2-items.json").embeddings;
    expect(body.embeddings[0].values).toEqual(recorded[0].values);
    expect(body.embeddings[1].values).toEqual(recorded[1].values);
    expect(body.embeddings[2].values).not.toEqual(body.embeddings[0].values);
    expect(mock.callsFor("k-emb", ":batchEmbedContents")[0]!.model).toBe("gemini-embedding-001");
  });

  test("outputDimensionality sets each vector's length", async () => {
    const body = await json(await embed("k-dims", [embedRequest("a", { outputDimensionality: 3 }), embedRequest("b", { outputDimensionality: 1536 })]));
    expect(body.embeddings.map((e: any) => e.values.length)).toEqual([3, 1536]);
  });

  test("more than 100 requests get the recorded 400", async () => {
    const ok = await embed("k-100", Array.from({ length: 100 }, (_, i) => embedRequest(`t${i}`, { outputDimensionality: 1 })));
    expect(ok.status).toBe(200);
    const over = await embed("k-100", Array.from({ length: 101 }, (_, i) => embedRequest(`t${i}`)));
    expect(over.status).toBe(400);
    expect(await over.text()).toBe(readFixtureText("google/error-400-batch-embed-over-100.json"));
  });
});

describe("GET models", () => {
  /** Follow nextPageToken to the end; returns every page body. */
  async function allPages(target: MockGemini, key: string, query = ""): Promise<any[]> {
    const pages: any[] = [];
    let token: string | undefined;
    do {
      const params = new URLSearchParams(query);
      if (token) params.set("pageToken", token);
      const search = params.size > 0 ? `?${params}` : "";
      const response = await fetch(`${target.url}/models${search}`, { headers: { "x-goog-api-key": key } });
      expect(response.status).toBe(200);
      const page = await json(response);
      pages.push(page);
      token = page.nextPageToken;
    } while (token);
    return pages;
  }

  test("pages of 2 by default; following nextPageToken yields every recorded default entry", async () => {
    const pages = await allPages(mock, "k-list");
    expect(pages.map((p) => p.models.length)).toEqual([2, 2, 1]);
    expect(pages[pages.length - 1].nextPageToken).toBeUndefined();
    const models = pages.flatMap((p) => p.models);
    expect(models.map((m) => m.name)).toEqual(DEFAULT_MODEL_IDS.map((id) => `models/${id}`));
    const recorded = readFixtureJson("google/models-list.json").models;
    expect(models[0]).toEqual(recorded.find((m: any) => m.name === "models/gemini-2.5-flash"));
    const embedding = models.find((m) => m.name === "models/gemini-embedding-001");
    expect(embedding.supportedGenerationMethods).toContain("embedContent");
    expect(embedding.supportedGenerationMethods).not.toContain("generateContent");
    expect(mock.callsFor("k-list", "/models")).toHaveLength(3);
  });

  test("a smaller pageSize query wins; a larger one is capped by the mock's page size", async () => {
    expect((await allPages(mock, "k-size", "pageSize=1")).length).toBe(5);
    expect((await allPages(mock, "k-size", "pageSize=1000")).map((p) => p.models.length)).toEqual([2, 2, 1]);
  });

  test("page tokens look like Google's: base64 of the last name on the page", async () => {
    const page = await json(await listModels("k-token"));
    expect(Buffer.from(page.nextPageToken, "base64").subarray(2).toString()).toBe("models/gemini-2.5-pro");
    const recorded = readFixtureJson("google/models-list.json");
    expect(Buffer.from(recorded.nextPageToken, "base64").subarray(2).toString()).toBe(recorded.models.at(-1).name);
  });

  test("an unknown page token is a 400 INVALID_ARGUMENT", async () => {
    const response = await listModels("k-token", "?pageToken=bm9wZQ");
    expect(response.status).toBe(400);
    expect((await json(response)).error.status).toBe("INVALID_ARGUMENT");
  });

  test("configured models and page size; missing fields come from the recording", async () => {
    const other = await startMockGemini({
      pageSize: 3,
      models: [
        { name: "gemini-2.5-pro" },
        { name: "models/my-tuned", displayName: "Tuned" },
        { name: "my-embedder", supportedGenerationMethods: ["embedContent"] },
        { name: "gemini-3-pro-preview" },
      ],
    });
    try {
      const pages = await allPages(other, "k");
      expect(pages.map((p) => p.models.length)).toEqual([3, 1]);
      const [pro, tuned, embedder] = pages[0].models;
      const recorded = readFixtureJson("google/models-list.json").models;
      expect(pro).toEqual(recorded.find((m: any) => m.name === "models/gemini-2.5-pro"));
      expect(tuned).toMatchObject({ name: "models/my-tuned", displayName: "Tuned", supportedGenerationMethods: expect.arrayContaining(["generateContent"]) });
      expect(sortedKeys(tuned)).toEqual(sortedKeys(recorded[0]));
      expect(embedder).toMatchObject({ name: "models/my-embedder", displayName: "my-embedder", supportedGenerationMethods: ["embedContent"] });
    } finally {
      await other.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// auth, routing and recording
// ---------------------------------------------------------------------------------------------

describe("auth", () => {
  test("the key comes from x-goog-api-key and is recorded with keyInUrl false", async () => {
    await generate("AIza-header-key");
    const [call] = mock.callsFor("AIza-header-key");
    expect(call!.keyInUrl).toBe(false);
    expect(call!.query).toBe("");
  });

  test("a key= query parameter is recorded as keyInUrl, and alone it counts as no key (403)", async () => {
    const both = await generate("k-both", { extraQuery: "?key=k-both" });
    expect(both.status).toBe(200);
    expect(mock.callsFor("k-both")[0]!.keyInUrl).toBe(true);
    const queryOnly = await fetch(`${mock.url}/models/${MODEL}:generateContent?key=k-query`, { method: "POST", body: JSON.stringify(REQUEST) });
    expect(queryOnly.status).toBe(403);
    const call = mock.calls.at(-1)!;
    expect(call.key).toBe("");
    expect(call.keyInUrl).toBe(true);
  });

  test("a missing header gets Google's 403 PERMISSION_DENIED for unregistered callers", async () => {
    const response = await generate(null);
    expect(response.status).toBe(403);
    const body = await json(response);
    expect(body.error.status).toBe("PERMISSION_DENIED");
    expect(body.error.message).toStartWith("Method doesn't allow unregistered callers");
    expect((await listModels(null)).status).toBe(403);
  });

  test("with knownKeys, other keys get the recorded API_KEY_INVALID and scripts are not consumed", async () => {
    const other = await startMockGemini({ knownKeys: ["good"] });
    try {
      other.script("good", [{ kind: "text", text: "first" }, { kind: "text", text: "second" }]);
      const url = `${other.url}/models/${MODEL}:generateContent`;
      const call = (key: string): Promise<Response> => fetch(url, { method: "POST", headers: { "x-goog-api-key": key }, body: JSON.stringify(REQUEST) });
      const unknown = await call("typo");
      expect(unknown.status).toBe(400);
      expect(await unknown.text()).toBe(readFixtureText("google/error-400-api-key-invalid.json"));
      expect((await json(await call("good"))).candidates[0].content.parts[0].text).toBe("first");
      expect(other.calls.map((c) => c.key)).toEqual(["typo", "good"]);
    } finally {
      await other.stop();
    }
  });
});

describe("routing and recording", () => {
  test("every call is recorded with key, path, model, method, parsed body, stream and time", async () => {
    const before = Date.now();
    await generate("k-rec");
    await (await streamGenerate("k-rec")).text();
    const [plain, streamed] = mock.callsFor("k-rec");
    expect(plain).toMatchObject({
      key: "k-rec",
      path: `/v1beta/models/${MODEL}:generateContent`,
      query: "",
      model: MODEL,
      method: "POST",
      body: REQUEST,
      stream: false,
      keyInUrl: false,
      aborted: false,
    });
    expect(plain!.at).toBeGreaterThanOrEqual(before);
    expect(streamed).toMatchObject({ path: `/v1beta/models/${MODEL}:streamGenerateContent`, query: "?alt=sse", stream: true });
    expect(mock.callsFor("k-rec", ":streamGenerateContent")).toEqual([streamed!]);
  });

  test("a percent-encoded colon routes the same way", async () => {
    const response = await fetch(`${mock.url}/models/${MODEL}%3AgenerateContent`, { method: "POST", headers: headersFor("k-enc"), body: JSON.stringify(REQUEST) });
    expect(response.status).toBe(200);
    expect(mock.callsFor("k-enc")[0]!.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
  });

  test("streamGenerateContent without alt=sse is refused so the omission cannot pass", async () => {
    const response = await post(`/models/${MODEL}:streamGenerateContent`, "k-noalt");
    expect(response.status).toBe(400);
    expect((await json(response)).error.message).toContain("alt=sse");
  });

  test("unknown routes get Google's HTML 404 and do not consume the script", async () => {
    mock.script("k-404", [{ kind: "text", text: "first" }]);
    const response = await post(`/models/${MODEL}:predict`, "k-404");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toStartWith("text/html");
    expect((await fetch(`${mock.url}/models/${MODEL}:generateContent`, { headers: headersFor("k-404") })).status).toBe(404);
    expect((await json(await generate("k-404"))).candidates[0].content.parts[0].text).toBe("first");
  });

  test("a non-JSON request body is recorded as null", async () => {
    await fetch(`${mock.url}/models/${MODEL}:generateContent`, { method: "POST", headers: headersFor("k-nonjson"), body: "not json" });
    expect(mock.callsFor("k-nonjson")[0]!.body).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// scripts, hangs, slowness and aborts (mock-core's machinery)
// ---------------------------------------------------------------------------------------------

describeMockCore({
  start: () => startMockGemini(),
  send: (target, key, { stream, signal }) => {
    const action = stream ? "streamGenerateContent?alt=sse" : "generateContent";
    return fetch(`${target.url}/models/${MODEL}:${action}`, { method: "POST", headers: headersFor(key), body: JSON.stringify(REQUEST), signal });
  },
  longStream: { kind: "text", chunks: 20, chunkDelayMs: 50 },
  replyText: (body) => body.candidates[0].content.parts[0].text,
  streamedText: (body) => parseSse(body).map((e) => JSON.parse(e.data).candidates[0].content.parts[0].text).join(""),
  defaultText: DEFAULT_TEXT,
});

test("countTokens answers the generateContentRequest form with the mock's own estimate", async () => {
  const mock = await startMockGemini();
  try {
    const response = await fetch(`${mock.url}/models/gemini-2.5-flash:countTokens`, {
      method: "POST",
      headers: { "x-goog-api-key": "k", "content-type": "application/json" },
      body: JSON.stringify({ generateContentRequest: { model: "models/gemini-2.5-flash", contents: [{ role: "user", parts: [{ text: "twelve chars" }] }], systemInstruction: { parts: [{ text: "abcd" }] } } }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ totalTokens: estimateTokens("twelve chars") + estimateTokens("abcd") });
  } finally {
    await mock.stop();
  }
});
