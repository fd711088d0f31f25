/**
 * Counting the prompt tokens of a canonical chat request, for the dialects' count routes
 * (`/v1/messages/count_tokens`, `/v1/responses/input_tokens`, Gemini's `:countTokens`) and the
 * library's `countTokens`: the
 * provider's own count through a rotated key where its family has one, else the local tokenizer
 * over the translated request (system and tools included). A provider 400 is the request's fault
 * and goes back as such; any other failure of the provider's count falls back to the estimate.
 */

import type { ChatRequest } from "../formats/openai-requests.ts";
import { attemptJson } from "../providers/attempts.ts";
import { countChatTokens } from "../tokens/count-tokens.ts";
import { canonicalForProvider } from "./canonical-for-provider.ts";
import type { CallFace, ChatRunner, FailureOf } from "./chat-call.ts";
import type { ModelTarget } from "./resolve-model.ts";

export interface CountTokensOptions<C extends ChatRunner<{ ok: false }>> extends Pick<CallFace<C>, "open" | "timeouts" | "isRequestFault"> {
  target: ModelTarget;
  chat: ChatRequest;
}

export type TokenCount<F> = { ok: true; count: number; exact: boolean } | { ok: false; failure: F };

export async function countCanonicalTokens<C extends ChatRunner<{ ok: false }>>(options: CountTokensOptions<C>): Promise<TokenCount<FailureOf<C>>> {
  const { target, chat } = options;
  const { runtime, model } = target;
  const plan = target.adapter.planCountTokens?.(canonicalForProvider(chat, runtime), model);
  if (plan) {
    const call = options.open();
    const result = await call.run((lease, controller) =>
      attemptJson(
        [plan.request(lease.credential)],
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
