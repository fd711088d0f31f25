/**
 * One proxied call, from the routes' point of view: the core's key call (core/key-call.ts) bound to
 * the HTTP request — its signal, its record for the request log line and the detailed log — with
 * every attempt counted in the metrics and the failure log, the failure worded for the client, and
 * an open stream tracked for shutdown. Routes differ only in the attempts they run and the format
 * they answer in.
 */

import type { Context } from "hono";
import type { Lease } from "../engine/key-pool.ts";
import type { AttemptTrace } from "../engine/rotate.ts";
import { beginKeyCall } from "../core/key-call.ts";
import { rotationFailureError } from "../errors/rotation-failure-error.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import type { AttemptResult, FailureClass, Settlement, TokenUsage } from "../outcome.ts";
import type { AppEnv } from "./app-env.ts";
import { trackStream } from "./open-streams.ts";
import type { ProxyContext } from "./proxy-context.ts";
import type { ProviderRuntime } from "../core/provider-runtime.ts";
import type { CallFace, ChatAnswer } from "../core/chat-call.ts";
import type { ModelTarget } from "../core/resolve-model.ts";
import { errorResponse } from "./errors.ts";
import { attemptTimeouts, SSE_HEADERS } from "./proxied-request.ts";

/** A run as routes see it: the answer and its lease, or the error in words, ready for an envelope. */
export type CallResult<T> = { ok: true; value: T; lease: Lease; trace: AttemptTrace[] } | CallFailure;
export type CallFailure = { ok: false; error: ProxyError; trace: AttemptTrace[] };

export interface ProxiedCall {
  run<T>(attempt: (lease: Lease, controller: AbortController) => Promise<AttemptResult<T>>): Promise<CallResult<T>>;
  /** A non-stream answer was delivered: settle the lease with its usage. */
  succeed(lease: Lease, usage: TokenUsage | undefined): void;
  /** The handler a stream relay calls once, when the stream is over. */
  streamEnd(lease: Lease): (settlement: Settlement) => void;
}

export function beginCall(c: Context<AppEnv>, ctx: ProxyContext, runtime: ProviderRuntime, model: string, conversation?: string): ProxiedCall {
  const provider = runtime.settings.name;
  const failureLine = (step: AttemptTrace, outcome: FailureClass, attempt: number) => ({
    requestId: c.get("requestId"),
    provider,
    model,
    keyId: step.keyId,
    keyMasked: step.masked,
    status: step.status,
    class: outcome,
    message: step.message ?? "",
    action: step.action,
    attempt,
  });
  const step = c.get("routeStep");
  const call = beginKeyCall({
    rotator: ctx.rotator,
    pool: runtime.pool,
    provider,
    model,
    // A route's targets share one budget: the request's.
    deadline: step?.deadline ?? Date.now() + ctx.settings.globalTimeoutMs,
    routeStep: step,
    affinity: conversation !== undefined && ctx.affinity !== undefined ? { table: ctx.affinity, conversation } : undefined,
    signal: c.req.raw.signal,
    observer: {
      attempt(step, number, afterCommit) {
        ctx.metrics.observeAttempt(provider, model, afterCommit ? `${step.outcome}_after_commit` : step.outcome);
        if (step.outcome !== "ok") ctx.failureLog.record(failureLine(step, step.outcome, number));
      },
      usage(usage) {
        ctx.metrics.observeTokens(provider, model, "prompt", usage.promptTokens);
        ctx.metrics.observeTokens(provider, model, "completion", usage.completionTokens);
        ctx.metrics.observeTokens(provider, model, "cached", usage.cachedTokens);
        ctx.metrics.observeTokens(provider, model, "reasoning", usage.reasoningTokens);
      },
    },
  });
  c.set("call", call.record);

  return {
    async run(attempt) {
      const result = await call.run(attempt);
      return result.ok ? result : { ok: false, error: rotationFailureError(result.failure), trace: result.trace };
    },
    succeed: call.succeed,
    streamEnd(lease) {
      const settle = call.streamEnd(lease);
      const untrack = call.lastController ? trackStream(ctx, call.lastController) : () => {};
      return (settlement) => {
        untrack();
        settle(settlement);
      };
    },
  };
}

/** `x-proxy-attempts` and the serving key, masked (ASCII: the ellipsis becomes three dots). */
export function attemptHeaders(result: { trace: readonly AttemptTrace[] }): Record<string, string> {
  const headers: Record<string, string> = { "x-proxy-attempts": String(result.trace.length) };
  const last = result.trace.at(-1);
  if (last) headers["x-proxy-key"] = last.masked.replace("…", "...");
  return headers;
}

/** The core's dialect operations, run on proxied calls of this request. */
export function callFace(c: Context<AppEnv>, ctx: ProxyContext, target: ModelTarget): CallFace<ProxiedCall> {
  return {
    open: (conversation) => beginCall(c, ctx, target.runtime, target.model, ctx.affinity === undefined ? undefined : conversation?.()),
    get sessionId() {
      return c.req.header("x-session-id") || undefined;
    },
    reject: (error) => ({ ok: false, error, trace: [] }),
    isRequestFault: (failure) => failure.error.status === 400,
    timeouts: attemptTimeouts(ctx),
    streamIdleTimeoutMs: ctx.settings.streamIdleTimeoutMs,
  };
}

/**
 * The one way an answer leaves: JSON with its status, or the stream as server-sent events, with
 * the attempt headers; a failure in the envelope of the client's dialect.
 */
export function answerResponse(
  answer: ChatAnswer | CallFailure,
  envelope: (error: ProxyError, headers: Record<string, string>) => Response = errorResponse,
  extraHeaders: Record<string, string> = {},
): Response {
  const headers = { ...attemptHeaders(answer), ...extraHeaders };
  if (!answer.ok) return envelope(answer.error, headers);
  if (answer.kind === "json") return new Response(answer.text, { status: answer.status, headers: { "content-type": "application/json", ...headers } });
  return new Response(answer.body, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
}
