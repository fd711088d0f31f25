/**
 * The OpenAI Responses API over any provider, for the server's `/v1/responses` and the library's
 * `responses()`. A provider that serves `/responses` itself (`openai`, or `<P>_RESPONSES=native`)
 * gets the client's body with the model renamed; every other one gets the request translated to the
 * canonical chat form, run over its keys like any chat request, and the answer translated back.
 * Either way `previous_response_id` is rebuilt from the response store, so a conversation continues
 * whichever key (or provider) serves the next turn, and a response with `store` not false is kept
 * for the next turn (and for the server's `GET`).
 */

import { conversationKey } from "./conversation-key.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import { isRecord } from "../formats/is-record.ts";
import { createResponseEventWriter } from "../formats/responses/chunks-to-response-events.ts";
import { convertCompletionToResponse, visibleResponse, type ResponseContext } from "../formats/responses/convert-completion-to-response.ts";
import { convertResponsesToChat } from "../formats/responses/convert-responses-to-chat.ts";
import { itemId } from "../formats/responses/item-id.ts";
import { decodeReasoningCarrier } from "../formats/responses/reasoning-carrier.ts";
import type { ResponseInputItem, ResponsesRequest } from "../formats/responses/types.ts";
import type { ResponseStore } from "../store/response-store.ts";
import { planOrReject, runPassthroughCall, type CallFace, type ChatAnswer, type ChatRunner, type FailureOf } from "./chat-call.ts";
import { countCanonicalTokens } from "./count-tokens.ts";
import { passthroughBody } from "./passthrough-body.ts";
import type { ModelTarget } from "./resolve-model.ts";
import { historyBefore, inputItemsOf, wantsStore } from "./responses-conversation.ts";
import { responsesFailureText, toResponsesEventStream } from "./responses-event-stream.ts";
import { runTranslatedChat } from "./translated-chat.ts";

export interface ResponsesConversation {
  store: ResponseStore;
  /** A response that could not be kept: the answer is the client's either way; only the next turn's history is lost. */
  onStoreError(id: string, error: unknown): void;
}

/** One request's facts, as every step of serving it needs them. */
export interface Turn {
  target: ModelTarget;
  request: ResponsesRequest;
  conversation: ResponsesConversation;
  /** The input as items with ids; filled only when the turn is stored or its history rebuilt. */
  inputItems: Record<string, unknown>[];
  history: ResponseInputItem[];
  /** The history came from the store (rather than being left for a native host to find). */
  expanded: boolean;
}

/** The answer, and the tools a translated turn had to leave out (the provider has no such tool). */
export type ResponsesAnswer = ChatAnswer & { droppedTools: string[] };

function servedNatively(target: ModelTarget): boolean {
  return target.runtime.settings.responsesApi === "native" && target.adapter.planNativeResponses !== undefined;
}

/** The request with its history: an unknown `previous_response_id` is a 404 unless a native host may know it. */
export async function openTurn(target: ModelTarget, request: ResponsesRequest, conversation: ResponsesConversation): Promise<{ ok: true; turn: Turn } | { ok: false; error: ProxyError }> {
  const history = await historyBefore(conversation.store, request.previous_response_id, servedNatively(target));
  if (!history.ok) return history;
  // Items get ids only to be listed later or sent on with a rebuilt history; a stateless turn needs neither.
  const inputItems = wantsStore(request) || history.found ? inputItemsOf(request) : [];
  return { ok: true, turn: { target, request, conversation, inputItems, history: history.items, expanded: history.found } };
}

/** Keep a finished response (and the input it answered) for the next turn. */
async function remember(turn: Turn, response: unknown): Promise<void> {
  if (!isRecord(response) || !wantsStore(turn.request) || typeof response.id !== "string") return;
  if (response.status === "failed") return;
  try {
    await turn.conversation.store.put({
      id: response.id,
      createdAt: Date.now(),
      previousId: turn.request.previous_response_id ?? null,
      response,
      inputItems: turn.inputItems,
    });
  } catch (error) {
    turn.conversation.onStoreError(response.id, error);
  }
}

/** A response object (JSON text, as the client sees it) or Responses events (SSE bytes), or the face's failure. */
export async function runResponsesCall<C extends ChatRunner<{ ok: false }>>(turn: Turn, face: CallFace<C>): Promise<ResponsesAnswer | FailureOf<C>> {
  return servedNatively(turn.target) ? nativeResponse(turn, face) : translatedResponse(turn, face);
}

/** `input_tokens`: the prompt tokens of the turn, history included. */
export async function countResponseTokens<C extends ChatRunner<{ ok: false }>>(turn: Turn, face: CallFace<C>): Promise<{ ok: true; count: number; exact: boolean } | FailureOf<C>> {
  const chat = planOrReject(face, () => convertResponsesToChat(turn.request, turn.history));
  if (!chat.ok) return chat.failure;
  const counted = await countCanonicalTokens({ ...face, target: turn.target, chat: chat.plan.chat });
  return counted.ok ? counted : counted.failure;
}

// ---------------------------------------------------------------------------------------------
// Native pass-through
// ---------------------------------------------------------------------------------------------

/**
 * The client's body for a host with its own `/responses`. A history the store holds is sent in
 * full, since the response it names may live in another key's account; reasoning items the host
 * would have to look up by id (no encrypted content) cannot travel that way and are left out.
 * Reasoning this proxy carried for another provider (a conversation that changed models) means
 * nothing to the host, which would refuse content it cannot decrypt: left out too.
 */
function nativeBody(turn: Turn): string {
  const upstream: Record<string, unknown> = { ...turn.request };
  if (turn.expanded) {
    const history = turn.history.filter((item) => hostCanRead(item) && (item.type !== "reasoning" || (isRecord(item) && typeof item.encrypted_content === "string"))).map(withoutId);
    upstream.input = [...history, ...turn.inputItems.filter(hostCanRead).map(withoutId)];
    delete upstream.previous_response_id;
  } else if (Array.isArray(turn.request.input) && !turn.request.input.every(hostCanRead)) {
    upstream.input = turn.request.input.filter(hostCanRead);
  }
  return passthroughBody(upstream, turn.target.model);
}

function hostCanRead(item: unknown): boolean {
  if (!isRecord(item) || item.type !== "reasoning" || typeof item.encrypted_content !== "string") return true;
  return decodeReasoningCarrier(item.encrypted_content) === undefined;
}

/** Ids of items the host never stored would be looked up there and refused. */
function withoutId(item: unknown): unknown {
  if (!isRecord(item) || item.id === undefined) return item;
  const { id: _id, ...rest } = item;
  return rest;
}

async function nativeResponse<C extends ChatRunner<{ ok: false }>>(turn: Turn, face: CallFace<C>): Promise<ResponsesAnswer | FailureOf<C>> {
  const plan = turn.target.adapter.planNativeResponses!({ body: nativeBody(turn), stream: turn.request.stream === true });
  const conversation = () => {
    const { request } = turn;
    // A conversation chained by previous_response_id has the first response of the chain in common.
    const firstInput = typeof request.input === "string" ? request.input : Array.isArray(request.input) ? request.input[0] : undefined;
    return conversationKey(face.sessionId ?? (request as { prompt_cache_key?: unknown }).prompt_cache_key, [request.tools, request.instructions, turn.history[0] ?? firstInput]);
  };
  const answer = await runPassthroughCall(face.open(conversation), plan, { ...face, onStreamEnd: (dialect) => void remember(turn, dialect.finalResponse()) });
  if (!answer.ok) return answer;
  // Parsed only to be kept: the client gets the host's bytes as they came.
  if (answer.kind === "json" && wantsStore(turn.request)) await remember(turn, JSON.parse(answer.text));
  return { ...answer, droppedTools: [] };
}

// ---------------------------------------------------------------------------------------------
// Translation through the canonical chat form
// ---------------------------------------------------------------------------------------------

async function translatedResponse<C extends ChatRunner<{ ok: false }>>(turn: Turn, face: CallFace<C>): Promise<ResponsesAnswer | FailureOf<C>> {
  const { request } = turn;
  const chat = planOrReject(face, () => convertResponsesToChat(turn.request, turn.history));
  if (!chat.ok) return chat.failure;
  const { droppedTools, tools } = chat.plan;
  const context: ResponseContext = {
    id: itemId("resp"),
    createdAt: Math.floor(Date.now() / 1000),
    model: request.model,
    request,
    tools,
    includeEncrypted: (request.include ?? []).includes("reasoning.encrypted_content"),
  };
  const dropped = [...new Set(droppedTools)];
  const result = await runTranslatedChat(turn.target, chat.plan.chat, { ...face, failureText: responsesFailureText });
  if (!result.ok) return result;
  if ("completion" in result) {
    const response = convertCompletionToResponse(result.completion, context);
    await remember(turn, response);
    const text = JSON.stringify(visibleResponse(response, context.includeEncrypted));
    return { ok: true, kind: "json", status: 200, text, trace: result.trace, droppedTools: dropped };
  }
  const writer = createResponseEventWriter(context);
  const events = toResponsesEventStream(result.stream, writer, () => void remember(turn, writer.storedResponse()));
  return { ok: true, kind: "stream", body: events, trace: result.trace, droppedTools: dropped };
}
