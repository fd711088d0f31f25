/**
 * A minimal, fast mock upstream for the benchmarks, run as its own process so it can be pinned to
 * a core apart from the proxy. Unlike the scripted test mocks it does no bookkeeping: every answer
 * is a precomputed byte buffer, so the mock is never the bottleneck (run.ts checks that direct
 * throughput is at least 3× the proxy's).
 *
 *   POST /v1/chat/completions              the recorded chat.completion (openai/chat-text.json);
 *                                          with "stream":true, a fixed 200-chunk OpenAI SSE stream
 *   POST /v1/responses                     the recorded Responses API answer (openai-responses/text.json,
 *                                          model replaced, a new id each time); with "stream":true,
 *                                          the recorded stream-text.sse.txt events (9, likewise)
 *   POST /v1beta/models/M:streamGenerateContent
 *                                          a fixed 200-event Gemini stream, framed like
 *                                          google/stream-basic.sse.txt (data: …\r\n\r\n, no terminator)
 *   POST /v1beta/models/M:generateContent  one Gemini response (not measured, kept for symmetry)
 *   POST /release                          ends every held stream (see below)
 *   GET  /healthz                          200, for readiness
 *
 * Keys starting with `fail-` get HTTP 429 rate_limit_exceeded with `retry-after: 60`, so the
 * proxy cools them for longer than any run. A streaming request whose model contains `hold`
 * gets its first chunk at once and the rest only after POST /release (or HOLD_LIMIT_MS): that is
 * how run.ts keeps 1,000 streams open through the proxy.
 *
 * Usage: bun bench/fast-mock.ts [port]   (prints `ready <port>` on stdout once listening)
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pieces, streamOf } from "./byte-pieces.ts";

const FIXTURES = join(import.meta.dir, "..", "test", "fixtures");
export const STREAM_CHUNKS = 200;
/** A held stream never outlives this, whatever happens to the benchmark driver. */
const HOLD_LIMIT_MS = 60_000;

const encoder = new TextEncoder();

/** The recorded body, re-serialised compactly once (same bytes on every answer). */
function chatCompletionBody(): Uint8Array {
  const recorded = JSON.parse(readFileSync(join(FIXTURES, "openai/chat-text.json"), "utf8"));
  return encoder.encode(JSON.stringify(recorded));
}

/** The recorded fixture's response id and model, replaced in every Responses answer. */
const RECORDED_RESPONSE_ID = /resp_[0-9a-f]{40,}/g;
const RECORDED_MODEL = /gpt-5\.5-2026-04-23/g;
/**
 * Each answer gets its own id (`resp_bench_<n>`), as from a host, so that with `store` on the
 * proxy's response store inserts a new row per response instead of overwriting one.
 */
const ID_PREFIX = "resp_bench_";

/** The recorded Responses API `response`, compact, split around its id: [before, after]. */
function responsesBodyParts(): [Uint8Array, Uint8Array] {
  const marker = "\u0000id\u0000";
  const recorded = JSON.parse(readFileSync(join(FIXTURES, "openai-responses/text.json"), "utf8").replace(RECORDED_MODEL, "gpt-bench"));
  const text = JSON.stringify({ ...recorded, id: marker });
  const at = text.indexOf(JSON.stringify(marker));
  return [encoder.encode(`${text.slice(0, at)}"${ID_PREFIX}`), encoder.encode(`"${text.slice(at + JSON.stringify(marker).length)}`)];
}

/** The recorded Responses stream (`event: response.…` + `data: {…}`), one string per event, `{{ID}}` for the id. */
function responsesStreamEvents(): string[] {
  const text = readFileSync(join(FIXTURES, "openai-responses/stream-text.sse.txt"), "utf8").replace(RECORDED_MODEL, "gpt-bench").replace(RECORDED_RESPONSE_ID, "{{ID}}");
  return text
    .split(/\r?\n\r?\n/)
    .map((event) => event.trim())
    .filter((event) => event !== "")
    .map((event) => `${event}\n\n`);
}

/** 9 events in pieces of 3 (the relay sees the stream arrive in parts, as from a host), with this answer's id. */
function responsesStream(events: readonly string[], id: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < events.length; i += 3) out.push(encoder.encode(events.slice(i, i + 3).join("").replaceAll("{{ID}}", id)));
  return out;
}

/** Role chunk, 198 content chunks, a finish chunk with usage, then [DONE]: 200 data events. */
function openAIStreamEvents(): string[] {
  const base = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1755137933, model: "gpt-bench", system_fingerprint: null };
  const events = [JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })];
  for (let i = 1; i < STREAM_CHUNKS - 1; i++) {
    events.push(JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: ` word${i}` }, finish_reason: null }] }));
  }
  events.push(JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: { prompt_tokens: 16, completion_tokens: 198, total_tokens: 214 } }));
  return [...events.map((json) => `data: ${json}\n\n`), "data: [DONE]\n\n"];
}

/** 200 Gemini events in the recorded framing; the last carries finishReason and full usage. */
function geminiStreamEvents(): string[] {
  const events: string[] = [];
  for (let i = 0; i < STREAM_CHUNKS; i++) {
    const last = i === STREAM_CHUNKS - 1;
    const candidate = { content: { parts: [{ text: ` word${i}` }], role: "model" }, ...(last ? { finishReason: "STOP" } : {}) };
    const usage = last
      ? { promptTokenCount: 13, candidatesTokenCount: STREAM_CHUNKS, totalTokenCount: 13 + STREAM_CHUNKS }
      : { promptTokenCount: 13, totalTokenCount: 13 };
    const json = JSON.stringify({ candidates: [candidate], usageMetadata: usage, modelVersion: "gemini-bench", responseId: "bench" });
    events.push(`data: ${json}\r\n\r\n`);
  }
  return events;
}

const RATE_LIMIT_BODY = encoder.encode(
  JSON.stringify({ error: { message: "Rate limit reached for requests. Please try again in 60s.", type: "requests", param: null, code: "rate_limit_exceeded" } }),
);
const JSON_HEADERS = { "content-type": "application/json" };
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

/** First piece now, the rest when released; ending is bounded by HOLD_LIMIT_MS. */
function heldStream(chunks: readonly Uint8Array[], held: Set<() => void>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(chunks[0]!);
      const finish = (): void => {
        if (!held.delete(finish)) return;
        clearTimeout(timer);
        try {
          for (const chunk of chunks.slice(1)) controller.enqueue(chunk);
          controller.close();
        } catch {
          // The reader already left.
        }
      };
      const timer = setTimeout(finish, HOLD_LIMIT_MS);
      held.add(finish);
    },
  });
}

function keyOf(request: Request): string {
  const auth = request.headers.get("authorization");
  if (auth !== null) return auth.slice(7);
  return request.headers.get("x-goog-api-key") ?? "";
}

export function startFastMock(port = 0) {
  const completion = chatCompletionBody();
  // In pieces of 10 events, so the proxy sees a stream arrive as from a real host, not one buffer.
  const openAIStream = pieces(openAIStreamEvents());
  const geminiStream = pieces(geminiStreamEvents());
  const [responseBefore, responseAfter] = responsesBodyParts();
  const responseEvents = responsesStreamEvents();
  let responseCount = 0;
  const geminiAnswer = encoder.encode(geminiStreamEvents().at(-1)!.slice(6).trim());
  const held = new Set<() => void>();

  const rateLimited = (): Response => new Response(RATE_LIMIT_BODY, { status: 429, headers: { ...JSON_HEADERS, "retry-after": "60" } });

  return Bun.serve({
    hostname: "127.0.0.1",
    port,
    // Held streams are silent for seconds; the default 10 s idle timeout must not cut them.
    idleTimeout: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/v1/chat/completions") {
        const body = await request.text();
        if (keyOf(request).startsWith("fail-")) return rateLimited();
        if (!body.includes('"stream":true')) return new Response(completion, { headers: JSON_HEADERS });
        const stream = body.includes("hold") ? heldStream(openAIStream, held) : streamOf(openAIStream);
        return new Response(stream, { headers: SSE_HEADERS });
      }
      if (path === "/v1/responses") {
        const body = await request.text();
        if (keyOf(request).startsWith("fail-")) return rateLimited();
        const id = String(++responseCount);
        if (!body.includes('"stream":true')) return new Response(new Blob([responseBefore, id, responseAfter]), { headers: JSON_HEADERS });
        return new Response(streamOf(responsesStream(responseEvents, `${ID_PREFIX}${id}`)), { headers: SSE_HEADERS });
      }
      if (path.startsWith("/v1beta/models/")) {
        await request.arrayBuffer();
        if (keyOf(request).startsWith("fail-")) return rateLimited();
        if (path.endsWith(":streamGenerateContent")) return new Response(streamOf(geminiStream), { headers: SSE_HEADERS });
        return new Response(geminiAnswer, { headers: JSON_HEADERS });
      }
      if (path === "/healthz") return new Response("ok");
      if (path === "/release") {
        const count = held.size;
        for (const finish of [...held]) finish();
        return Response.json({ released: count });
      }
      return new Response("not found", { status: 404 });
    },
  });
}

if (import.meta.main) {
  const server = startFastMock(Number(process.argv[2] ?? 0));
  console.log(`ready ${server.port}`);
}
