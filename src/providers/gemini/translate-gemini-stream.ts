/**
 * Gemini's SSE body (`\r\n\r\n` framing, no `[DONE]`) as an OpenAI SSE body, through the pure
 * Gemini stream converter.
 */

import type { StreamTranslator } from "../attempts.ts";
import { converterTranslator } from "../translate-stream.ts";
import type { GeminiConversionContext } from "./convert-gemini-response.ts";
import { createGeminiStreamConverter } from "./convert-gemini-stream.ts";
import type { GeminiResponse } from "./gemini-types.ts";

export function geminiStreamTranslator(context: GeminiConversionContext): StreamTranslator {
  return converterTranslator({
    converter: () => {
      const converter = createGeminiStreamConverter(context);
      return { push: (data) => converter.push(data as GeminiResponse), finish: () => converter.finish() };
    },
    // Google sometimes ends a stream with a bare JSON error object instead of a `data:` event.
    payloadOf: (event) => event.data ?? (event.raw.trimStart().startsWith("{") ? event.raw : undefined),
    invalidJsonError: JSON.stringify({ error: { code: 502, status: "UNAVAILABLE", message: "Gemini sent a stream event that is not valid JSON" } }),
  });
}
