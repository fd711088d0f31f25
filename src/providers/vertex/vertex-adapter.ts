/**
 * Google Vertex AI (`vertex/<model>`): Gemini models over the Gemini plans and Claude models
 * (`vertex/claude-…`) over the Anthropic plans, each at Vertex's URLs with the key's Vertex
 * authentication (vertex-auth.ts). Its errors are Google's envelope (Claude's own on a Claude
 * model) and classify as such: `RESOURCE_EXHAUSTED` cools, 401/403 disable, 503 is transient. A
 * quota is a project's, so keys of one project share their cooldowns (`quotaGroup`).
 */

import type { Credential } from "../../credential.ts";
import type { ProviderAdapter } from "../adapter.ts";
import { anthropicPlans } from "../anthropic/anthropic-adapter.ts";
import { networkFailure } from "../classify-failure.ts";
import { embeddingInputs } from "../gemini/convert-embeddings.ts";
import { geminiPlans } from "../gemini/gemini-adapter.ts";
import { fromVertexPredictResponses, toVertexPredictRequests } from "./convert-vertex-embeddings.ts";
import { listVertexModels, vertexModelPage } from "./list-vertex-models.ts";
import { vertexAnthropicEndpoint } from "./vertex-anthropic-endpoint.ts";
import { vertexKeyLabel, vertexSecretParts } from "./vertex-auth.ts";
import { publisherModelUrl, vertexLocation, vertexProject, vertexRequest } from "./vertex-endpoint.ts";
import { vertexGeminiEndpoint } from "./vertex-gemini-endpoint.ts";

/** What every Vertex model shares: keys, listing, quota sharing. */
const vertexKeys = {
  listModels: listVertexModels,
  keyCheckRequest: (key: Credential) => vertexModelPage(key, "google", 1),
  secretParts: vertexSecretParts,
  keyLabel: vertexKeyLabel,
  quotaGroup: (key: Credential) => {
    const project = vertexProject(key);
    return project === undefined ? undefined : `${project}/${vertexLocation(key)}`;
  },
} satisfies Partial<ProviderAdapter>;

const vertexClaudeAdapter: ProviderAdapter = { ...anthropicPlans(vertexAnthropicEndpoint), ...vertexKeys };

/** Claude's ids on Vertex: `claude-sonnet-4-5@20250929`, `claude-3-5-haiku@20241022`, or without the version. */
export function isClaudeModel(model: string): boolean {
  return model.startsWith("claude-");
}

export const vertexAdapter: ProviderAdapter = {
  ...geminiPlans(vertexGeminiEndpoint),
  ...vertexKeys,
  forModel: (model) => (isClaudeModel(model) ? vertexClaudeAdapter : vertexAdapter),

  planEmbeddings(body, model) {
    const inputCount = embeddingInputs(body).length;
    const calls = toVertexPredictRequests(body, model).map((request) => JSON.stringify(request));
    return {
      requests: (key) => calls.map((json) => vertexRequest(key, { url: (k) => publisherModelUrl(k, "google", model, ":predict"), accept: "application/json", body: json })),
      decode: (answers) => {
        const list = fromVertexPredictResponses(answers.map((answer) => answer.body), inputCount, model, body.encoding_format ?? "float");
        if (!list) return { ok: false, failure: { ...networkFailure("Vertex AI answered embeddings without the expected vectors"), status: 200 } };
        const usage = list.usage as { prompt_tokens: number };
        return { ok: true, text: JSON.stringify(list), usage: { promptTokens: usage.prompt_tokens, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 } };
      },
    };
  },
};
