/**
 * A chat completion over a provider's keys, the recipe the chat route, the translated dialects
 * (Messages, Responses, Gemini) and the library all follow: a non-stream answer is read whole and
 * its lease settled with its usage; a stream is opened on the key whose first content arrived and
 * relayed as OpenAI events, its lease settled when it ends. What each face does with the answer
 * (a Response, a parsed object, a dialect's events) is its own.
 */

import type { Lease } from "../engine/key-pool.ts";
import { redactFailure, type AttemptTrace } from "../engine/rotate.ts";
import type { AttemptResult, Failure, Settlement, TokenUsage } from "../outcome.ts";
import type { ChatPlan } from "../providers/adapter.ts";
import { attemptJson, attemptStream, type AttemptTimeouts } from "../providers/attempts.ts";
import { openAIRelayDialect } from "../providers/openai/openai-relay-dialect.ts";
import { relayStream } from "../providers/relay-stream.ts";

type Served<T> = { ok: true; value: T; lease: Lease; trace: AttemptTrace[] };

/** A key call, with whatever its failures look like to the face (`F`). */
export interface ChatRunner<F extends { ok: false }> {
  run<T>(attempt: (lease: Lease, controller: AbortController) => Promise<AttemptResult<T>>): Promise<Served<T> | F>;
  succeed(lease: Lease, usage: TokenUsage | undefined): void;
  streamEnd(lease: Lease): (settlement: Settlement) => void;
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

/** What a face's call returns when no key answered (its own worded error, or the engine's facts). */
type FailureOf<C extends ChatRunner<{ ok: false }>> = Extract<Awaited<ReturnType<C["run"]>>, { ok: false }>;

export async function runChatCall<C extends ChatRunner<{ ok: false }>>(call: C, plan: ChatPlan, options: ChatCallOptions): Promise<ChatAnswer | FailureOf<C>> {
  const { timeouts } = options;
  if (!plan.stream) {
    const result = await call.run((lease, controller) => attemptJson([plan.request(lease.secret)], plan.decode, controller, timeouts));
    if (!result.ok) return result as FailureOf<C>;
    call.succeed(result.lease, result.value.usage);
    return { ok: true, kind: "json", status: result.value.status, text: result.value.text, trace: result.trace };
  }
  const result = await call.run((lease, controller) => attemptStream(plan.request(lease.secret), controller, timeouts, { translate: plan.translateStream }));
  if (!result.ok) return result as FailureOf<C>;
  const { lease } = result;
  const dialect = openAIRelayDialect({ stripUsageChunk: plan.stripUsageChunk && !options.keepUsageChunk });
  const body = relayStream({
    start: result.value,
    dialect: options.failureText ? { ...dialect, failureText: options.failureText } : dialect,
    idleTimeoutMs: options.streamIdleTimeoutMs,
    redact: (failure) => redactFailure(failure, lease),
    onEnd: call.streamEnd(lease),
  });
  return { ok: true, kind: "stream", body, trace: result.trace };
}
