/**
 * OpenAI SSE (as relayed from any provider) → Responses API events. The relay ends a failed stream
 * with one `data: {"error":…}` chunk (see `responsesFailureText`); here it becomes the `error` event
 * and `response.failed`. However the stream ends, `onEnd` is called once, when the writer's response
 * is final (for the response store).
 */

import type { Failure } from "../outcome.ts";
import type { ResponseEventWriter } from "../formats/responses/chunks-to-response-events.ts";
import { SSE_DONE, sseData } from "../formats/sse.ts";
import { toDialectStream } from "./dialect-stream.ts";

/** The chunk that ends a failed relayed stream, in the form the converter below reads. */
export function responsesFailureText(failure: Failure): string {
  return sseData(JSON.stringify({ error: { code: failure.code ?? failure.class, message: failure.message } })) + SSE_DONE;
}

export function toResponsesEventStream(openAIStream: ReadableStream<Uint8Array>, writer: ResponseEventWriter, onEnd: () => void): ReadableStream<Uint8Array> {
  const ended = (text: string): string => {
    onEnd();
    return text;
  };
  return toDialectStream(openAIStream, {
    chunk: (chunk) => writer.push(chunk),
    error: ({ code, message }) => ended(writer.fail({ code: typeof code === "string" ? code : "upstream_error", message: typeof message === "string" ? message : "upstream error" })),
    done: () => ended(writer.finish()),
  });
}
