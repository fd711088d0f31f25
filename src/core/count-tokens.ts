/**
 * Counting the prompt tokens of a canonical chat request, for the dialects' count routes
 * (`/v1/messages/count_tokens`, `/v1/responses/input_tokens`, Gemini's `:countTokens`) and the
 * library's `countTokens`: the
 * provider's own count through a rotated key where its family has one, else the local tokenizer
 * over the translated request (system and tools included). A provider 400 is the request's fault
 * and goes back as such; any other failure of the provider's count falls back to the estimate.
 */

import type { Lease } from "../engine/key-pool.ts";
import type { AttemptTrace } from "../engine/rotate.ts";
import type { ChatRequest } from "../formats/openai-requests.ts";
import type { AttemptResult, TokenUsage } from "../outcome.ts";
import { attemptJson, type AttemptTimeouts } from "../providers/attempts.ts";
import { countChatTokens } from "../tokens/count-tokens.ts";
import { canonicalForProvider } from "./canonical-for-provider.ts";
import type { ProviderRuntime } from "./provider-runtime.ts";

/** A key call, opened only when the provider can count (`F`: what its failures look like to the face). */
export interface CountRunner<F extends { ok: false }> {
  run<T>(attempt: (lease: Lease, controller: AbortController) => Promise<AttemptResult<T>>): Promise<{ ok: true; value: T; lease: Lease; trace: AttemptTrace[] } | F>;
  succeed(lease: Lease, usage: TokenUsage | undefined): void;
}

/** What the face's call returns when no key answered. */
type FailureOf<C extends CountRunner<{ ok: false }>> = Extract<Awaited<ReturnType<C["run"]>>, { ok: false }>;

export interface CountTokensOptions<C extends CountRunner<{ ok: false }>> {
  runtime: ProviderRuntime;
  model: string;
  chat: ChatRequest;
  timeouts: AttemptTimeouts;
  open(): C;
  /** The provider refused the request itself (a 400): that goes back, rather than an estimate. */
  isRequestFault(failure: FailureOf<C>): boolean;
}

export type TokenCount<F> = { ok: true; count: number; exact: boolean } | { ok: false; failure: F };

export async function countCanonicalTokens<C extends CountRunner<{ ok: false }>>(options: CountTokensOptions<C>): Promise<TokenCount<FailureOf<C>>> {
  const { runtime, model, chat } = options;
  const plan = runtime.adapter.planCountTokens?.(canonicalForProvider(chat, runtime), model, runtime.settings.baseUrl);
  if (plan) {
    const call = options.open();
    const result = await call.run((lease, controller) =>
      attemptJson(
        [plan.request(lease.secret)],
        ([reply]) => {
          const count = plan.read(reply!.body);
          return count === undefined ? { ok: false, failure: { class: "transient", status: 200, message: "the provider's token count answer had no count" } } : { ok: true, text: String(count) };
        },
        controller,
        options.timeouts,
      ),
    );
    if (result.ok) {
      call.succeed(result.lease, undefined);
      return { ok: true, count: Number(result.value.text), exact: true };
    }
    const failure = result as FailureOf<C>;
    if (options.isRequestFault(failure)) return { ok: false, failure };
  }
  return { ok: true, count: countChatTokens(chat.messages, model, chat.tools ?? undefined), exact: false };
}
