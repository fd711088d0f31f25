/**
 * Gemini-native requests for a Gemini model: the client's own body goes to the same method at the
 * model's endpoint (AI Studio's or Vertex's) with a rotated key, and the answer comes back untouched.
 * A 200 with an error inside, or Gemini's empty candidate, rotates like any failure; usage is read
 * from `usageMetadata`; streams relay through the native Gemini dialect (native-stream.ts).
 */

import type { GeminiNativeMethod, PassthroughPlan, PassthroughRequest } from "../adapter.ts";
import { embeddedErrorOf, type DecodeAnswers } from "../attempts.ts";
import { networkFailure } from "../classify-failure.ts";
import { readOpenAIUsage } from "../openai/read-usage.ts";
import { isEmptyGeminiResponse } from "./convert-gemini-response.ts";
import { convertGeminiUsage } from "./convert-gemini-usage.ts";
import type { GeminiEndpoint } from "./gemini-endpoint.ts";
import type { GeminiResponse } from "./gemini-types.ts";
import { geminiRelayDialect, inspectGeminiEvent } from "./native-stream.ts";

/** Any answer but an error object; a generated one must also have content. */
function decodeFor(method: GeminiNativeMethod): DecodeAnswers {
  return ([answer], headers) => {
    const body = answer!.body as GeminiResponse;
    const failure = embeddedErrorOf(body, headers);
    if (failure) return { ok: false, failure };
    if (method !== "generateContent") return { ok: true, text: answer!.text };
    // An empty candidate is a Gemini glitch another key (or a second try) usually answers.
    if (isEmptyGeminiResponse(body)) return { ok: false, failure: { ...networkFailure("Gemini answered with an empty candidate"), status: 200 } };
    return { ok: true, text: answer!.text, usage: readOpenAIUsage(convertGeminiUsage(body.usageMetadata ?? {})) };
  };
}

export function planGeminiNative(endpoint: GeminiEndpoint, method: GeminiNativeMethod, model: string, request: PassthroughRequest): PassthroughPlan {
  return {
    stream: method === "streamGenerateContent",
    request: endpoint.call(model, method, request.body),
    decode: decodeFor(method),
    inspect: inspectGeminiEvent,
    relayDialect: geminiRelayDialect,
  };
}
