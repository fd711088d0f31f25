/**
 * OpenAI SSE (as relayed from any provider) → Responses API events. The relay ends a failed stream
 * with one `data: {"error":…}` chunk (see `responsesFailureText`); here it becomes the `error` event
 * and `response.failed`. However the stream ends, `onEnd` is called once, when the writer's response
 * is final (for the response store).
 */

import type { Failure } from "../engine/types.ts";
import type { ResponseEventWriter } from "../formats/responses/chunks-to-response-events.ts";
import { SSE_DONE, createSseParser, sseData } from "../formats/sse.ts";
import { isRecord } from "../formats/is-record.ts";

/** The chunk that ends a failed relayed stream, in the form the converter below reads. */
export function responsesFailureText(failure: Failure): string {
  return sseData(JSON.stringify({ error: { code: failure.code ?? failure.class, message: failure.message } })) + SSE_DONE;
}

export function toResponsesEventStream(
  openAIStream: ReadableStream<Uint8Array>,
  writer: ResponseEventWriter,
  onEnd: () => void,
): ReadableStream<Uint8Array> {
  const parser = createSseParser();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let over = false;

  const end = (text: string): string => {
    if (over) return "";
    over = true;
    onEnd();
    return text;
  };

  const convert = (text: string): string => {
    let out = "";
    for (const event of parser.push(text)) {
      if (over || event.data === undefined) continue;
      if (event.data === "[DONE]") {
        out += end(writer.finish());
        continue;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(event.data);
      } catch {
        continue;
      }
      if (!isRecord(chunk)) continue;
      if (isRecord(chunk.error)) {
        const { code, message } = chunk.error;
        out += end(writer.fail({ code: typeof code === "string" ? code : "upstream_error", message: typeof message === "string" ? message : "upstream error" }));
        continue;
      }
      out += writer.push(chunk);
    }
    return out;
  };

  return openAIStream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const out = convert(decoder.decode(chunk, { stream: true }));
        if (out) controller.enqueue(encoder.encode(out));
      },
      flush(controller) {
        // The relay always ends with [DONE]; this only closes a stream cut short some other way.
        const out = convert(decoder.decode()) + end(writer.finish());
        if (out) controller.enqueue(encoder.encode(out));
      },
    }),
  );
}
