/**
 * The dialects' count routes (`/v1/messages/count_tokens`, `/v1/responses/input_tokens`,
 * Gemini's `:countTokens`) on the core's count: a proxied call opened only when the provider can
 * count, and its 400 handed back worded.
 */

import type { Context } from "hono";
import { countCanonicalTokens } from "../core/count-tokens.ts";
import type { ProviderRuntime } from "../core/provider-runtime.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import type { ChatRequest } from "../formats/openai-requests.ts";
import type { AppEnv } from "./app-env.ts";
import { beginCall } from "./proxied-call.ts";
import type { ProxyContext } from "./proxy-context.ts";
import { attemptTimeouts } from "./proxied-request.ts";

export type RequestTokenCount = { ok: true; count: number; exact: boolean } | { ok: false; error: ProxyError };

export async function countRequestTokens(c: Context<AppEnv>, ctx: ProxyContext, runtime: ProviderRuntime, model: string, chat: ChatRequest): Promise<RequestTokenCount> {
  const counted = await countCanonicalTokens({
    runtime,
    model,
    chat,
    timeouts: attemptTimeouts(ctx),
    open: () => beginCall(c, ctx, runtime, model),
    isRequestFault: (failure) => failure.error.status === 400,
  });
  return counted.ok ? counted : { ok: false, error: counted.failure.error };
}
