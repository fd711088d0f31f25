/**
 * A ConverseStream body (binary `application/vnd.amazon.eventstream` frames) as an OpenAI SSE
 * body: frames are decoded as they arrive, each event handed to the Converse stream converter, its
 * payloads framed as `data:` events ending in `[DONE]` — so commit at the first content, error
 * events, usage and the relay are the same code as for every family. An exception frame becomes
 * one error event the classifier reads (a throttling frame before any content rotates the key);
 * frames that do not decode (a broken checksum) end the stream with a transient error.
 */

import { SSE_DONE, sseData } from "../../formats/sse.ts";
import type { CompletionContext } from "../../formats/openai-chat-answers.ts";
import type { ThinkingMemory } from "../anthropic/thinking-memory.ts";
import type { StreamTranslator } from "../attempts.ts";
import { converseExceptionPayload, createConverseStreamConverter } from "./convert-converse-stream.ts";
import { createEventStreamDecoder, type EventStreamMessage } from "./event-stream.ts";

const BROKEN_STREAM_ERROR = JSON.stringify({ error: { code: 502, type: "api_error", message: "Bedrock sent an event stream frame that does not decode" } });
const UNREADABLE_EVENT_ERROR = JSON.stringify({ error: { code: 502, type: "api_error", message: "Bedrock sent a stream event of a shape the proxy cannot read" } });

export function converseStreamTranslator(context: CompletionContext, memory: ThinkingMemory): StreamTranslator {
  return (body) => {
    const converter = createConverseStreamConverter(context, memory);
    const decoder = createEventStreamDecoder();
    const encoder = new TextEncoder();
    const text = new TextDecoder();
    const reader = body.getReader();
    let finished = false;

    /** The SSE text for some frames; `finished` once a frame ended the stream (an exception, garbage). */
    const translate = (messages: EventStreamMessage[]): string => {
      let out = "";
      for (const message of messages) {
        if (finished) break;
        const kind = message.headers[":message-type"];
        let payload: unknown;
        try {
          payload = JSON.parse(text.decode(message.payload));
        } catch {
          finished = true;
          return out + sseData(UNREADABLE_EVENT_ERROR) + SSE_DONE;
        }
        if (kind === "exception" || kind === "error") {
          finished = true;
          const type = String(message.headers[":exception-type"] ?? message.headers[":error-code"] ?? "internalServerException");
          return out + sseData(converseExceptionPayload(type, payload)) + SSE_DONE;
        }
        try {
          out += converter.push(String(message.headers[":event-type"] ?? ""), payload).map(sseData).join("");
        } catch {
          finished = true;
          return out + sseData(UNREADABLE_EVENT_ERROR) + SSE_DONE;
        }
      }
      return out;
    };

    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          const read = await reader.read();
          let out: string;
          if (read.done) {
            try {
              decoder.end();
              out = converter.finish().map(sseData).join("") + SSE_DONE;
            } catch {
              out = sseData(BROKEN_STREAM_ERROR) + SSE_DONE;
            }
            finished = true;
          } else {
            try {
              out = translate(decoder.push(read.value));
            } catch {
              finished = true;
              out = sseData(BROKEN_STREAM_ERROR) + SSE_DONE;
            }
          }
          if (out !== "") controller.enqueue(encoder.encode(out));
          if (finished) {
            if (!read.done) reader.cancel().catch(() => {});
            return controller.close();
          }
          if (out !== "") return;
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
  };
}
