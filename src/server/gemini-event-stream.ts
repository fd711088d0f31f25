/**
 * OpenAI SSE (as relayed from any provider) → Gemini `streamGenerateContent` events, framed as
 * Google frames them. The relay ends a failed stream with one error event already in Google's
 * envelope (see `geminiFailureText`); here it becomes the last event. Gemini streams have no
 * terminator: `[DONE]` becomes the final event with the finish reason and usage.
 */

import type { Failure } from "../engine/types.ts";
import { createGeminiEventWriter } from "../formats/gemini/chunks-to-gemini-events.ts";
import type { GeminiAnswerContext } from "../formats/gemini/convert-completion-to-gemini.ts";
import { SSE_DONE, createSseParser, sseData } from "../formats/sse.ts";
import { geminiErrorPayload, geminiEvent } from "../providers/gemini/native-stream.ts";

/** The error event that ends a failed translated stream: OpenAI-framed for the converter, Google-shaped inside. */
export function geminiFailureText(failure: Failure): string {
  return sseData(geminiErrorPayload(failure)) + SSE_DONE;
}

export function toGeminiEventStream(openAIStream: ReadableStream<Uint8Array>, context: GeminiAnswerContext): ReadableStream<Uint8Array> {
  const writer = createGeminiEventWriter(context);
  const parser = createSseParser();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let ended = false;

  const convert = (text: string): string => {
    let out = "";
    for (const event of parser.push(text)) {
      if (ended || event.data === undefined) continue;
      if (event.data === "[DONE]") {
        out += writer.finish().map(geminiEvent).join("");
        ended = true;
        continue;
      }
      let chunk: Record<string, unknown>;
      try {
        chunk = JSON.parse(event.data);
      } catch {
        continue;
      }
      if (chunk.error !== undefined && chunk.error !== null) {
        out += geminiEvent(event.data);
        ended = true;
        continue;
      }
      out += writer.push(chunk).map(geminiEvent).join("");
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
        const out = convert(decoder.decode());
        if (out) controller.enqueue(encoder.encode(out));
      },
    }),
  );
}
