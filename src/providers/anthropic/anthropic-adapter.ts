/**
 * Anthropic as a provider for OpenAI clients: OpenAI chat in, Messages API out, OpenAI back.
 * Thinking blocks are remembered by tool call id (OpenAI clients drop them) so tool loops with
 * extended thinking keep working. Anthropic has no embeddings API.
 */

import { networkFailure } from "../classify-failure.ts";
import { UnsupportedRequestError, type PassthroughPlan, type PassthroughRequest, type ProviderAdapter } from "../adapter.ts";
import { embeddedErrorOf, type DecodeAnswers, type StreamTranslator } from "../attempts.ts";
import { readOpenAIUsage } from "../openai/read-usage.ts";
import { converterTranslator } from "../translate-stream.ts";
import { anthropicApiEndpoint, type AnthropicEndpoint } from "./anthropic-endpoint.ts";
import { convertAnthropicResponse, type AnthropicConversionContext } from "./convert-anthropic-response.ts";
import { createAnthropicStreamConverter } from "./convert-anthropic-stream.ts";
import { convertToAnthropicRequest } from "./convert-to-anthropic-request.ts";
import { anthropicModelPage, listAnthropicModels } from "./list-anthropic-models.ts";
import { anthropicRelayDialect, inspectAnthropicEvent } from "./native-stream.ts";
import { readAnthropicUsage } from "./read-anthropic-usage.ts";
import { createThinkingMemory } from "./thinking-memory.ts";
import type { AnthropicMessage } from "../../formats/anthropic/types.ts";

/** One memory per process: a tool loop may come back on any key, so it is not per key. */
const thinkingMemory = createThinkingMemory();

function newContext(model: string): AnthropicConversionContext {
  return { id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`, model, created: Math.floor(Date.now() / 1000) };
}

function decodeChat(context: AnthropicConversionContext): DecodeAnswers {
  return ([answer], headers) => {
    const failure = embeddedErrorOf(answer!.body, headers);
    if (failure) return { ok: false, failure };
    const message = answer!.body as AnthropicMessage;
    if (!Array.isArray(message.content)) return { ok: false, failure: { ...networkFailure("Anthropic answered without message content"), status: 200 } };
    const completion = convertAnthropicResponse(message, context, thinkingMemory);
    return { ok: true, text: JSON.stringify(completion), usage: readOpenAIUsage(completion.usage) };
  };
}

function anthropicStreamTranslator(context: AnthropicConversionContext): StreamTranslator {
  return converterTranslator({
    converter: () => {
      const converter = createAnthropicStreamConverter(context, thinkingMemory);
      return { push: (data, event) => converter.push({ event: event.event, data }), finish: () => converter.finish() };
    },
    invalidJsonError: JSON.stringify({ error: { type: "api_error", message: "Anthropic sent a stream event that is not valid JSON" } }),
  });
}

/** A native Messages API answer: its text as it came, with its usage; an embedded error rotates. */
const decodeNative: DecodeAnswers = ([answer], headers) => {
  const failure = embeddedErrorOf(answer!.body, headers);
  if (failure) return { ok: false, failure };
  return { ok: true, text: answer!.text, usage: readAnthropicUsage((answer!.body as { usage?: unknown }).usage) };
};

function nativePlan(endpoint: AnthropicEndpoint, model: string, request: PassthroughRequest, count: boolean): PassthroughPlan {
  return {
    stream: request.stream,
    request: endpoint.call({ model, body: request.body, stream: request.stream, count, beta: request.beta, betaQuery: request.betaQuery }),
    decode: decodeNative,
    inspect: inspectAnthropicEvent,
    relayDialect: anthropicRelayDialect,
  };
}

/** The Claude plans over an endpoint: OpenAI chat translated both ways, and the Messages API passed through. */
export function anthropicPlans(endpoint: AnthropicEndpoint): Pick<ProviderAdapter, "planChat" | "planEmbeddings" | "planNativeMessages" | "planNativeMessageCount"> {
  return {
    planChat(body, model) {
      const json = JSON.stringify(convertToAnthropicRequest(body, model, thinkingMemory));
      const stream = body.stream === true;
      const context = newContext(model);
      return {
        stream,
        stripUsageChunk: body.stream_options?.include_usage !== true,
        request: endpoint.call({ model, body: json, stream, count: false }),
        decode: decodeChat(context),
        translateStream: anthropicStreamTranslator(context),
      };
    },
    planEmbeddings() {
      throw new UnsupportedRequestError("Claude (Anthropic) has no embeddings API; use an embedding model of another provider (for example openai/text-embedding-3-small).", "model");
    },
    planNativeMessages: (model, request) => nativePlan(endpoint, model, request, false),
    planNativeMessageCount: (model, request) => nativePlan(endpoint, model, { ...request, stream: false }, true),
  };
}

export const anthropicAdapter: ProviderAdapter = {
  ...anthropicPlans(anthropicApiEndpoint),
  listModels: listAnthropicModels,
  keyCheckRequest: (key) => anthropicModelPage(key, 1),
};
