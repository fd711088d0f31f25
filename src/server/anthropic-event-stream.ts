/**
 * OpenAI SSE (as relayed from any provider) → Anthropic Messages events. The relay already ends a
 * failed stream with one error event, its `type` already Anthropic's (the route words it from the
 * failure, see `anthropicFailureText`); here it becomes one `event: error`. During long silences
 * (a model thinking before its first token) a `ping` goes out so clients and intermediaries keep
 * the connection.
 */

import { createMessageEventWriter, type MessageEventWriterOptions } from "../formats/anthropic/chunks-to-message-events.ts";
import { createSseParser } from "../formats/sse.ts";

const PING_EVERY_MS = 10_000;

export function toAnthropicEventStream(openAIStream: ReadableStream<Uint8Array>, options: MessageEventWriterOptions): ReadableStream<Uint8Array> {
  const writer = createMessageEventWriter(options);
  const parser = createSseParser();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let lastWrite = Date.now();
  let pinger: ReturnType<typeof setInterval> | undefined;

  const convert = (text: string): string => {
    let out = "";
    for (const event of parser.push(text)) {
      if (event.data === undefined) continue;
      if (event.data === "[DONE]") {
        out += writer.finish();
        continue;
      }
      let chunk: Record<string, unknown>;
      try {
        chunk = JSON.parse(event.data);
      } catch {
        continue;
      }
      const error = chunk.error as { type?: string; message?: string } | undefined;
      if (error && typeof error === "object") {
        out += writer.error({ type: error.type ?? "api_error", message: error.message ?? "upstream error" });
        continue;
      }
      out += writer.push(chunk);
    }
    return out;
  };

  return openAIStream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      start(controller) {
        pinger = setInterval(() => {
          if (Date.now() - lastWrite < PING_EVERY_MS || !writer.started) return;
          try {
            controller.enqueue(encoder.encode(writer.ping()));
            lastWrite = Date.now();
          } catch {
            clearInterval(pinger);
          }
        }, PING_EVERY_MS / 2);
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
        clearInterval(pinger);
        const out = convert(decoder.decode()) + writer.finish();
        if (out) controller.enqueue(encoder.encode(out));
      },
    }),
  );
}
