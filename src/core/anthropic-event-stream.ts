/**
 * OpenAI SSE (as relayed from any provider) → Anthropic Messages events. The relay already ends a
 * failed stream with one error event, its `type` already Anthropic's (the route words it from the
 * failure, see `anthropicFailureText`); here it becomes one `event: error`. During long silences
 * (a model thinking before its first token) a `ping` goes out so clients and intermediaries keep
 * the connection.
 */

import { createMessageEventWriter, type MessageEventWriterOptions } from "../formats/anthropic/chunks-to-message-events.ts";
import { toDialectStream } from "./dialect-stream.ts";

const PING_EVERY_MS = 10_000;

export function toAnthropicEventStream(openAIStream: ReadableStream<Uint8Array>, options: MessageEventWriterOptions): ReadableStream<Uint8Array> {
  const writer = createMessageEventWriter(options);
  return toDialectStream(
    openAIStream,
    {
      chunk: (chunk) => writer.push(chunk),
      error: (error) =>
        writer.error({ type: typeof error.type === "string" ? error.type : "api_error", message: typeof error.message === "string" ? error.message : "upstream error" }),
      done: () => writer.finish(),
    },
    { keepAlive: { everyMs: PING_EVERY_MS, text: () => (writer.started ? writer.ping() : undefined) } },
  );
}
