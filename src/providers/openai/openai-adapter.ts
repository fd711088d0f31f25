/**
 * OpenAI-compatible hosts (OpenAI, OpenRouter, Groq, Mistral, …): the hot path. The request is the
 * client's own with the model renamed; answers and stream events pass through byte for byte,
 * read only for usage and embedded errors.
 */

import type { ProviderAdapter } from "../adapter.ts";
import { embeddedErrorOf, type DecodeAnswers } from "../attempts.ts";
import { findUsage, isObjectText } from "./find-usage.ts";
import { listOpenAIModels, openAIModelList } from "./list-models.ts";
import { openAIHeaders } from "./openai-headers.ts";
import { prepareChatBody, prepareEmbeddingsBody } from "./prepare-request.ts";
import { readOpenAIUsage } from "./read-usage.ts";
import { decodeNativeResponse, inspectResponsesEvent, responsesRelayDialect } from "./responses-native.ts";

/**
 * The upstream body is already the client's answer; only usage and embedded errors are read. An
 * answer that never says "error" cannot be an error object, so it passes on its text alone (its
 * usage found in place); anything else is parsed whole.
 */
export const passThrough: DecodeAnswers = ([answer], headers) => {
  const { text } = answer!;
  if (!text.includes('"error"') && isObjectText(text)) {
    const usage = findUsage(text);
    if (usage.found) return { ok: true, text, usage: readOpenAIUsage(usage.value) };
  }
  const failure = embeddedErrorOf(answer!.body, headers);
  if (failure) return { ok: false, failure };
  return { ok: true, text, usage: readOpenAIUsage((answer!.body as { usage?: unknown }).usage) };
};

export const openAIAdapter: ProviderAdapter = {
  planChat(body, model) {
    const prepared = prepareChatBody(body, model);
    const accept = prepared.stream ? "text/event-stream" : "application/json";
    return {
      stream: prepared.stream,
      stripUsageChunk: prepared.stripUsageChunk,
      request: (key) => ({ url: `${key.baseUrl}/chat/completions`, headers: openAIHeaders(key.secret, accept), body: prepared.json }),
      decode: passThrough,
    };
  },
  planEmbeddings(body, model) {
    const json = prepareEmbeddingsBody(body, model);
    return {
      requests: (key) => [{ url: `${key.baseUrl}/embeddings`, headers: openAIHeaders(key.secret, "application/json"), body: json }],
      decode: passThrough,
    };
  },
  listModels: listOpenAIModels,
  keyCheckRequest: openAIModelList,
  planNativeResponses(request) {
    const accept = request.stream ? "text/event-stream" : "application/json";
    return {
      stream: request.stream,
      request: (key) => ({ url: `${key.baseUrl}/responses`, headers: openAIHeaders(key.secret, accept), body: request.body }),
      decode: decodeNativeResponse,
      inspect: inspectResponsesEvent,
      relayDialect: responsesRelayDialect,
    };
  },
};
