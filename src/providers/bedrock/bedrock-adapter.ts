/**
 * Amazon Bedrock (`bedrock/<model id or inference profile>`) through the Converse API: OpenAI chat
 * in, `POST /model/{id}/converse` or `/converse-stream` out (the stream in AWS's binary event
 * framing), OpenAI back; embeddings through `InvokeModel` for Titan and Cohere embed models;
 * models from the control plane's `foundation-models`. Each key is a Bedrock API key (bearer) or
 * an access-key pair signing with SigV4 for its region. Bedrock names its errors in
 * `x-amzn-ErrorType`, which the classifier reads.
 */

import type { CompletionContext } from "../../formats/openai-chat-answers.ts";
import type { Credential } from "../../credential.ts";
import { createThinkingMemory } from "../anthropic/thinking-memory.ts";
import type { ModelListResult, ProviderAdapter } from "../adapter.ts";
import type { DecodeAnswers, UpstreamRequest } from "../attempts.ts";
import { networkFailure } from "../classify-failure.ts";
import { readOpenAIUsage } from "../openai/read-usage.ts";
import { getUpstreamJson } from "../upstream-http.ts";
import { bedrockKeyLabel, bedrockRequest, bedrockSecretParts } from "./bedrock-auth.ts";
import type { ConverseResponse } from "./bedrock-types.ts";
import { fromBedrockEmbeddingAnswers, toBedrockEmbeddingRequests } from "./convert-bedrock-embeddings.ts";
import { convertConverseResponse } from "./convert-converse-response.ts";
import { convertToConverseRequest } from "./convert-to-converse-request.ts";
import { converseStreamTranslator } from "./translate-converse-stream.ts";

/** Claude's reasoning blocks by tool call id, shared by every key: a tool loop may come back on any. */
const thinkingMemory = createThinkingMemory();

export const BEDROCK_STREAM_TYPE = "application/vnd.amazon.eventstream";

function newContext(model: string): CompletionContext {
  return { id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`, model, created: Math.floor(Date.now() / 1000) };
}

/** The model id is one path segment: an inference profile ARN's slashes and a version's colon are encoded. */
function modelPath(key: Credential, model: string, operation: "converse" | "converse-stream" | "invoke" | "count-tokens"): string {
  return `${key.baseUrl}/model/${encodeURIComponent(model)}/${operation}`;
}

/** The control plane (model listing) sits beside the runtime: bedrock.<region> for bedrock-runtime.<region>. */
function controlPlaneUrl(key: Credential, path: string): string {
  return `${key.baseUrl.replace("://bedrock-runtime.", "://bedrock.")}${path}`;
}

function decodeChat(context: CompletionContext): DecodeAnswers {
  return ([answer]) => {
    const response = answer!.body as ConverseResponse;
    if (typeof response !== "object" || response === null || !response.output) {
      return { ok: false, failure: { ...networkFailure("Bedrock answered without an output message"), status: 200 } };
    }
    const completion = convertConverseResponse(response, context, thinkingMemory);
    return { ok: true, text: JSON.stringify(completion), usage: readOpenAIUsage(completion.usage) };
  };
}

function modelListRequest(key: Credential): UpstreamRequest | Promise<UpstreamRequest> {
  return bedrockRequest(key, { url: controlPlaneUrl(key, "/foundation-models?byOutputModality=TEXT"), method: "GET", accept: "application/json" });
}

export const bedrockAdapter: ProviderAdapter = {
  planChat(body, model) {
    const json = JSON.stringify(convertToConverseRequest(body, model, { memory: thinkingMemory }));
    const stream = body.stream === true;
    const context = newContext(model);
    return {
      stream,
      // The converted stream always ends with a usage chunk; the client keeps it only if it asked.
      stripUsageChunk: body.stream_options?.include_usage !== true,
      request: (key) => bedrockRequest(key, { url: modelPath(key, model, stream ? "converse-stream" : "converse"), accept: stream ? BEDROCK_STREAM_TYPE : "application/json", body: json }),
      decode: decodeChat(context),
      translateStream: converseStreamTranslator(context, thinkingMemory),
      streamType: BEDROCK_STREAM_TYPE,
    };
  },

  planEmbeddings(body, model) {
    const bodies = toBedrockEmbeddingRequests(body, model);
    // Titan takes one input per request, Cohere batches them: the answer is checked against the inputs, not the requests.
    const inputs = typeof body.input === "string" ? 1 : body.input.length;
    return {
      requests: (key) => bodies.map((json) => bedrockRequest(key, { url: modelPath(key, model, "invoke"), accept: "application/json", body: json })),
      decode: (answers) => {
        const list = fromBedrockEmbeddingAnswers(answers.map((answer) => answer.body), model, inputs, body.encoding_format ?? "float");
        if (!list) return { ok: false, failure: { ...networkFailure("Bedrock answered embeddings without the expected vectors"), status: 200 } };
        return { ok: true, text: JSON.stringify(list), usage: { promptTokens: list.usage.prompt_tokens, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 } };
      },
    };
  },

  async listModels(options): Promise<ModelListResult> {
    const request = await modelListRequest(options.key);
    const answer = await getUpstreamJson({ url: request.url, headers: request.headers, signal: options.signal, timeoutMs: options.timeoutMs, what: "the Bedrock model list" });
    if (!answer.ok) return answer;
    const summaries = (answer.body as { modelSummaries?: unknown }).modelSummaries;
    const models = (Array.isArray(summaries) ? summaries : [])
      .filter((entry): entry is { modelId: string; providerName?: unknown } => typeof entry === "object" && entry !== null && typeof entry.modelId === "string")
      .map((entry) => ({ id: entry.modelId, owned_by: typeof entry.providerName === "string" ? entry.providerName.toLowerCase() : "bedrock" }));
    return { ok: true, models };
  },
  keyCheckRequest: modelListRequest,
  secretParts: bedrockSecretParts,
  keyLabel: bedrockKeyLabel,
};
