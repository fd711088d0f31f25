/**
 * A relayed OpenAI event stream as the library hands it out: an AsyncIterable of chunk objects
 * (`for await`), or `.toReadableStream()` with one JSON chunk per line as the OpenAI SDK's streams
 * give it. An error event — the upstream failing after the first chunk — ends the iteration by
 * throwing a RotationError; breaking out of the loop cancels the upstream call.
 */

import { createSseParser } from "../formats/sse.ts";
import { RotationError } from "./rotation-error.ts";

export interface ChunkStream<Chunk> extends AsyncIterable<Chunk> {
  /** Newline-delimited JSON chunks, for piping on. */
  toReadableStream(): ReadableStream<Uint8Array>;
}

export function chunkStream<Chunk>(body: ReadableStream<Uint8Array>): ChunkStream<Chunk> {
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
          const payload = JSON.parse(event.data) as { error?: { message?: string; type?: string; code?: string | null } };
          if (payload.error) {
            const { message = "The upstream failed during the stream.", type = "upstream_error", code = null } = payload.error;
            throw new RotationError("all_keys_failed", { status: 502, type, code: code ?? null, param: null, message });
          }
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
