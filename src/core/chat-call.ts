/**
 * A planned call over a provider's keys, the recipe the chat route, every dialect (Messages,
 * Responses, Gemini) and the library all follow: a non-stream answer is read whole and its lease
 * settled with its usage; a stream is opened on the key whose first content arrived and relayed in
 * its dialect, its lease settled when it ends. `runChatCall` is that recipe for a family's chat
 * plan (relayed as OpenAI events); `runPassthroughCall` for a dialect the provider speaks itself.
 * What each face does with the answer (a Response, a parsed object, a dialect's events) is its own.
 */

import type { Lease } from "../engine/key-pool.ts";
import { redactFailure, type AttemptTrace } from "../engine/rotate.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import type { AttemptResult, Failure, Settlement, TokenUsage } from "../outcome.ts";
import { invalidRequest } from "../errors/proxy-error.ts";
import type { ChatRequest } from "../formats/openai-requests.ts";
import { UnsupportedRequestError, type ChatPlan, type PassthroughPlan, type RequestFor } from "../providers/adapter.ts";
import { attemptJson, attemptStream, type AttemptTimeouts, type DecodeAnswers, type StreamOptions } from "../providers/attempts.ts";
import { openAIRelayDialect } from "../providers/openai/openai-relay-dialect.ts";
import { relayStream, type RelayDialect } from "../providers/relay-stream.ts";
import { chatConversationKey } from "./conversation-key.ts";
import type { ModelTarget } from "./resolve-model.ts";

type Served<T> = { ok: true; value: T; lease: Lease; trace: AttemptTrace[] };

/** A key call, with whatever its failures look like to the face (`F`). */
export interface ChatRunner<F extends { ok: false }> {
  run<T>(attempt: (lease: Lease, controller: AbortController) => Promise<AttemptResult<T>>): Promise<Served<T> | F>;
  succeed(lease: Lease, usage: TokenUsage | undefined): void;
  streamEnd(lease: Lease): (settlement: Settlement) => void;
}

/** What a face's call returns when no key answered (its own worded error, or the engine's facts). */
export type FailureOf<C extends ChatRunner<{ ok: false }>> = Extract<Awaited<ReturnType<C["run"]>>, { ok: false }>;

/**
 * How a dialect operation reaches the face: `open` starts the key call once the request is planned
 * (a request refused before that opens none), `reject` words such a refusal the face's way.
 */
export interface CallFace<C extends ChatRunner<{ ok: false }>> {
  /**
   * `conversation` gives the request's conversation key (conversation-key.ts) for prompt-cache
   * affinity; a face calls it only when affinity is on, so the key costs nothing otherwise.
   */
  open(conversation?: () => string | undefined): C;
  /** The client's own conversation id (`x-session-id`), when it sent one. */
  sessionId?: string;
  reject(error: ProxyError): FailureOf<C>;
  /** The provider refused the request itself (its 400): no fallback hides that from the client. */
  isRequestFault(failure: FailureOf<C>): boolean;
  timeouts: AttemptTimeouts;
  streamIdleTimeoutMs: number;
}

/** Build a plan (or convert a request); one the family cannot express is refused the face's way. */
export function planOrReject<C extends ChatRunner<{ ok: false }>, T>(face: CallFace<C>, build: () => T): { ok: true; plan: T } | { ok: false; failure: FailureOf<C> } {
  try {
    return { ok: true, plan: build() };
  } catch (error) {
    if (error instanceof UnsupportedRequestError) return { ok: false, failure: face.reject(invalidRequest(error.message, error.param)) };
    throw error;
  }
}

export interface ChatCallOptions {
  timeouts: AttemptTimeouts;
  streamIdleTimeoutMs: number;
  /** A dialect that ends a failed stream with its own error shape (default OpenAI's). */
  failureText?: (failure: Failure) => string;
  /** Keep the usage-only chunk even when the client did not ask for it (a dialect reads its usage). */
  keepUsageChunk?: boolean;
}

export type ChatAnswer =
  | { ok: true; kind: "json"; status: number; text: string; trace: AttemptTrace[] }
  | { ok: true; kind: "stream"; body: ReadableStream<Uint8Array>; trace: AttemptTrace[] };

interface PlannedCall<D extends RelayDialect> {
  stream: boolean;
  request: RequestFor;
  decode: DecodeAnswers;
  streamOptions: StreamOptions;
  relayDialect(): D;
}

async function runPlanned<C extends ChatRunner<{ ok: false }>, D extends RelayDialect>(
  call: C,
  plan: PlannedCall<D>,
  options: { timeouts: AttemptTimeouts; streamIdleTimeoutMs: number; onStreamEnd?: (dialect: D) => void },
): Promise<ChatAnswer | FailureOf<C>> {
  const { timeouts } = options;
  if (!plan.stream) {
    const result = await call.run((lease, controller) => attemptJson([plan.request(lease.credential)], plan.decode, controller, timeouts));
    if (!result.ok) return result as FailureOf<C>;
    call.succeed(result.lease, result.value.usage);
    return { ok: true, kind: "json", status: result.value.status, text: result.value.text, trace: result.trace };
  }
  const result = await call.run((lease, controller) => attemptStream(plan.request(lease.credential), controller, timeouts, plan.streamOptions));
  if (!result.ok) return result as FailureOf<C>;
  const { lease } = result;
  const dialect = plan.relayDialect();
  const settle = call.streamEnd(lease);
  const body = relayStream({
    start: result.value,
    dialect,
    idleTimeoutMs: options.streamIdleTimeoutMs,
    redact: (failure) => redactFailure(failure, lease),
    onEnd: (settlement) => {
      settle(settlement);
      options.onStreamEnd?.(dialect);
    },
  });
  return { ok: true, kind: "stream", body, trace: result.trace };
}

/** A family's chat plan, relayed as OpenAI chat completion events. */
export function runChatCall<C extends ChatRunner<{ ok: false }>>(call: C, plan: ChatPlan, options: ChatCallOptions): Promise<ChatAnswer | FailureOf<C>> {
  const stripUsageChunk = plan.stripUsageChunk && !options.keepUsageChunk;
  return runPlanned(
    call,
    {
      ...plan,
      streamOptions: { translate: plan.translateStream, streamType: plan.streamType },
      relayDialect: () => {
        const dialect = openAIRelayDialect({ stripUsageChunk });
        return options.failureText ? { ...dialect, failureText: options.failureText } : dialect;
      },
    },
    options,
  );
}

/** A dialect the provider speaks itself: its answer and its events pass as they came. */
export function runPassthroughCall<C extends ChatRunner<{ ok: false }>, D extends RelayDialect>(
  call: C,
  plan: PassthroughPlan<D>,
  options: { timeouts: AttemptTimeouts; streamIdleTimeoutMs: number; onStreamEnd?: (dialect: D) => void },
): Promise<ChatAnswer | FailureOf<C>> {
  return runPlanned(call, { ...plan, streamOptions: { inspect: plan.inspect } }, options);
}

/** A client's chat request for the model's provider: planned for its family, then run. */
export async function runChat<C extends ChatRunner<{ ok: false }>>(target: ModelTarget, body: ChatRequest, face: CallFace<C>): Promise<ChatAnswer | FailureOf<C>> {
  const planned = planOrReject(face, () => target.adapter.planChat(body, target.model));
  if (!planned.ok) return planned.failure;
  return runChatCall(face.open(() => chatConversationKey(body, face.sessionId)), planned.plan, face);
}
