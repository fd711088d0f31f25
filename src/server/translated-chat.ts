/**
 * The recipe every client dialect that is not the provider's own shares: a canonical chat request
 * is planned for the provider's family, run over its keys, and handed back as the OpenAI
 * completion (non-stream) or the relayed OpenAI SSE stream (stream), ready for the dialect to
 * convert.
 */

import type { Context } from "hono";
import { runChatCall } from "../core/chat-call.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import type { Failure } from "../outcome.ts";
import type { ChatRequest } from "../formats/openai-requests.ts";
import { UnsupportedRequestError } from "../providers/adapter.ts";
import type { AppEnv } from "./app-env.ts";
import { invalidRequest } from "../errors/proxy-error.ts";
import { beginCall } from "./proxied-call.ts";
import type { ProxyContext } from "./proxy-context.ts";
import type { ProviderRuntime } from "../core/provider-runtime.ts";
import { attemptTimeouts } from "./proxied-request.ts";

export type TranslatedChat =
  | { ok: false; error: ProxyError; headers: Record<string, string> }
  | { ok: true; completion: Record<string, unknown>; headers: Record<string, string> }
  | { ok: true; stream: ReadableStream<Uint8Array>; headers: Record<string, string> };

/**
 * `failureText` words the error event that ends a failed stream, OpenAI-framed (the dialect's
 * converter reads it) but in the dialect's own error shape.
 */
export async function runTranslatedChat(
  c: Context<AppEnv>,
  ctx: ProxyContext,
  target: { runtime: ProviderRuntime; model: string },
  chat: ChatRequest,
  failureText: (failure: Failure) => string,
): Promise<TranslatedChat> {
  const { runtime, model } = target;
  let plan;
  try {
    plan = runtime.adapter.planChat(chat, model, runtime.settings.baseUrl);
  } catch (error) {
    if (error instanceof UnsupportedRequestError) return { ok: false, error: invalidRequest(error.message, error.param), headers: {} };
    throw error;
  }
  const call = beginCall(c, ctx, runtime, model);
  // The dialect's final event carries the usage, so the usage chunk is always kept.
  const answer = await runChatCall(call, plan, { timeouts: attemptTimeouts(ctx), streamIdleTimeoutMs: ctx.settings.streamIdleTimeoutMs, failureText, keepUsageChunk: true });
  if (!answer.ok) return { ok: false, error: answer.error, headers: call.headers(answer) };
  if (answer.kind === "json") return { ok: true, completion: JSON.parse(answer.text), headers: call.headers(answer) };
  return { ok: true, stream: answer.body, headers: call.headers(answer) };
}
