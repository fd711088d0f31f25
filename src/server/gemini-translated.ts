/**
 * Gemini-native requests for every provider that is not Gemini: the request is translated to the
 * canonical OpenAI form, run over the provider's keys like any chat request, and the answer — JSON
 * or stream — translated back into Gemini's shapes. Embeddings go through the provider's embeddings
 * and token counts through its own counter (or the local tokenizer).
 */

import type { Context } from "hono";
import { chatRequestSchema, embeddingsRequestSchema, type ChatRequest } from "../formats/openai-requests.ts";
import { convertCompletionToGemini } from "../formats/gemini/convert-completion-to-gemini.ts";
import { convertGeminiEmbedToOpenAI, vectorsOfOpenAIEmbeddings } from "../formats/gemini/convert-gemini-embeddings.ts";
import { convertGeminiToChat, UntranslatableGeminiRequest } from "../formats/gemini/convert-gemini-to-chat.ts";
import type { GeminiEmbedRequest, GeminiGenerateRequest } from "../formats/gemini/types.ts";
import { networkFailure } from "../providers/classify-failure.ts";
import { UnsupportedRequestError } from "../providers/adapter.ts";
import { attemptJson } from "../providers/attempts.ts";
import type { AppEnv } from "./app-env.ts";
import { invalidRequest } from "../errors/proxy-error.ts";
import { toGeminiEventStream, geminiFailureText } from "./gemini-event-stream.ts";
import { googleErrorResponse } from "./gemini-errors.ts";
import { beginCall } from "./proxied-call.ts";
import type { ProxyContext } from "./proxy-context.ts";
import type { ModelTarget } from "../core/resolve-model.ts";
import { canonicalForProvider } from "../core/canonical-for-provider.ts";
import { countRequestTokens } from "./count-request-tokens.ts";
import { runTranslatedChat } from "./translated-chat.ts";
import { attemptTimeouts, SSE_HEADERS } from "./proxied-request.ts";

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
  const checked = chatRequestSchema.safeParse(converted);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    return { ok: false, response: googleErrorResponse(invalidRequest(`${issue.path.join(".")}: ${issue.message}`)) };
  }
  return { ok: true, chat: checked.data };
}

export async function translatedGenerate(c: Context<AppEnv>, ctx: ProxyContext, call: GeminiCall, body: GeminiGenerateRequest, stream: boolean): Promise<Response> {
  const canonical = canonicalRequest(call, body, stream);
  if (!canonical.ok) return canonical.response;
  const result = await runTranslatedChat(c, ctx, call.target, canonicalForProvider(canonical.chat, call.target.runtime), geminiFailureText);
  if (!result.ok) return googleErrorResponse(result.error, result.headers);
  if ("stream" in result) {
    const events = toGeminiEventStream(result.stream, { modelVersion: call.requested, responseId: crypto.randomUUID().replaceAll("-", "") });
    return new Response(events, { status: 200, headers: { ...SSE_HEADERS, ...result.headers } });
  }
  const completion = result.completion;
  const answer = convertCompletionToGemini(completion, { modelVersion: call.requested, responseId: String(completion.id ?? crypto.randomUUID()) });
  return new Response(JSON.stringify(answer), { status: 200, headers: { "content-type": "application/json", ...result.headers } });
}

export async function translatedCountTokens(c: Context<AppEnv>, ctx: ProxyContext, call: GeminiCall, body: GeminiGenerateRequest): Promise<Response> {
  const canonical = canonicalRequest(call, body, false);
  if (!canonical.ok) return canonical.response;
  const counted = await countRequestTokens(c, ctx, call.target.runtime, call.target.model, canonical.chat);
  if (!counted.ok) return googleErrorResponse(counted.error);
  return c.json({ totalTokens: counted.count }, 200, { "x-proxy-token-count": counted.exact ? "provider" : "estimate" });
}

/** `single`: answer as `:embedContent` does (one `embedding`), else as `:batchEmbedContents`. */
export async function translatedEmbed(c: Context<AppEnv>, ctx: ProxyContext, call: GeminiCall, requests: GeminiEmbedRequest[], single: boolean): Promise<Response> {
  const { runtime, model } = call.target;
  const checked = embeddingsRequestSchema.safeParse(convertGeminiEmbedToOpenAI(requests, call.requested));
  if (!checked.success) return googleErrorResponse(invalidRequest(`requests: ${checked.error.issues[0]!.message}`));
  let plan;
  try {
    plan = runtime.adapter.planEmbeddings(checked.data, model, runtime.settings.baseUrl);
  } catch (error) {
    if (error instanceof UnsupportedRequestError) return googleErrorResponse(invalidRequest(error.message, error.param));
    throw error;
  }
  const proxied = beginCall(c, ctx, runtime, model);
  const embedPlan = plan;
  const result = await proxied.run((lease, controller) =>
    attemptJson(
      embedPlan.requests(lease.secret),
      (answers, headers) => {
        const decoded = embedPlan.decode(answers, headers);
        if (!decoded.ok) return decoded;
        const vectors = vectorsOfOpenAIEmbeddings(JSON.parse(decoded.text));
        if (!vectors || vectors.length !== requests.length) return { ok: false, failure: { ...networkFailure("the provider answered embeddings without the expected vectors"), status: 200 } };
        const text = JSON.stringify(single ? { embedding: { values: vectors[0] } } : { embeddings: vectors.map((values) => ({ values })) });
        return { ok: true, text, usage: decoded.usage };
      },
      controller,
      attemptTimeouts(ctx),
    ),
  );
  if (!result.ok) return googleErrorResponse(result.error, proxied.headers(result));
  proxied.succeed(result.lease, result.value.usage);
  return new Response(result.value.text, { status: 200, headers: { "content-type": "application/json", ...proxied.headers(result) } });
}
