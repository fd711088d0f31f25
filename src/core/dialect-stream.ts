/**
 * The step every translated stream shares: the relayed canonical stream (OpenAI SSE from any
 * provider, ending in `[DONE]`, or in one `data: {"error":…}` chunk the route worded for its
 * dialect) is parsed and each chunk handed to the dialect's writer, whose text goes to the client.
 * Anthropic, Responses and Gemini-native streams differ only in their writer.
 */

import { createSseParser } from "../formats/sse.ts";
import { isRecord } from "../formats/is-record.ts";

export interface DialectWriter {
  /** The dialect's text for one canonical chunk. */
  chunk(chunk: Record<string, unknown>): string;
  /** The relay's error chunk (its `error` object and the chunk's raw JSON): the dialect's last words. */
  error(error: Record<string, unknown>, data: string): string;
  /** `[DONE]`, or the stream ending without it: the dialect's closing text. Called at most once. */
  done(): string;
}

export interface DialectStreamOptions {
  /** Text to send after `everyMs` of silence (undefined: nothing yet), so idle connections stay open. */
  keepAlive?: { everyMs: number; text(): string | undefined };
}

export function toDialectStream(openAIStream: ReadableStream<Uint8Array>, writer: DialectWriter, options: DialectStreamOptions = {}): ReadableStream<Uint8Array> {
  const parser = createSseParser();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let over = false;
  let lastWrite = Date.now();
  let pinger: ReturnType<typeof setInterval> | undefined;

  const end = (text: string): string => {
    over = true;
    clearInterval(pinger);
    return text;
  };

  const convert = (text: string): string => {
    let out = "";
    for (const event of parser.push(text)) {
      if (over || event.data === undefined) continue;
      if (event.data === "[DONE]") {
        out += end(writer.done());
        continue;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(event.data);
      } catch {
        continue;
      }
      if (!isRecord(chunk)) continue;
      out += isRecord(chunk.error) ? end(writer.error(chunk.error, event.data)) : writer.chunk(chunk);
    }
    return out;
  };

  return openAIStream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      start(controller) {
        const keepAlive = options.keepAlive;
        if (!keepAlive) return;
        pinger = setInterval(() => {
          const text = Date.now() - lastWrite < keepAlive.everyMs || over ? undefined : keepAlive.text();
          if (text === undefined) return;
          try {
            controller.enqueue(encoder.encode(text));
            lastWrite = Date.now();
          } catch {
            clearInterval(pinger);
          }
        }, keepAlive.everyMs / 2);
        pinger.unref?.();
      },
      transform(chunk, controller) {
        const out = convert(decoder.decode(chunk, { stream: true }));
        if (out) {
          controller.enqueue(encoder.encode(out));
          lastWrite = Date.now();
        }
      },
      flush(controller) {
        // The relay always ends with [DONE] or an error; this only closes a stream cut short otherwise.
        let out = convert(decoder.decode());
        if (!over) out += end(writer.done());
        if (out) controller.enqueue(encoder.encode(out));
      },
    }),
  );
}
