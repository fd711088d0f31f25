/**
 * Counting the prompt tokens of a canonical chat request, for the dialects' count routes
 * (`/v1/messages/count_tokens`, `/v1/responses/input_tokens`, Gemini's `:countTokens`): the
 * provider's own count through a rotated key where its family has one, else the local tokenizer
 * over the translated request (system and tools included). A provider 400 is the request's fault
 * and goes back as such; any other failure of the provider's count falls back to the estimate.
 */

import type { Context } from "hono";
import type { ProxyError } from "../errors/proxy-error.ts";
import type { ChatRequest } from "../formats/openai-requests.ts";
import { attemptJson } from "../providers/attempts.ts";
import { countChatTokens } from "../tokens/count-tokens.ts";
import type { AppEnv } from "./app-env.ts";
import { canonicalForProvider } from "./canonical-for-provider.ts";
import { beginCall } from "./proxied-call.ts";
import type { ProxyContext } from "./proxy-context.ts";
import type { ProviderRuntime } from "../core/provider-runtime.ts";
import { attemptTimeouts } from "./upstream-call.ts";

export type TokenCount = { ok: true; count: number; exact: boolean } | { ok: false; error: ProxyError };

export async function countCanonicalTokens(c: Context<AppEnv>, ctx: ProxyContext, runtime: ProviderRuntime, model: string, chat: ChatRequest): Promise<TokenCount> {
  const plan = runtime.adapter.planCountTokens?.(canonicalForProvider(chat, runtime), model, runtime.settings.baseUrl);
  if (plan) {
    const call = beginCall(c, ctx, runtime, model);
    const result = await call.run((lease, controller) =>
      attemptJson(
        [plan.request(lease.secret)],
        ([reply]) => {
          const count = plan.read(reply!.body);
          return count === undefined ? { ok: false, failure: { class: "transient", status: 200, message: "the provider's token count answer had no count" } } : { ok: true, text: String(count) };
        },
        controller,
        attemptTimeouts(ctx),
      ),
    );
    if (result.ok) {
      call.succeed(result.lease, undefined);
      return { ok: true, count: Number(result.value.text), exact: true };
    }
    if (result.error.status === 400) return { ok: false, error: result.error };
  }
  return { ok: true, count: countChatTokens(chat.messages, model, chat.tools ?? undefined), exact: false };
}
