/**
 * OpenAI SSE (as relayed from any provider) → Gemini `streamGenerateContent` events, framed as
 * Google frames them. The relay ends a failed stream with one error event already in Google's
 * envelope (see `geminiFailureText`); here it becomes the last event. Gemini streams have no
 * terminator: `[DONE]` becomes the final event with the finish reason and usage.
 */

import type { Failure } from "../outcome.ts";
import { createGeminiEventWriter } from "../formats/gemini/chunks-to-gemini-events.ts";
import type { GeminiAnswerContext } from "../formats/gemini/convert-completion-to-gemini.ts";
import { SSE_DONE, sseData } from "../formats/sse.ts";
import { geminiErrorPayload, geminiEvent } from "../providers/gemini/native-stream.ts";
import { toDialectStream } from "../core/dialect-stream.ts";

/** The error event that ends a failed translated stream: OpenAI-framed for the converter, Google-shaped inside. */
export function geminiFailureText(failure: Failure): string {
  return sseData(geminiErrorPayload(failure)) + SSE_DONE;
}

export function toGeminiEventStream(openAIStream: ReadableStream<Uint8Array>, context: GeminiAnswerContext): ReadableStream<Uint8Array> {
  const writer = createGeminiEventWriter(context);
  return toDialectStream(openAIStream, {
    chunk: (chunk) => writer.push(chunk).map(geminiEvent).join(""),
    // Already Google-shaped by geminiFailureText.
    error: (_error, data) => geminiEvent(data),
    done: () => writer.finish().map(geminiEvent).join(""),
  });
}
