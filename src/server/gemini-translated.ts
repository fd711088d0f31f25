/**
 * Gemini-native requests for every provider that is not Gemini: the request is translated to the
 * canonical OpenAI form, run over the provider's keys like any chat request, and the answer — JSON
 * or stream — translated back into Gemini's shapes. Embeddings go through the provider's embeddings
 * and token counts through its own counter (or the local tokenizer).
 */

import type { Context } from "hono";
import { countCanonicalTokens } from "../core/count-tokens.ts";
import { runEmbeddingsCall } from "../core/embeddings-call.ts";
import type { ModelTarget } from "../core/resolve-model.ts";
import { runTranslatedChat } from "../core/translated-chat.ts";
import { invalidRequest, schemaIssueError } from "../errors/proxy-error.ts";
import { convertCompletionToGemini } from "../formats/gemini/convert-completion-to-gemini.ts";
import { convertGeminiEmbedToOpenAI, vectorsOfOpenAIEmbeddings } from "../formats/gemini/convert-gemini-embeddings.ts";
import { convertGeminiToChat, UntranslatableGeminiRequest } from "../formats/gemini/convert-gemini-to-chat.ts";
import type { GeminiEmbedRequest, GeminiGenerateRequest } from "../formats/gemini/types.ts";
import { checkBody } from "../formats/check-body.ts";
import { chatRequestSchema, embeddingsRequestSchema, type ChatRequest } from "../formats/openai-requests.ts";
import type { AppEnv } from "./app-env.ts";
import { geminiFailureText, toGeminiEventStream } from "./gemini-event-stream.ts";
import { googleErrorResponse } from "./gemini-errors.ts";
import { answerResponse, attemptHeaders, callFace } from "./proxied-call.ts";
import type { ProxyContext } from "./proxy-context.ts";
import { SSE_HEADERS } from "./proxied-request.ts";

/** `requested` is the model as the client named it: the proxy model, and the answer's `modelVersion`. */
export interface GeminiCall {
  target: ModelTarget;
  requested: string;
}

/** Gemini request → checked canonical request for the provider's family, or the 400 saying why not. */
function canonicalRequest(call: GeminiCall, body: GeminiGenerateRequest, stream: boolean): { ok: true; chat: ChatRequest } | { ok: false; response: Response } {
  let converted: Record<string, unknown>;
  try {
    converted = convertGeminiToChat(body, `${call.target.runtime.settings.name}/${call.target.model}`, stream);
  } catch (error) {
    if (error instanceof UntranslatableGeminiRequest) return { ok: false, response: googleErrorResponse(invalidRequest(error.message, error.param)) };
    throw error;
  }
  const checked = checkBody(chatRequestSchema, converted);
  if (!checked.success) return { ok: false, response: googleErrorResponse(schemaIssueError(checked.error.issues[0]!)) };
  return { ok: true, chat: checked.data };
}

export async function translatedGenerate(c: Context<AppEnv>, ctx: ProxyContext, call: GeminiCall, body: GeminiGenerateRequest, stream: boolean): Promise<Response> {
  const canonical = canonicalRequest(call, body, stream);
  if (!canonical.ok) return canonical.response;
  const result = await runTranslatedChat(call.target, canonical.chat, { ...callFace(c, ctx, call.target), failureText: geminiFailureText });
  if (!result.ok) return googleErrorResponse(result.error, attemptHeaders(result));
  const headers = attemptHeaders(result);
  if ("stream" in result) {
    const events = toGeminiEventStream(result.stream, { modelVersion: call.requested, responseId: crypto.randomUUID().replaceAll("-", "") });
    return new Response(events, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
  }
  const completion = result.completion;
  const answer = convertCompletionToGemini(completion, { modelVersion: call.requested, responseId: String(completion.id ?? crypto.randomUUID()) });
  return new Response(JSON.stringify(answer), { status: 200, headers: { "content-type": "application/json", ...headers } });
}

export async function translatedCountTokens(c: Context<AppEnv>, ctx: ProxyContext, call: GeminiCall, body: GeminiGenerateRequest): Promise<Response> {
  const canonical = canonicalRequest(call, body, false);
  if (!canonical.ok) return canonical.response;
  const counted = await countCanonicalTokens({ ...callFace(c, ctx, call.target), target: call.target, chat: canonical.chat });
  if (!counted.ok) return googleErrorResponse(counted.failure.error);
  return c.json({ totalTokens: counted.count }, 200, { "x-proxy-token-count": counted.exact ? "provider" : "estimate" });
}

/** `single`: answer as `:embedContent` does (one `embedding`), else as `:batchEmbedContents`. */
export async function translatedEmbed(c: Context<AppEnv>, ctx: ProxyContext, call: GeminiCall, requests: GeminiEmbedRequest[], single: boolean): Promise<Response> {
  const checked = checkBody(embeddingsRequestSchema, convertGeminiEmbedToOpenAI(requests, call.requested));
  if (!checked.success) return googleErrorResponse(invalidRequest(`requests: ${checked.error.issues[0]!.message}`));
  const answer = await runEmbeddingsCall(call.target, checked.data, callFace(c, ctx, call.target), (list) => {
    const vectors = vectorsOfOpenAIEmbeddings(JSON.parse(list));
    if (!vectors || vectors.length !== requests.length) return undefined;
    return JSON.stringify(single ? { embedding: { values: vectors[0] } } : { embeddings: vectors.map((values) => ({ values })) });
  });
  return answerResponse(answer, googleErrorResponse);
}
