/**
 * Detailed request logs: the folder layout and what each file holds for a plain and a streamed
 * request (the stream assembled back into one message), redaction of every file, retention by
 * folder count and by total size, and a full write queue losing log data rather than waiting.
 */

import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRedactor } from "../../../src/logging/redact.ts";
import { createRequestLog, DETAILED_LOGS_DIR, folderName, type RequestLogOptions } from "../../../src/logging/request-log.ts";
import { createWriteQueue } from "../../../src/logging/write-queue.ts";

const PROVIDER_KEY = "sk-proj-providerkey000000000000AAAA";
const GOOGLE_KEY = "AIzaSyGoogleKey111111111111111BBBB";
const PROXY_KEY = "proxy-key-2222222222CCCC";
const SECRETS = [PROVIDER_KEY, GOOGLE_KEY, PROXY_KEY];
const START = Date.UTC(2024, 4, 1, 12, 34, 56, 789);

function setup(overrides: Partial<RequestLogOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "lkp-requests-"));
  const clock = { now: START };
  const log = createRequestLog({ dir, enabled: true, redactor: createRedactor(SECRETS), now: () => clock.now, ...overrides });
  return { dir, root: join(dir, DETAILED_LOGS_DIR), clock, log };
}

function clientHeaders(): Headers {
  return new Headers({
    authorization: `Bearer ${PROXY_KEY}`,
    "x-api-key": PROVIDER_KEY,
    "x-goog-api-key": GOOGLE_KEY,
    "content-type": "application/json",
    "user-agent": "test-suite",
  });
}

function readJson(folder: string, file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(folder, file), "utf8"));
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

const sse = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;

function openAIChunk(delta: Record<string, unknown>, finishReason: string | null = null) {
  return sse({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1714566896, model: "gpt-4o", choices: [{ index: 0, delta, finish_reason: finishReason }] });
}

const trace = [
  { keyId: "aaaaaaaaaaaa", masked: "…AAAA", outcome: "rate_limit", status: 429, durationMs: 120, message: `limit for ${PROVIDER_KEY}`, action: "cooling until 2024-05-01T12:35:56.000Z" },
  { keyId: "bbbbbbbbbbbb", masked: "…BBBB", outcome: "ok", status: 200, durationMs: 340 },
];
const skipped = [{ keyId: "cccccccccccc", masked: "…CCCC", reason: "cooling until 2024-05-01T13:00:00.000Z" }];

describe("createRequestLog", () => {
  test("writes nothing and returns no entry when disabled", async () => {
    const { log, root } = setup({ enabled: false });
    expect(log.begin({ requestId: "r", route: "/v1/chat/completions", method: "POST", headers: new Headers(), body: {}, startedAt: START })).toBeUndefined();
    await log.flush();
    expect(existsSync(root)).toBe(false);
  });

  test("names a folder by UTC start second and a file-system-safe request id", () => {
    expect(folderName(START, "req-1")).toBe("20240501_123456_req-1");
    expect(folderName(START, "../../etc/passwd")).toBe("20240501_123456_.._.._etc_passwd");
    expect(folderName(START, "")).toBe("20240501_123456_request");
  });

  test("a non-stream request: request.json, final_response.json and metadata.json", async () => {
    const { log, root, clock } = setup();
    const body = { model: "openai/gpt-4o", messages: [{ role: "user", content: "Hi" }] };
    const entry = log.begin({ requestId: "req-1", route: "/v1/chat/completions", method: "POST", headers: clientHeaders(), body, startedAt: START })!;
    // Later changes to the parsed body do not reach the log.
    body.messages.push({ role: "user", content: "added by the server" });
    clock.now = START + 500;
    const response = { id: "chatcmpl-9", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "Hello" }, finish_reason: "stop" }] };
    entry.finish({
      status: 200,
      body: JSON.stringify(response),
      provider: "openai",
      model: "gpt-4o",
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      trace,
      skipped,
      timings: { totalMs: 500, firstByteMs: 460 },
    });
    await log.flush();

    const folder = join(root, "20240501_123456_req-1");
    expect(entry.folder).toBe(folder);
    expect(readdirSync(folder).sort()).toEqual(["final_response.json", "metadata.json", "request.json"]);
    expect(readJson(folder, "request.json")).toEqual({
      requestId: "req-1",
      route: "/v1/chat/completions",
      method: "POST",
      startedAt: "2024-05-01T12:34:56.789Z",
      headers: {
        authorization: "[redacted]",
        "x-api-key": "[redacted]",
        "x-goog-api-key": "[redacted]",
        "content-type": "application/json",
        "user-agent": "test-suite",
      },
      body: { model: "openai/gpt-4o", messages: [{ role: "user", content: "Hi" }] },
    });
    expect(readJson(folder, "final_response.json")).toEqual(response);
    expect(readJson(folder, "metadata.json")).toEqual({
      requestId: "req-1",
      route: "/v1/chat/completions",
      method: "POST",
      provider: "openai",
      model: "gpt-4o",
      status: 200,
      streamed: false,
      startedAt: "2024-05-01T12:34:56.789Z",
      finishedAt: "2024-05-01T12:34:57.289Z",
      timings: { totalMs: 500, firstByteMs: 460, upstreamMs: [120, 340] },
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
      attempts: [{ ...trace[0], message: "limit for …AAAA" }, trace[1]],
      skipped,
    });
  });

  test("a stream: each chunk with its time, and the OpenAI message assembled from them", async () => {
    const { log, root, clock } = setup();
    const entry = log.begin({ requestId: "req-2", route: "/v1/chat/completions", method: "POST", headers: clientHeaders(), body: { stream: true }, startedAt: START })!;
    const chunks = [
      openAIChunk({ role: "assistant", content: "" }),
      ": keep-alive\n\n",
      openAIChunk({ reasoning_content: "Think " }),
      openAIChunk({ reasoning_content: "hard." }),
      openAIChunk({ content: "Hello" }),
      openAIChunk({ content: ", world" }),
      openAIChunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } }] }),
      openAIChunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } }] }),
      openAIChunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      openAIChunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      openAIChunk({}, "tool_calls"),
      sse({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1714566896, model: "gpt-4o", choices: [], usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 } }),
      "data: [DONE]\n\n",
    ];
    for (const [index, chunk] of chunks.entries()) {
      clock.now = START + 100 + index * 10;
      entry.chunk(chunk);
    }
    clock.now = START + 300;
    entry.finish({ status: 200, streamed: true, provider: "openai", model: "gpt-4o", trace: [trace[1]], timings: { totalMs: 300 } });
    await log.flush();

    const folder = join(root, "20240501_123456_req-2");
    expect(readdirSync(folder).sort()).toEqual(["final_response.json", "metadata.json", "request.json", "streaming_chunks.jsonl"]);
    const lines = readFileSync(join(folder, "streaming_chunks.jsonl"), "utf8").trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(lines).toHaveLength(chunks.length);
    expect(lines.map((line) => line.t)).toEqual(chunks.map((_, index) => 100 + index * 10));
    expect(lines[0].chunk).toEqual(JSON.parse(chunks[0]!.slice(6)));
    expect(lines[1].chunk).toBe(": keep-alive\n\n");
    expect(lines.at(-1).chunk).toBe("data: [DONE]\n\n");

    expect(readJson(folder, "final_response.json")).toEqual({
      id: "chatcmpl-1",
      object: "chat.completion",
      created: 1714566896,
      model: "gpt-4o",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Hello, world",
            reasoning_content: "Think hard.",
            tool_calls: [
              { id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
              { id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } },
            ],
          },
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 20, total_tokens: 30 },
    });
    const metadata = readJson(folder, "metadata.json");
    expect(metadata).toMatchObject({ status: 200, streamed: true, chunks: chunks.length, timings: { totalMs: 300, firstByteMs: 100, upstreamMs: [340] } });
    expect(metadata).not.toHaveProperty("incomplete");
  });

  test("an Anthropic stream is kept as its ordered list of events, even when an event is split", async () => {
    const { log, root } = setup();
    const entry = log.begin({ requestId: "req-3", route: "/v1/messages", method: "POST", headers: new Headers(), body: {}, startedAt: START })!;
    const events = [
      { type: "message_start", message: { id: "msg_1", role: "assistant", content: [], usage: { input_tokens: 3, output_tokens: 0 } } },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } },
      { type: "content_block_stop", index: 0 },
      { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 1 } },
      { type: "message_stop" },
    ];
    const text = events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join("");
    const cut = text.indexOf("text_delta");
    entry.chunk(text.slice(0, cut));
    entry.chunk(text.slice(cut));
    entry.finish({ status: 200, streamed: true, provider: "anthropic", model: "claude", timings: { totalMs: 10 } });
    await log.flush();
    const folder = join(root, "20240501_123456_req-3");
    expect(JSON.parse(readFileSync(join(folder, "final_response.json"), "utf8"))).toEqual(events);
  });

  test("a chat stream whose first event carries a type and no choices still folds into one chat.completion", async () => {
    const { log, root } = setup();
    const entry = log.begin({ requestId: "req-5", route: "/v1/chat/completions", method: "POST", headers: new Headers(), body: { stream: true }, startedAt: START })!;
    // Some hosts open with an event of their own (a ping, a status) before the first chunk.
    entry.chunk(`${sse({ type: "ping" })}${openAIChunk({ role: "assistant", content: "Hi" })}${openAIChunk({}, "stop")}data: [DONE]\n\n`);
    entry.finish({ status: 200, streamed: true, provider: "openai", model: "gpt-4o", timings: { totalMs: 10 } });
    await log.flush();
    const final = JSON.parse(readFileSync(join(root, "20240501_123456_req-5", "final_response.json"), "utf8"));
    expect(final.object).toBe("chat.completion");
    expect(final.choices[0]).toMatchObject({ message: { role: "assistant", content: "Hi" }, finish_reason: "stop" });
  });

  test("a Responses API stream is kept as its events too: the route says what a stream is, not its first event", async () => {
    const { log, root } = setup();
    const entry = log.begin({ requestId: "req-4", route: "/v1/responses", method: "POST", headers: new Headers(), body: {}, startedAt: START })!;
    const events = [
      { type: "response.created", response: { id: "resp_1", status: "in_progress" } },
      { type: "response.output_text.delta", item_id: "msg_1", delta: "Hi" },
      { type: "response.completed", response: { id: "resp_1", status: "completed" } },
    ];
    entry.chunk(events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join(""));
    entry.finish({ status: 200, streamed: true, provider: "openai", model: "gpt-5", timings: { totalMs: 10 } });
    await log.flush();
    expect(JSON.parse(readFileSync(join(root, "20240501_123456_req-4", "final_response.json"), "utf8"))).toEqual(events);
  });

  test("no file anywhere holds a secret: keys, the proxy key, credential headers, key= parameters", async () => {
    const { log, dir, clock } = setup();
    const entry = log.begin({
      requestId: `req-${PROVIDER_KEY}`,
      route: "/v1/chat/completions",
      method: "POST",
      headers: clientHeaders(),
      body: { messages: [{ role: "user", content: `use ${GOOGLE_KEY} and https://example.test/v1?alt=sse&key=SomeOtherKey999` }], [PROXY_KEY]: true },
      startedAt: START,
    })!;
    clock.now = START + 50;
    entry.chunk(openAIChunk({ content: `leaked ${PROVIDER_KEY}` }));
    entry.chunk(`data: not json ${PROXY_KEY}\n\n`);
    entry.finish({
      status: 200,
      streamed: true,
      body: { error: GOOGLE_KEY },
      trace: [{ ...trace[0], message: `bad key ${GOOGLE_KEY} at https://g.test/v1beta?key=${GOOGLE_KEY}` }],
      skipped: [{ reason: `proxy key ${PROXY_KEY}` }],
      timings: { totalMs: 60 },
    });
    const failed = log.begin({ requestId: "req-5", route: "/v1/embeddings", method: "POST", headers: clientHeaders(), body: { input: PROVIDER_KEY }, startedAt: START });
    failed!.finish({ status: 401, body: `{"error":{"message":"Incorrect API key provided: ${PROVIDER_KEY}"}}`, timings: { totalMs: 5 } });
    await log.flush();

    const files = allFiles(dir);
    expect(files.length).toBe(7);
    for (const file of files) {
      const content = readFileSync(file, "utf8");
      for (const secret of [...SECRETS, "SomeOtherKey999"]) expect({ file, found: content.includes(secret) }).toEqual({ file, found: false });
      expect(content).not.toContain("Bearer");
    }
    for (const name of readdirSync(join(dir, DETAILED_LOGS_DIR))) for (const secret of SECRETS) expect(name).not.toContain(secret);
    const everything = files.map((file) => readFileSync(file, "utf8")).join("\n");
    expect(everything).toContain("key=[redacted]");
    expect(everything).toContain("…AAAA");
    expect(everything).toContain("…BBBB");
  });

  test("retention by count removes the oldest folders, and only ours", async () => {
    const { log, root, clock } = setup({ maxFolders: 3 });
    mkdirSync(join(root, "not-a-request-folder"), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const startedAt = START + i * 60_000;
      clock.now = startedAt + 2000;
      const entry = log.begin({ requestId: `req-${i}`, route: "/v1/embeddings", method: "POST", headers: new Headers(), body: { input: "x" }, startedAt })!;
      entry.finish({ status: 200, body: { data: [] }, timings: { totalMs: 1 } });
      await log.flush();
    }
    expect(readdirSync(root).sort()).toEqual(["20240501_123756_req-3", "20240501_123856_req-4", "20240501_123956_req-5", "not-a-request-folder"]);
  });

  test("retention by size removes the oldest first, including folders left by an earlier run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lkp-requests-"));
    const root = join(dir, DETAILED_LOGS_DIR);
    const earlier = join(root, "20230101_000000_old-run");
    mkdirSync(earlier, { recursive: true });
    writeFileSync(join(earlier, "final_response.json"), "x".repeat(50_000));
    const clock = { now: START };
    const bodyText = "y".repeat(2_000);
    const log = createRequestLog({ dir, enabled: true, redactor: createRedactor(SECRETS), maxBytes: 12_000, now: () => clock.now });
    const run = async (i: number) => {
      const startedAt = START + i * 60_000;
      clock.now = startedAt + 2000;
      const entry = log.begin({ requestId: `req-${i}`, route: "/v1/chat/completions", method: "POST", headers: new Headers(), body: { text: bodyText }, startedAt })!;
      entry.finish({ status: 200, body: { text: bodyText }, timings: { totalMs: 1 } });
      await log.flush();
    };
    await run(0);
    // The 50 KB folder from the earlier run alone broke the cap.
    expect(readdirSync(root)).toEqual(["20240501_123456_req-0"]);
    for (let i = 1; i < 6; i++) await run(i);
    const kept = readdirSync(root).sort();
    const bytes = allFiles(root).reduce((sum, file) => sum + readFileSync(file).length, 0);
    expect(bytes).toBeLessThanOrEqual(12_000);
    expect(kept.length).toBeGreaterThanOrEqual(2);
    // What is left is the newest run of folders.
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => folderName(START + (6 - kept.length + i) * 60_000, `req-${6 - kept.length + i}`)));
  });

  test("retention passes over the folder of a request still running, and removes it once finished", async () => {
    const { log, root, clock } = setup({ maxFolders: 2 });
    const finished = (id: string, minute: number) => {
      clock.now = START + minute * 60_000;
      log.begin({ requestId: id, route: "/v1/chat/completions", method: "POST", headers: new Headers(), body: {}, startedAt: clock.now })!.finish({ status: 200, body: {}, timings: { totalMs: 1 } });
    };
    const running = log.begin({ requestId: "running", route: "/v1/chat/completions", method: "POST", headers: new Headers(), body: {}, startedAt: START })!;
    running.chunk(openAIChunk({ content: "partial" }));
    finished("done-1", 1);
    await log.flush();
    finished("done-2", 2);
    await log.flush();
    expect(readdirSync(root).sort()).toEqual(["20240501_123456_running", "20240501_123656_done-2"]);
    running.finish({ status: 200, streamed: true, timings: { totalMs: 180_000 } });
    finished("done-3", 3);
    await log.flush();
    expect(readdirSync(root).sort()).toEqual(["20240501_123656_done-2", "20240501_123756_done-3"]);
  });

  test("a full queue drops log writes instead of holding up the request, and the metadata says so", async () => {
    const queue = createWriteQueue({ maxPending: 1 });
    const { log, root } = setup({ queue });
    let release = () => {};
    queue.enqueue(() => new Promise<void>((resolve) => (release = resolve)));
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));

    const entry = log.begin({ requestId: "busy", route: "/v1/chat/completions", method: "POST", headers: new Headers(), body: {}, startedAt: START })!;
    // request.json took the one free place; the chunk write has nowhere to go.
    entry.chunk(openAIChunk({ content: "lost" }));
    entry.chunk(openAIChunk({ content: "also lost" }));
    expect(queue.dropped()).toBe(1);
    release();
    await log.flush();
    entry.finish({ status: 200, streamed: true, timings: { totalMs: 5 } });
    await log.flush();

    const folder = join(root, "20240501_123456_busy");
    expect(existsSync(join(folder, "streaming_chunks.jsonl"))).toBe(false);
    expect(readJson(folder, "metadata.json")).toMatchObject({ incomplete: true, chunks: 2 });
  });
});
