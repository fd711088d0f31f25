/**
 * The Anthropic Messages API over any provider, for the server's `/v1/messages` and the library's
 * `messages()`: a provider whose family speaks it (Anthropic) gets the client's own body with the
 * model renamed, and its answer and events pass as they came; any other provider gets the request
 * translated to the canonical chat form, run over its keys, and the answer (a Message, or Messages
 * events) translated back. `countMessageTokens` is the same split for `count_tokens`.
 */

import { conversationKey } from "./conversation-key.ts";
import { schemaIssueError } from "../errors/proxy-error.ts";
import { convertCompletionToMessage, thinkingOmitted } from "../formats/anthropic/convert-completion-to-message.ts";
import { convertMessagesToOpenAI } from "../formats/anthropic/convert-messages-to-openai.ts";
import type { AnthropicRequest } from "../formats/anthropic/types.ts";
import { checkBody } from "../formats/check-body.ts";
import { chatRequestSchema, type ChatRequest } from "../formats/openai-requests.ts";
import { SSE_DONE, sseData } from "../formats/sse.ts";
import type { Failure } from "../outcome.ts";
import { anthropicErrorTypeOfFailure } from "../providers/anthropic/native-stream.ts";
import { countChatTokens } from "../tokens/count-tokens.ts";
import { toAnthropicEventStream } from "./anthropic-event-stream.ts";
import { runPassthroughCall, type CallFace, type ChatAnswer, type ChatRunner, type FailureOf } from "./chat-call.ts";
import { countCanonicalTokens } from "./count-tokens.ts";
import type { ModelTarget } from "./resolve-model.ts";
import { passthroughBody } from "./passthrough-body.ts";
import { runTranslatedChat } from "./translated-chat.ts";

/** What the client sent beside its body that a native Anthropic call forwards. */
export interface MessagesCallExtras {
  /** The `anthropic-beta` header. */
  beta?: string;
  /** `?beta=true`, the Anthropic SDK's mark of a beta call (Claude Code always sets it). */
  betaQuery?: boolean;
}

/** Anthropic request → canonical OpenAI request, checked like any client's chat request. */
function canonicalRequest(body: AnthropicRequest): { ok: true; chat: ChatRequest } | { ok: false; issue: Parameters<typeof schemaIssueError>[0] } {
  const checked = checkBody(chatRequestSchema, convertMessagesToOpenAI(body));
  return checked.success ? { ok: true, chat: checked.data } : { ok: false, issue: checked.error.issues[0]! };
}

/**
 * The error event that ends a failed translated stream: OpenAI-framed, as the event converter reads
 * it, but typed from the whole failure (class, code and status) the way the native stream types it.
 */
function anthropicFailureText(failure: Failure): string {
  return sseData(JSON.stringify({ error: { type: anthropicErrorTypeOfFailure(failure), message: failure.message } })) + SSE_DONE;
}

/** A Message (JSON text) or Messages events (SSE bytes), or the face's failure. */
export async function runMessagesCall<C extends ChatRunner<{ ok: false }>>(
  target: ModelTarget,
  body: AnthropicRequest,
  face: CallFace<C>,
  extras: MessagesCallExtras = {},
): Promise<ChatAnswer | FailureOf<C>> {
  const { model } = target;
  const native = target.adapter.planNativeMessages?.(model, { body: passthroughBody(body, model), stream: body.stream === true, ...extras });
  if (native) {
    const conversation = () => conversationKey(face.sessionId ?? body.metadata?.user_id, [body.tools, body.system, body.messages[0]]);
    return runPassthroughCall(face.open(conversation), native, face);
  }

  const canonical = canonicalRequest(body);
  if (!canonical.ok) return face.reject(schemaIssueError(canonical.issue));
  const result = await runTranslatedChat(target, canonical.chat, { ...face, failureText: anthropicFailureText });
  if (!result.ok) return result;
  const omitThinking = thinkingOmitted(body);
  if ("completion" in result) {
    const message = convertCompletionToMessage(result.completion, body.model, { omitThinking });
    return { ok: true, kind: "json", status: 200, text: JSON.stringify(message), trace: result.trace };
  }
  const estimate = countChatTokens(canonical.chat.messages, model, canonical.chat.tools ?? undefined);
  const events = toAnthropicEventStream(result.stream, { model: body.model, inputTokensEstimate: estimate, omitThinking });
  return { ok: true, kind: "stream", body: events, trace: result.trace };
}

/**
 * `count_tokens`: Anthropic's own count where the family has it (`text` is its answer as it came),
 * else the canonical count (the provider's, or the local estimate). A refusal of the request itself
 * goes back; any other failure of the native count falls back to the canonical one.
 */
export async function countMessageTokens<C extends ChatRunner<{ ok: false }>>(
  target: ModelTarget,
  body: AnthropicRequest,
  face: CallFace<C>,
  extras: MessagesCallExtras = {},
): Promise<{ ok: true; count: number; exact: boolean; text?: string } | FailureOf<C>> {
  const { model } = target;
  const { max_tokens: _maxTokens, stream: _stream, ...countable } = body;
  const native = target.adapter.planNativeMessageCount?.(model, { body: passthroughBody(countable, model), stream: false, ...extras });
  if (native) {
    const answer = await runPassthroughCall(face.open(), native, face);
    if (answer.ok && answer.kind === "json") {
      const count = (JSON.parse(answer.text) as { input_tokens?: unknown }).input_tokens;
      if (typeof count === "number") return { ok: true, count, exact: true, text: answer.text };
    }
    if (!answer.ok && face.isRequestFault(answer)) return answer;
  }
  const canonical = canonicalRequest({ ...body, max_tokens: body.max_tokens ?? 1 });
  if (!canonical.ok) return face.reject(schemaIssueError(canonical.issue));
  const counted = await countCanonicalTokens({ ...face, target, chat: canonical.chat });
  return counted.ok ? counted : counted.failure;
}
