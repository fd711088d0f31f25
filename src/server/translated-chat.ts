/**
 * The recipe every client dialect that is not the provider's own shares: a canonical chat request
 * is planned for the provider's family, run over its keys, and handed back as the OpenAI
 * completion (non-stream) or the relayed OpenAI SSE stream (stream), ready for the dialect to
 * convert.
 */

import type { Context } from "hono";
import { redactFailure } from "../engine/rotate.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import type { Failure } from "../outcome.ts";
import type { ChatRequest } from "../formats/openai-requests.ts";
import { UnsupportedRequestError } from "../providers/adapter.ts";
import { attemptJson, attemptStream } from "../providers/attempts.ts";
import { openAIRelayDialect } from "../providers/openai/openai-relay-dialect.ts";
import { relayStream } from "../providers/relay-stream.ts";
import type { AppEnv } from "./app-env.ts";
import { invalidRequest } from "../errors/proxy-error.ts";
import { beginCall } from "./proxied-call.ts";
import type { ProxyContext } from "./proxy-context.ts";
import type { ProviderRuntime } from "../core/provider-runtime.ts";
import { attemptTimeouts } from "./upstream-call.ts";

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
  const timeouts = attemptTimeouts(ctx);
  const call = beginCall(c, ctx, runtime, model);
  if (!plan.stream) {
    const chatPlan = plan;
    const result = await call.run((lease, controller) => attemptJson([chatPlan.request(lease.secret)], chatPlan.decode, controller, timeouts));
    if (!result.ok) return { ok: false, error: result.error, headers: call.headers(result) };
    call.succeed(result.lease, result.value.usage);
    return { ok: true, completion: JSON.parse(result.value.text), headers: call.headers(result) };
  }
  const streamPlan = plan;
  const result = await call.run((lease, controller) => attemptStream(streamPlan.request(lease.secret), controller, timeouts, { translate: streamPlan.translateStream }));
  if (!result.ok) return { ok: false, error: result.error, headers: call.headers(result) };
  const { lease } = result;
  const stream = relayStream({
    start: result.value,
    // The dialect's final event carries the usage, so the usage chunk is always kept.
    dialect: { ...openAIRelayDialect({ stripUsageChunk: false }), failureText },
    idleTimeoutMs: ctx.settings.streamIdleTimeoutMs,
    redact: (failure) => redactFailure(failure, lease),
    onEnd: call.streamEnd(lease),
  });
  return { ok: true, stream, headers: call.headers(result) };
}
