/**
 * A relayed event stream as the library hands it out: an AsyncIterable of event objects
 * (`for await`) — chat completion chunks, Messages events or Responses events, each the parsed
 * `data` of one server-sent event — or `.toReadableStream()` with one JSON object per line. An
 * error event (the upstream failing after the first chunk) ends the iteration by throwing a
 * RotationError; breaking out of the loop cancels the upstream call.
 */

import type { ProxyError } from "../errors/proxy-error.ts";
import { isRecord } from "../formats/is-record.ts";
import { createSseParser } from "../formats/sse.ts";
import { RotationError } from "./rotation-error.ts";

export interface ChunkStream<Chunk> extends AsyncIterable<Chunk> {
  /** Newline-delimited JSON chunks, for piping on. */
  toReadableStream(): ReadableStream<Uint8Array>;
}

/** How a dialect's stream says it failed: the error, read from one event's payload. */
export type StreamErrorReader = (payload: Record<string, unknown>) => ProxyError | undefined;

const UPSTREAM_FAILED = "The upstream failed during the stream.";

function streamError(fields: Record<string, unknown>, fallbackType: string): ProxyError {
  const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
  return { status: 502, type: text(fields.type) ?? fallbackType, code: text(fields.code) ?? null, param: null, message: text(fields.message) ?? UPSTREAM_FAILED };
}

/** Chat completion chunks: `{"error": {…}}`. */
export const chatStreamError: StreamErrorReader = (payload) => (isRecord(payload.error) ? streamError(payload.error, "upstream_error") : undefined);

/** Messages events: `{"type": "error", "error": {"type", "message"}}`. */
export const messagesStreamError: StreamErrorReader = (payload) => (payload.type === "error" ? streamError(isRecord(payload.error) ? payload.error : {}, "api_error") : undefined);

/** Responses events: `{"type": "error", "code", "message"}`, or `response.failed` with the response's error. */
export const responsesStreamError: StreamErrorReader = (payload) => {
  if (payload.type === "error") return streamError({ ...payload, type: "upstream_error" }, "upstream_error");
  if (payload.type !== "response.failed") return undefined;
  const response = isRecord(payload.response) ? payload.response : {};
  return streamError({ ...(isRecord(response.error) ? response.error : {}), type: "upstream_error" }, "upstream_error");
};

export function chunkStream<Chunk>(body: ReadableStream<Uint8Array>, errorOf: StreamErrorReader): ChunkStream<Chunk> {
  let used = false;
  const chunks = async function* (): AsyncGenerator<Chunk> {
    if (used) throw new Error("A stream can be read once.");
    used = true;
    const reader = body.getReader();
    const parser = createSseParser();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        const events = done ? [...parser.push(decoder.decode()), ...parser.end()] : parser.push(decoder.decode(value, { stream: true }));
        for (const event of events) {
          if (event.data === undefined) continue;
          if (event.data === "[DONE]") return;
          const payload = JSON.parse(event.data) as Record<string, unknown>;
          const error = errorOf(payload);
          if (error) throw new RotationError("all_keys_failed", error);
          yield payload as Chunk;
        }
        if (done) return;
      }
    } finally {
      // Leaving early (break, throw) ends the upstream call and gives the key back.
      await reader.cancel().catch(() => {});
    }
  };
  return {
    [Symbol.asyncIterator]: chunks,
    toReadableStream() {
      const iterator = chunks();
      const encoder = new TextEncoder();
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(`${JSON.stringify(next.value)}\n`));
        },
        async cancel() {
          await iterator.return(undefined);
        },
      });
    },
  };
}
