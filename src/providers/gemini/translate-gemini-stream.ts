/**
 * Wraps Gemini's SSE body (`\r\n\r\n` framing, no `[DONE]`) as an OpenAI SSE body, so everything
 * after it — commit at the first content, error events, usage, relay — is the same code for every
 * family. The translation itself is the pure converter; this module only frames it.
 */

import { SSE_DONE, createSseParser, sseData } from "../../formats/sse.ts";
import type { StreamTranslator } from "../attempts.ts";
import type { GeminiConversionContext } from "./convert-gemini-response.ts";
import { createGeminiStreamConverter } from "./convert-gemini-stream.ts";
import type { GeminiResponse } from "./gemini-types.ts";

const NOT_JSON_ERROR = JSON.stringify({ error: { code: 502, status: "UNAVAILABLE", message: "Gemini sent a stream event that is not valid JSON" } });

export function geminiStreamTranslator(context: GeminiConversionContext): StreamTranslator {
  return (body) => {
    const converter = createGeminiStreamConverter(context);
    const parser = createSseParser();
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    const frame = (payloads: string[]): string => payloads.map(sseData).join("");
    const translate = (events: ReturnType<typeof parser.push>): string => {
      let out = "";
      for (const event of events) {
        // Google sometimes ends a stream with a bare JSON error object instead of a `data:` event.
        const payload = event.data ?? (event.raw.trimStart().startsWith("{") ? event.raw : undefined);
        if (payload === undefined) continue;
        let parsed: GeminiResponse;
        try {
          parsed = JSON.parse(payload) as GeminiResponse;
        } catch {
          out += sseData(NOT_JSON_ERROR);
          continue;
        }
        out += frame(converter.push(parsed));
      }
      return out;
    };
    return body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          const out = translate(parser.push(decoder.decode(chunk, { stream: true })));
          if (out) controller.enqueue(encoder.encode(out));
        },
        flush(controller) {
          const out = translate(parser.push(decoder.decode())) + translate(parser.end()) + frame(converter.finish()) + SSE_DONE;
          controller.enqueue(encoder.encode(out));
        },
      }),
    );
  };
}
