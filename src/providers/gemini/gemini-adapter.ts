/**
 * Google Gemini over the native Generative Language API: OpenAI chat in, `generateContent` /
 * `streamGenerateContent?alt=sse` out, OpenAI back; embeddings through `batchEmbedContents`;
 * models from the paginated `models` listing. The key goes in `x-goog-api-key`.
 */

import type { ProviderAdapter } from "../adapter.ts";
import { embeddedErrorOf, type DecodeAnswers } from "../attempts.ts";
import { networkFailure } from "../classify-failure.ts";
import { readOpenAIUsage } from "../openai/read-usage.ts";
import { embeddingInputs, fromBatchEmbedResponses, toBatchEmbedRequests } from "./convert-embeddings.ts";
import { convertGeminiResponse, isEmptyGeminiResponse, type GeminiConversionContext } from "./convert-gemini-response.ts";
import { convertToGeminiRequest } from "./convert-to-gemini-request.ts";
import { generativeLanguageEndpoint, type GeminiEndpoint } from "./gemini-endpoint.ts";
import type { GeminiResponse } from "./gemini-types.ts";
import { geminiModelPage, listGeminiModels } from "./list-gemini-models.ts";
import { planGeminiNative } from "./plan-gemini-native.ts";
import { geminiStreamTranslator } from "./translate-gemini-stream.ts";

function newContext(model: string): GeminiConversionContext {
  return { id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`, model, created: Math.floor(Date.now() / 1000) };
}

function decodeChat(context: GeminiConversionContext): DecodeAnswers {
  return ([answer], headers) => {
    const response = answer!.body as GeminiResponse;
    const failure = embeddedErrorOf(response, headers);
    if (failure) return { ok: false, failure };
    // An empty candidate is a Gemini glitch another key (or a second try) usually answers.
    if (isEmptyGeminiResponse(response)) return { ok: false, failure: { ...networkFailure("Gemini answered with an empty candidate"), status: 200 } };
    const completion = convertGeminiResponse(response, context);
    return { ok: true, text: JSON.stringify(completion), usage: readOpenAIUsage(completion.usage) };
  };
}

/**
 * The Gemini plans over an endpoint: OpenAI chat translated both ways, the provider's own token
 * count, and Gemini-native calls passed through. Embeddings and model listing differ per endpoint.
 */
export function geminiPlans(endpoint: GeminiEndpoint): Pick<ProviderAdapter, "planChat" | "planCountTokens" | "planNativeGemini"> {
  return {
    planChat(body, model) {
      const json = JSON.stringify(convertToGeminiRequest(body, model));
      const stream = body.stream === true;
      const context = newContext(model);
      return {
        stream,
        // The translated stream always ends with a usage chunk; the client keeps it only if it asked.
        stripUsageChunk: body.stream_options?.include_usage !== true,
        request: endpoint.call(model, stream ? "streamGenerateContent" : "generateContent", json),
        decode: decodeChat(context),
        translateStream: geminiStreamTranslator(context),
      };
    },
    planCountTokens(body, model) {
      const json = JSON.stringify(endpoint.countTokensBody(convertToGeminiRequest(body, model), model));
      return {
        request: endpoint.call(model, "countTokens", json),
        read: (answer) => {
          const total = (answer as { totalTokens?: unknown }).totalTokens;
          return typeof total === "number" ? total : undefined;
        },
      };
    },
    planNativeGemini: (method, model, request) => planGeminiNative(endpoint, method, model, request),
  };
}

export const geminiAdapter: ProviderAdapter = {
  ...geminiPlans(generativeLanguageEndpoint),

  planEmbeddings(body, model) {
    const inputs = embeddingInputs(body);
    const batches = toBatchEmbedRequests(body, model).map((batch) => JSON.stringify(batch));
    return {
      requests: (key) => batches.map((json) => generativeLanguageEndpoint.call(model, "batchEmbedContents", json)(key)),
      decode: (answers) => {
        const list = fromBatchEmbedResponses(answers.map((answer) => answer.body), inputs, model, body.encoding_format ?? "float");
        if (!list) return { ok: false, failure: { ...networkFailure("Gemini answered embeddings without the expected vectors"), status: 200 } };
        const usage = list.usage as { prompt_tokens: number };
        return { ok: true, text: JSON.stringify(list), usage: { promptTokens: usage.prompt_tokens, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 } };
      },
    };
  },

  listModels: listGeminiModels,
  keyCheckRequest: (key) => geminiModelPage(key, 1),
};
