/**
 * Tests for the scripted mock upstream: every behaviour is driven with plain fetch, and the
 * shapes it serves are checked against the recorded fixtures they are built from.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { parseSse, readFixtureJson, readFixtureText, readSseJson, type SseEvent } from "./fixtures.ts";
import { DEFAULT_CONTENT, DEFAULT_USAGE, startMockUpstream, type MockUpstream } from "./mock-upstream.ts";
import { describeMockCore } from "./mock-core-tests.ts";
import { drain, json, sortedKeys, waitFor } from "./probes.ts";

let mock: MockUpstream;

beforeAll(async () => {
  mock = await startMockUpstream({ models: ["model-a", "model-b"] });
});
afterEach(() => mock.reset());
afterAll(() => mock.stop());

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

interface PostOptions {
  key?: string | null;
  signal?: AbortSignal;
}

function post(path: string, body: unknown, options: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const key = options.key === undefined ? "sk-test" : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  return fetch(mock.url + path, { method: "POST", headers, body: JSON.stringify(body), signal: options.signal });
}

function chat(key: string, extra: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Response> {
  return post("/chat/completions", { model: "gpt-test", messages: [{ role: "user", content: "hi" }], ...extra }, { key, signal });
}

function streamChat(key: string, extra: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Response> {
  return chat(key, { stream: true, ...extra }, signal);
}

/** JSON payloads of an SSE body, without [DONE]. */
function payloads(events: SseEvent[]): any[] {
  return events.filter((e) => e.data !== "[DONE]").map((e) => JSON.parse(e.data));
}

async function readEvents(response: Response): Promise<SseEvent[]> {
  return parseSse(await response.text());
}

// ---------------------------------------------------------------------------------------------
// success: chat, embeddings, models
// ---------------------------------------------------------------------------------------------

describe("success, non-stream chat", () => {
  test("uses the recorded chat.completion shape with the request's model and the scripted content/usage", async () => {
    mock.script("k-text", { kind: "success", content: "Scripted reply", usage: { prompt: 7, completion: 3 } });
    const response = await chat("k-text");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    const body = await json(response);
    const recorded = readFixtureJson("openai/chat-text.json");
    expect(sortedKeys(body)).toEqual(sortedKeys(recorded));
    expect(sortedKeys(body.choices[0].message)).toEqual(sortedKeys(recorded.choices[0].message));
    expect(body.object).toBe("chat.completion");
    expect(body.model).toBe("gpt-test");
    expect(body.id).toStartWith("chatcmpl-");
    expect(body.id).not.toBe(recorded.id);
    expect(body.choices[0].message.content).toBe("Scripted reply");
    expect(body.choices[0].finish_reason).toBe("stop");
    expect(body.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
    expect(body.usage.completion_tokens_details).toEqual(recorded.usage.completion_tokens_details);
  });

  test("defaults to DEFAULT_CONTENT and DEFAULT_USAGE", async () => {
    const body = await json(await chat("k-default"));
    expect(body.choices[0].message.content).toBe(DEFAULT_CONTENT);
    expect(body.usage.prompt_tokens).toBe(DEFAULT_USAGE.prompt);
    expect(body.usage.completion_tokens).toBe(DEFAULT_USAGE.completion);
  });

  test("toolCalls answers with the two recorded parallel tool calls", async () => {
    mock.script("k-tools", { kind: "success", toolCalls: true });
    const body = await json(await chat("k-tools"));
    const recorded = readFixtureJson("openai/chat-parallel-tool-calls.json");
    expect(body.model).toBe("gpt-test");
    expect(body.choices[0].finish_reason).toBe("tool_calls");
    expect(body.choices[0].message.content).toBeNull();
    expect(body.choices[0].message.tool_calls).toEqual(recorded.choices[0].message.tool_calls);
    expect(body.choices[0].message.tool_calls).toHaveLength(2);
  });

  test("delayMs holds the answer back", async () => {
    mock.script("k-delay", { kind: "success", delayMs: 120 });
    const started = Date.now();
    expect((await chat("k-delay")).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });
});

describe("success, streamed chat", () => {
  test("recorded chunk framing; no usage field or usage chunk without include_usage", async () => {
    mock.script("k-stream", { kind: "success", content: "abcdef", chunks: 3 });
    const response = await streamChat("k-stream");
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const text = await response.text();
    expect(text).toMatch(/^data: \{/);
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const events = parseSse(text);
    const chunks = payloads(events);
    const recorded = readSseJson("openai/chat-stream-text.sse.txt");
    // role opener, three content deltas, finish chunk
    expect(chunks).toHaveLength(5);
    expect(sortedKeys(chunks[0])).toEqual(sortedKeys(recorded[0]));
    expect(chunks[0].choices[0].delta).toEqual(recorded[0].choices[0].delta);
    expect(chunks.slice(1, 4).map((c) => c.choices[0].delta.content)).toEqual(["ab", "cd", "ef"]);
    expect(chunks[4].choices[0]).toEqual(recorded[recorded.length - 1].choices[0]);
    for (const chunk of chunks) {
      expect(chunk.object).toBe("chat.completion.chunk");
      expect(chunk.model).toBe("gpt-test");
      expect(chunk.id).toBe(chunks[0].id);
      expect(chunk.created).toBe(chunks[0].created);
      expect(typeof chunk.obfuscation).toBe("string");
      expect("usage" in chunk).toBe(false);
    }
  });

  test("include_usage adds usage:null to every chunk and a final choices:[] usage chunk", async () => {
    mock.script("k-usage", { kind: "success", usage: { prompt: 11, completion: 4 } });
    const chunks = payloads(await readEvents(await streamChat("k-usage", { stream_options: { include_usage: true } })));
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });
    expect(last.usage.prompt_tokens_details).toBeDefined();
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
    // the field sits before `choices`, as in the recording
    expect(Object.keys(chunks[0]).indexOf("usage")).toBe(Object.keys(chunks[0]).indexOf("choices") - 1);
  });

  test("include_usage:false behaves like no stream_options", async () => {
    const chunks = payloads(await readEvents(await streamChat("k-usage-off", { stream_options: { include_usage: false } })));
    expect(chunks.every((c) => c.choices.length === 1 && !("usage" in c))).toBe(true);
  });

  test("default stream splits DEFAULT_CONTENT into three deltas", async () => {
    const chunks = payloads(await readEvents(await streamChat("k-stream-default")));
    const deltas = chunks.slice(1, -1).map((c) => c.choices[0].delta.content);
    expect(deltas).toHaveLength(3);
    expect(deltas.join("")).toBe(DEFAULT_CONTENT);
  });

  test("toolCalls replays the recorded parallel tool-call stream", async () => {
    mock.script("k-stream-tools", { kind: "success", toolCalls: true });
    const events = await readEvents(await streamChat("k-stream-tools", { stream_options: { include_usage: true } }));
    expect(events[events.length - 1]!.data).toBe("[DONE]");
    const chunks = payloads(events);
    const recorded = readSseJson("openai/chat-stream-parallel-tool-calls.sse.txt");
    expect(chunks).toHaveLength(recorded.length);
    const calls = new Map<number, { name: string; args: string }>();
    for (const chunk of chunks) {
      for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { name: "", args: "" };
        call.name += delta.function?.name ?? "";
        call.args += delta.function?.arguments ?? "";
        calls.set(delta.index, call);
      }
    }
    expect([...calls.keys()]).toEqual([0, 1]);
    expect(calls.get(0)).toEqual({ name: "get_weather", args: '{"city": "Mexico City"}' });
    expect(calls.get(1)).toEqual({ name: "get_product_name", args: "{}" });
    expect(chunks[chunks.length - 2].choices[0].finish_reason).toBe("tool_calls");
    expect(chunks[chunks.length - 1].choices).toEqual([]);
    expect(chunks.every((c) => c.model === "gpt-test")).toBe(true);
  });

  test("tool-call stream without include_usage has no usage chunk", async () => {
    mock.script("k-stream-tools-2", { kind: "success", toolCalls: true });
    const chunks = payloads(await readEvents(await streamChat("k-stream-tools-2")));
    expect(chunks.every((c) => c.choices.length === 1 && !("usage" in c))).toBe(true);
  });

  test("each event is flushed on its own, chunkDelayMs apart", async () => {
    mock.script("k-flush", { kind: "success", content: "one two three", chunks: 3, chunkDelayMs: 40 });
    const started = Date.now();
    const { reads, error } = await drain(await streamChat("k-flush"));
    expect(error).toBeUndefined();
    // role + 3 content + finish + [DONE], one per read
    expect(reads).toHaveLength(6);
    for (const read of reads) expect(parseSse(read)).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5 * 40 - 10);
  });
});

describe("success, embeddings and models", () => {
  test("array input gets one embedding per input, indexed, in the recorded list shape", async () => {
    const response = await post("/embeddings", { model: "emb-test", input: ["a", "bb", "ccc"] }, { key: "k-emb" });
    const body = await json(response);
    const recorded = readFixtureJson("openai/embeddings-batch-2-trimmed.json");
    expect(sortedKeys(body)).toEqual(sortedKeys(recorded));
    expect(body.model).toBe("emb-test");
    expect(body.data.map((d: any) => d.index)).toEqual([0, 1, 2]);
    expect(body.data[0].embedding).toEqual(recorded.data[0].embedding);
    expect(body.data.every((d: any) => d.object === "embedding")).toBe(true);
    expect(body.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
  });

  test("string input gets the single recorded vector", async () => {
    const body = await json(await post("/embeddings", { model: "emb-test", input: "hello world" }, { key: "k-emb" }));
    expect(body.data).toHaveLength(1);
    expect(body.data[0].index).toBe(0);
    expect(body.data[0].embedding).toHaveLength(1536);
  });

  test("encoding_format base64 encodes the vectors as float32", async () => {
    const body = await json(await post("/embeddings", { model: "e", input: ["x"], encoding_format: "base64" }, { key: "k-emb" }));
    const floats = new Float32Array(Buffer.from(body.data[0].embedding, "base64").buffer.slice(0));
    expect(floats).toHaveLength(5);
    expect(floats[0]).toBeCloseTo(0.0057293195, 6);
  });

  test("GET /models lists the configured ids in the recorded shape", async () => {
    const response = await fetch(`${mock.url}/models`, { headers: { authorization: "Bearer k-models" } });
    const body = await json(response);
    expect(body.object).toBe("list");
    expect(body.data.map((m: any) => m.id)).toEqual(["model-a", "model-b"]);
    expect(sortedKeys(body.data[0])).toEqual(["created", "id", "object", "owned_by"]);
  });

  test("GET /models without options lists the recorded ids", async () => {
    const other = await startMockUpstream();
    try {
      const body = await json(await fetch(`${other.url}/models`, { headers: { authorization: "Bearer k" } }));
      expect(body).toEqual(readFixtureJson("cerebras/models-list.json"));
    } finally {
      await other.stop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// recording
// ---------------------------------------------------------------------------------------------

describe("recording", () => {
  test("every call is recorded with key, path, method, parsed body and arrival time", async () => {
    const before = Date.now();
    await chat("k-rec", { temperature: 0.5 });
    await post("/embeddings", { model: "e", input: "x" }, { key: "k-rec" });
    await chat("k-other");
    expect(mock.calls).toHaveLength(3);
    const [first] = mock.callsFor("k-rec", "/chat/completions");
    expect(first).toMatchObject({ key: "k-rec", path: "/v1/chat/completions", method: "POST", aborted: false });
    expect(first!.body.temperature).toBe(0.5);
    expect(first!.at).toBeGreaterThanOrEqual(before);
    expect(first!.at).toBeLessThanOrEqual(Date.now());
    expect(mock.callsFor("k-rec")).toHaveLength(2);
    expect(mock.callsFor("k-rec", "/embeddings")).toHaveLength(1);
  });

  test("a missing or malformed Authorization header gets the recorded 401", async () => {
    for (const headers of [{}, { authorization: "Basic abc" }, { authorization: "Bearer" }] as Record<string, string>[]) {
      const response = await fetch(`${mock.url}/chat/completions`, { method: "POST", headers, body: "{}" });
      expect(response.status).toBe(401);
      expect(await response.text()).toBe(readFixtureText("openai/error-401-invalid-api-key.json"));
    }
    expect(mock.calls.every((c) => c.key === "")).toBe(true);
  });

  test("unknown routes get a 404 and do not consume the script", async () => {
    mock.script("k-route", [{ kind: "server_error" }, { kind: "success" }]);
    const response = await fetch(`${mock.url}/completions`, { method: "POST", headers: { authorization: "Bearer k-route" }, body: "{}" });
    expect(response.status).toBe(404);
    expect((await json(response)).error.message).toBe("Invalid URL (POST /v1/completions)");
    expect((await chat("k-route")).status).toBe(500);
  });

  test("a non-JSON request body is recorded as null", async () => {
    await fetch(`${mock.url}/chat/completions`, { method: "POST", headers: { authorization: "Bearer k-nojson" }, body: "not json" });
    expect(mock.callsFor("k-nojson")[0]!.body).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// error behaviours
// ---------------------------------------------------------------------------------------------

describe("error responses", () => {
  test("rate_limit sends the requested hints as headers and in the message", async () => {
    mock.script("k-rl", [
      { kind: "rate_limit", retryAfterSeconds: 7 },
      { kind: "rate_limit", retryAfterMs: 1500 },
      { kind: "rate_limit", resetRequests: "2s" },
    ]);
    const seconds = await chat("k-rl");
    expect(seconds.status).toBe(429);
    expect(seconds.headers.get("retry-after")).toBe("7");
    const body = await json(seconds);
    expect(body.error).toMatchObject({ type: "requests", param: null, code: "rate_limit_exceeded" });
    expect(body.error.message).toContain("gpt-test");
    expect(body.error.message).toContain("Please try again in 7s.");

    const ms = await chat("k-rl");
    expect(ms.headers.get("retry-after-ms")).toBe("1500");
    expect(ms.headers.get("retry-after")).toBeNull();
    expect((await json(ms)).error.message).toContain("Please try again in 1500ms.");

    const reset = await chat("k-rl");
    expect(reset.headers.get("x-ratelimit-reset-requests")).toBe("2s");
    expect(reset.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(reset.headers.get("retry-after")).toBeNull();
  });

  test("rate_limit without options says retry-after: 1; noHint says nothing", async () => {
    mock.script("k-rl2", [{ kind: "rate_limit" }, { kind: "rate_limit", noHint: true }]);
    const plain = await chat("k-rl2");
    expect(plain.headers.get("retry-after")).toBe("1");
    await plain.body?.cancel();
    const bare = await chat("k-rl2");
    expect(bare.status).toBe(429);
    for (const name of ["retry-after", "retry-after-ms", "x-ratelimit-reset-requests"]) expect(bare.headers.get(name)).toBeNull();
    expect((await json(bare)).error.message).not.toContain("try again");
  });

  test("insufficient_quota, invalid_key and bad_request serve the recorded bodies byte for byte", async () => {
    mock.script("k-rec-err", [{ kind: "insufficient_quota" }, { kind: "invalid_key" }, { kind: "bad_request" }]);
    const expected: [number, string][] = [
      [429, "openai/error-429-insufficient-quota.json"],
      [401, "openai/error-401-invalid-api-key.json"],
      [400, "openai/error-400-unsupported-parameter-max-tokens.json"],
    ];
    for (const [status, fixture] of expected) {
      const response = await chat("k-rec-err");
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toContain("application/json");
      expect(await response.text()).toBe(readFixtureText(fixture));
    }
  });

  test("bad_request with a fixture takes its status from the file name", async () => {
    mock.script("k-fix", [
      { kind: "bad_request", fixture: "openai/error-400-unsupported-value-system-role.json" },
      { kind: "bad_request", fixture: "groq/error-404-model-not-found.json" },
    ]);
    const first = await chat("k-fix");
    expect(first.status).toBe(400);
    expect(await first.text()).toBe(readFixtureText("openai/error-400-unsupported-value-system-role.json"));
    const second = await chat("k-fix");
    expect(second.status).toBe(404);
    expect(await second.text()).toBe(readFixtureText("groq/error-404-model-not-found.json"));
  });

  test("not_found serves the recorded model_not_found body naming the requested model", async () => {
    mock.script("k-404", { kind: "not_found" });
    const response = await chat("k-404");
    expect(response.status).toBe(404);
    const body = await json(response);
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "model_not_found", param: null });
    expect(body.error.message).toBe("The model `gpt-test` does not exist or you do not have access to it.");
  });

  test("server_error serves OpenAI-style 500/502/503 bodies", async () => {
    mock.script("k-5xx", [{ kind: "server_error" }, { kind: "server_error", status: 502 }, { kind: "server_error", status: 503 }]);
    const r500 = await chat("k-5xx");
    expect(r500.status).toBe(500);
    expect((await json(r500)).error).toMatchObject({ type: "server_error", code: null, param: null });
    const r502 = await chat("k-5xx");
    expect(r502.status).toBe(502);
    expect((await json(r502)).error.type).toBe("server_error");
    const r503 = await chat("k-5xx");
    expect(r503.status).toBe(503);
    expect((await json(r503)).error).toMatchObject({ type: "service_unavailable_error", code: "server_is_overloaded" });
  });

  test("error behaviours apply to embeddings and models too", async () => {
    mock.script("k-emb-err", { kind: "rate_limit", retryAfterSeconds: 3 });
    const response = await post("/embeddings", { model: "e", input: "x" }, { key: "k-emb-err" });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("3");
    await response.body?.cancel();
    mock.script("k-models-err", { kind: "invalid_key" });
    expect((await fetch(`${mock.url}/models`, { headers: { authorization: "Bearer k-models-err" } })).status).toBe(401);
  });

});

// ---------------------------------------------------------------------------------------------
// timing, hangs, aborts
// ---------------------------------------------------------------------------------------------

describeMockCore({
  start: () => startMockUpstream(),
  send: (target, key, { stream, signal }) =>
    fetch(`${target.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-test", messages: [{ role: "user", content: "hi" }], stream }),
      signal,
    }),
  longStream: { kind: "success", chunks: 20, chunkDelayMs: 50 },
  replyText: (body) => body.choices[0].message.content,
  streamedText: (body) => payloads(parseSse(body)).map((c) => c.choices[0]?.delta?.content ?? "").join(""),
  defaultText: DEFAULT_CONTENT,
});

// ---------------------------------------------------------------------------------------------
// broken streams and bodies
// ---------------------------------------------------------------------------------------------

describe("broken streams and bodies", () => {
  test("reset_mid_stream: N content chunks arrive, then the body read fails without [DONE]", async () => {
    mock.script("k-reset", { kind: "reset_mid_stream", afterChunks: 2 });
    const response = await streamChat("k-reset");
    expect(response.status).toBe(200);
    const { text, error } = await drain(response);
    expect(error).toBeDefined();
    const chunks = payloads(parseSse(text));
    expect(chunks).toHaveLength(3); // role opener + 2 content deltas
    expect(chunks.slice(1).every((c) => c.choices[0].delta.content.length > 0)).toBe(true);
    expect(text).not.toContain("[DONE]");
    await waitFor(() => mock.openConnections() === 0);
  });

  test("reset_mid_stream with a large afterChunks still sends that many non-empty deltas", async () => {
    mock.script("k-reset-many", { kind: "reset_mid_stream", afterChunks: 40 });
    const { text, error } = await drain(await streamChat("k-reset-many"));
    expect(error).toBeDefined();
    expect(payloads(parseSse(text))).toHaveLength(41);
  });

  test("reset_mid_stream on a non-stream request closes the socket with no response", async () => {
    mock.script("k-reset-ns", { kind: "reset_mid_stream", afterChunks: 0 });
    await expect(chat("k-reset-ns")).rejects.toThrow();
    await waitFor(() => mock.openConnections() === 0);
  });

  test("error_mid_stream: N chunks, then the recorded OpenRouter-style error chunk, then [DONE]", async () => {
    mock.script("k-mid", { kind: "error_mid_stream", afterChunks: 1 });
    const response = await streamChat("k-mid");
    expect(response.status).toBe(200);
    const events = await readEvents(response);
    expect(events[events.length - 1]!.data).toBe("[DONE]");
    const chunks = payloads(events);
    expect(chunks).toHaveLength(3);
    expect(chunks[1].choices[0].delta.content).toBeString();
    const recordedError = readSseJson("openrouter/stream-midstream-error.sse.txt").find((c) => c.error);
    expect(chunks[2].error).toEqual(recordedError.error);
    expect(sortedKeys(chunks[2])).toEqual(sortedKeys(recordedError));
    expect(chunks[2].model).toBe("gpt-test");
  });

  test("error_event_first: HTTP 200 whose first data event is a rate-limit error", async () => {
    mock.script("k-first", { kind: "error_event_first" });
    const response = await streamChat("k-first");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const events = await readEvents(response);
    const first = JSON.parse(events[0]!.data);
    expect(first).toEqual(readFixtureJson("openrouter/error-429-upstream-rate-limited.json"));
    expect(first.error.code).toBe(429);
    expect(events[events.length - 1]!.data).toBe("[DONE]");
  });

  test("in-stream error behaviours on non-stream requests answer 200 with the error body", async () => {
    mock.script("k-first-ns", [{ kind: "error_event_first" }, { kind: "error_mid_stream", afterChunks: 1 }]);
    const first = await json(await chat("k-first-ns"));
    expect(first.error.code).toBe(429);
    const mid = await json(await chat("k-first-ns"));
    expect(mid.error.message).toBe("Token limit reached");
  });

  test("malformed_json: non-stream body is truncated JSON", async () => {
    mock.script("k-mal", { kind: "malformed_json" });
    const response = await chat("k-mal");
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toStartWith("{");
    expect(() => JSON.parse(text)).toThrow();
  });

  test("malformed_json: stream's first data line is not JSON", async () => {
    mock.script("k-mal-s", { kind: "malformed_json" });
    const events = await readEvents(await streamChat("k-mal-s"));
    expect(events[0]!.data).toStartWith('{"id":"chatcmpl-');
    expect(() => JSON.parse(events[0]!.data)).toThrow();
  });
});
