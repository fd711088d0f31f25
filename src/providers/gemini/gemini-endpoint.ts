/**
 * Where a Gemini model's methods are called and how a key authenticates there. Google serves the
 * same `generateContent` wire from two places: the Generative Language API (AI Studio keys,
 * `{base}/models/<model>:<method>`) and Vertex AI's publisher models (project, location and an
 * OAuth token or express-mode key). The Gemini plans take an endpoint, so both share one converter.
 */

import type { GeminiNativeMethod, RequestFor } from "../adapter.ts";
import { geminiHeaders } from "./gemini-headers.ts";
import type { GeminiRequest } from "./gemini-types.ts";

export interface GeminiEndpoint {
  /** The request calling `method` of `model` with the JSON `body`, for one key. */
  call(model: string, method: GeminiNativeMethod, body: string): RequestFor;
  /** The `:countTokens` body counting what `request` would send. */
  countTokensBody(request: GeminiRequest, model: string): unknown;
}

/** `:streamGenerateContent` answers as SSE only when asked (`alt=sse`); otherwise one JSON array at the end. */
export function methodSuffix(method: GeminiNativeMethod): string {
  return method === "streamGenerateContent" ? `:${method}?alt=sse` : `:${method}`;
}

/** The part of a converted request that is counted: generation settings do not change the prompt's count. */
export function countedParts(request: GeminiRequest): Pick<GeminiRequest, "contents" | "systemInstruction" | "tools"> {
  return {
    contents: request.contents,
    ...(request.systemInstruction ? { systemInstruction: request.systemInstruction } : {}),
    ...(request.tools ? { tools: request.tools } : {}),
  };
}

/** The Generative Language API: the key in `x-goog-api-key`, never in the URL (URLs end up in logs). */
export const generativeLanguageEndpoint: GeminiEndpoint = {
  call(model, method, body) {
    const path = `/models/${encodeURIComponent(model)}${methodSuffix(method)}`;
    return (key) => ({ url: key.baseUrl + path, headers: geminiHeaders(key.secret), body });
  },
  // Its countTokens takes the full request only wrapped as generateContentRequest, model included.
  countTokensBody: (request, model) => ({ generateContentRequest: { model: `models/${model}`, ...countedParts(request) } }),
};
