/**
 * The recipe every client dialect that is not the provider's own shares: a canonical chat request
 * is fitted to the provider, planned for its family, run over its keys, and handed back as the
 * OpenAI completion (non-stream) or the relayed OpenAI SSE stream (stream), ready for the dialect
 * to convert. A request the family cannot express is refused before any key is tried.
 */

import { chatConversationKey } from "./conversation-key.ts";
import type { ChatRequest } from "../formats/openai-requests.ts";
import type { Failure } from "../outcome.ts";
import type { AttemptTrace } from "../engine/rotate.ts";
import { canonicalForProvider } from "./canonical-for-provider.ts";
import { planOrReject, runChatCall, type CallFace, type ChatRunner, type FailureOf } from "./chat-call.ts";
import type { ModelTarget } from "./resolve-model.ts";

export type TranslatedChat =
  | { ok: true; completion: Record<string, unknown>; trace: AttemptTrace[] }
  | { ok: true; stream: ReadableStream<Uint8Array>; trace: AttemptTrace[] };

/**
 * `failureText` words the error event that ends a failed stream, OpenAI-framed (the dialect's
 * converter reads it) but in the dialect's own error shape.
 */
export async function runTranslatedChat<C extends ChatRunner<{ ok: false }>>(
  target: ModelTarget,
  chat: ChatRequest,
  face: CallFace<C> & { failureText: (failure: Failure) => string },
): Promise<TranslatedChat | FailureOf<C>> {
  const { runtime, model } = target;
  const planned = planOrReject(face, () => target.adapter.planChat(canonicalForProvider(chat, runtime), model));
  if (!planned.ok) return planned.failure;
  // The dialect's final event carries the usage, so the usage chunk is always kept.
  const answer = await runChatCall(face.open(() => chatConversationKey(chat, face.sessionId)), planned.plan, { ...face, keepUsageChunk: true });
  if (!answer.ok) return answer;
  if (answer.kind === "json") return { ok: true, completion: JSON.parse(answer.text) as Record<string, unknown>, trace: answer.trace };
  return { ok: true, stream: answer.body, trace: answer.trace };
}
