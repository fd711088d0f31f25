/**
 * Gemini on Vertex AI: the Generative Language wire (the same converters, streams and native
 * pass-through) at Vertex's publisher-model URLs with the key's Vertex authentication. Vertex's
 * `:countTokens` takes the counted parts directly, not wrapped as AI Studio's is.
 */

import type { GeminiEndpoint } from "../gemini/gemini-endpoint.ts";
import { countedParts, methodSuffix } from "../gemini/gemini-endpoint.ts";
import { publisherModelUrl, vertexRequest } from "./vertex-endpoint.ts";

export const vertexGeminiEndpoint: GeminiEndpoint = {
  call(model, method, body) {
    const suffix = methodSuffix(method);
    const accept = method === "streamGenerateContent" ? "text/event-stream" : "application/json";
    return (key) => vertexRequest(key, { url: (k) => publisherModelUrl(k, "google", model, suffix), accept, body });
  },
  countTokensBody: (request) => countedParts(request),
};
