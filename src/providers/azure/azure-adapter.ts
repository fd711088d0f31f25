/**
 * Azure OpenAI (`azure/<deployment>`): OpenAI's own wire, so bodies and answers pass through as for
 * any OpenAI-compatible host (content filter results and all), with Azure's URLs (per key: a key
 * belongs to one resource) and its `api-key` header. Its errors are OpenAI-shaped and classify as
 * such: a content-filter 400 is the request's fault, 401/403 disable the key, a 429 cools it for
 * `retry-after-ms` / `retry-after`, and DeploymentNotFound is the client's 404.
 */

import type { ProviderAdapter } from "../adapter.ts";
import { listModelsAt } from "../openai/list-models.ts";
import { passThrough } from "../openai/openai-adapter.ts";
import { prepareChatBody, prepareEmbeddingsBody } from "../openai/prepare-request.ts";
import { decodeNativeResponse, inspectResponsesEvent, responsesRelayDialect } from "../openai/responses-native.ts";
import { azureHeaders, azureUrl } from "./azure-endpoint.ts";

const acceptFor = (stream: boolean) => (stream ? "text/event-stream" : "application/json");

export const azureAdapter: ProviderAdapter = {
  planChat(body, deployment) {
    const prepared = prepareChatBody(body, deployment);
    const accept = acceptFor(prepared.stream);
    return {
      stream: prepared.stream,
      stripUsageChunk: prepared.stripUsageChunk,
      request: (key) => ({ url: azureUrl(key, "chat/completions", deployment), headers: azureHeaders(key, accept), body: prepared.json }),
      decode: passThrough,
    };
  },
  planEmbeddings(body, deployment) {
    const json = prepareEmbeddingsBody(body, deployment);
    return {
      requests: (key) => [{ url: azureUrl(key, "embeddings", deployment), headers: azureHeaders(key, "application/json"), body: json }],
      decode: passThrough,
    };
  },
  listModels: (options) => listModelsAt(options, { url: azureUrl(options.key, "models"), headers: azureHeaders(options.key, "application/json") }),
  keyCheckRequest: (key) => ({ url: azureUrl(key, "models"), headers: azureHeaders(key, "application/json") }),
  planNativeResponses(request) {
    const accept = acceptFor(request.stream);
    return {
      stream: request.stream,
      request: (key) => ({ url: azureUrl(key, "responses"), headers: azureHeaders(key, accept), body: request.body }),
      decode: decodeNativeResponse,
      inspect: inspectResponsesEvent,
      relayDialect: responsesRelayDialect,
    };
  },
};
