/**
 * One proxied call, from the routes' point of view: run the engine over the provider's keys, finish
 * the lease when the answer (or stream) is over, and leave a record — trace, usage, key — that the
 * request log line, the metrics, the failure log and the detailed request log all read. Routes
 * differ only in the attempts they run and the format they answer in.
 */

import type { Context } from "hono";
import type { Lease } from "../engine/key-pool.ts";
import type { AttemptResult, Settlement } from "../outcome.ts";
import type { AttemptTrace } from "../engine/rotate.ts";
import { rotationFailureError } from "../errors/rotation-failure-error.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import type { TokenUsage } from "../outcome.ts";
import type { AppEnv, CallRecord } from "./app-env.ts";
import { trackStream } from "./open-streams.ts";
import type { ProxyContext } from "./proxy-context.ts";
import type { ProviderRuntime } from "./provider-runtime.ts";

/** A run as routes see it: the answer and its lease, or the error in words, ready for an envelope. */
export type CallResult<T> = { ok: true; value: T; lease: Lease; trace: AttemptTrace[] } | { ok: false; error: ProxyError; trace: AttemptTrace[] };

export interface ProxiedCall {
  run<T>(attempt: (lease: Lease, controller: AbortController) => Promise<AttemptResult<T>>): Promise<CallResult<T>>;
  /** A non-stream answer was delivered: settle the lease with its usage. */
  succeed(lease: Lease, usage: TokenUsage | undefined): void;
  /** The handler a stream relay calls once, when the stream is over. */
  streamEnd(lease: Lease): (settlement: Settlement) => void;
  /** `x-proxy-attempts` and the serving key, masked (ASCII: the ellipsis becomes three dots). */
  headers(result: CallResult<unknown>): Record<string, string>;
}

export function beginCall(c: Context<AppEnv>, ctx: ProxyContext, runtime: ProviderRuntime, model: string): ProxiedCall {
  const provider = runtime.settings.name;
  const record: CallRecord = { provider, model, attempts: 0, trace: [] };
  c.set("call", record);

  const noteUsage = (usage: TokenUsage | undefined): void => {
    if (!usage) return;
    record.usage = usage;
    ctx.metrics.observeTokens(provider, model, "prompt", usage.promptTokens);
    ctx.metrics.observeTokens(provider, model, "completion", usage.completionTokens);
    ctx.metrics.observeTokens(provider, model, "cached", usage.cachedTokens);
    ctx.metrics.observeTokens(provider, model, "reasoning", usage.reasoningTokens);
  };

  // The controller of the latest attempt: for a stream, the one feeding it.
  let lastController: AbortController | undefined;

  return {
    async run(attempt) {
      // Counted as they start: an attempt the client cancelled leaves no trace step, yet it was made.
      let started = 0;
      const result = await ctx.rotator.run({
        pool: runtime.pool,
        model,
        deadline: Date.now() + ctx.settings.globalTimeoutMs,
        signal: c.req.raw.signal,
        attempt: (lease, controller) => {
          started += 1;
          lastController = controller;
          return attempt(lease, controller);
        },
      });
      record.attempts = started;
      record.trace = result.trace;
      if (result.ok) record.keyMasked = result.lease.masked;
      result.trace.forEach((step, index) => {
        ctx.metrics.observeAttempt(provider, model, step.outcome);
        if (step.outcome !== "ok") {
          ctx.failureLog.record({
            requestId: c.get("requestId"),
            provider,
            model,
            keyId: step.keyId,
            keyMasked: step.masked,
            status: step.status,
            class: step.outcome,
            message: step.message ?? "",
            action: step.action,
            attempt: index + 1,
          });
        }
      });
      return result.ok ? result : { ok: false, error: rotationFailureError(result.failure), trace: result.trace };
    },
    succeed(lease, usage) {
      ctx.rotator.settle(runtime.pool, lease, { kind: "success", usage });
      noteUsage(usage);
    },
    streamEnd(lease) {
      let resolve: () => void = () => {};
      record.ended = new Promise<void>((done) => (resolve = done));
      const untrack = lastController ? trackStream(ctx, lastController) : () => {};
      return (settlement) => {
        untrack();
        const action = ctx.rotator.settle(runtime.pool, lease, settlement);
        if (settlement.kind === "success") noteUsage(settlement.usage);
        if (settlement.kind === "failure") {
          const { failure } = settlement;
          record.trace = [...record.trace, { keyId: lease.keyId, masked: lease.masked, outcome: failure.class, status: failure.status, durationMs: 0, message: failure.message, action }];
          ctx.metrics.observeAttempt(provider, model, `${failure.class}_after_commit`);
          ctx.failureLog.record({
            requestId: c.get("requestId"),
            provider,
            model,
            keyId: lease.keyId,
            keyMasked: lease.masked,
            status: failure.status,
            class: failure.class,
            message: failure.message,
            action,
            attempt: record.attempts,
          });
        }
        resolve();
      };
    },
    headers(result) {
      const headers: Record<string, string> = { "x-proxy-attempts": String(result.trace.length) };
      const last = result.trace.at(-1);
      if (last) headers["x-proxy-key"] = last.masked.replace("…", "...");
      return headers;
    },
  };
}
