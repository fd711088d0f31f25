/**
 * One call over a provider's keys, the recipe every face follows: run the engine, count the
 * attempts as they start, keep the trace, settle the lease when the answer (or the stream) is
 * over, and tell an observer about each attempt and the usage — the server turns those into
 * metrics and the failure log, the library into `onAttempt` events. It knows nothing of HTTP.
 */

import type { KeyPool, Lease } from "../engine/key-pool.ts";
import { cannotServe, type AttemptTrace, type RotationResult, type Rotator } from "../engine/rotate.ts";
import type { RouteStep } from "./model-routes.ts";
import type { Affinity } from "../engine/affinity.ts";
import type { AttemptResult, Settlement, TokenUsage } from "../outcome.ts";

/** What one call did: the trace, usage and serving key that logs, metrics and events read. */
export interface CallRecord {
  provider: string;
  model: string;
  /** The route the request named, when the model was one (the provider and model are its serving target's). */
  route?: string;
  /** The route's targets tried before this one, which could not serve, with their attempts. */
  fellThrough?: { target: string; trace: AttemptTrace[] }[];
  attempts: number;
  trace: AttemptTrace[];
  keyMasked?: string;
  usage?: TokenUsage;
  /** Set for streams: resolves once the stream is over, however it ended. */
  ended?: Promise<void>;
}

export interface KeyCallObserver {
  /** An attempt that failed or answered; `afterCommit` for a stream that failed after its first byte. */
  attempt?(step: AttemptTrace, number: number, afterCommit: boolean): void;
  usage?(usage: TokenUsage): void;
}

export interface KeyCallOptions {
  rotator: Rotator;
  pool: KeyPool;
  provider: string;
  model: string;
  deadline: number;
  /** Set when this call serves a target of a route: it may not wait while another target follows, and it reports a provider that cannot serve. */
  routeStep?: RouteStep;
  /** Prompt-cache affinity: the conversation's last key is tried first, and whichever key serves is remembered. */
  affinity?: { table: Affinity; conversation: string };
  /** The caller leaving: ends the run, and a committed stream's upstream call (absent: it cannot leave). */
  signal?: AbortSignal;
  observer?: KeyCallObserver;
}

export interface KeyCall {
  readonly record: CallRecord;
  /** The controller of the latest attempt: for a stream, the one feeding it. */
  readonly lastController: AbortController | undefined;
  run<T>(attempt: (lease: Lease, controller: AbortController) => Promise<AttemptResult<T>>): Promise<RotationResult<T>>;
  /** A non-stream answer was delivered: settle the lease with its usage. */
  succeed(lease: Lease, usage: TokenUsage | undefined): void;
  /** The handler a stream relay calls once, when the stream is over. */
  streamEnd(lease: Lease): (settlement: Settlement) => void;
}

export function beginKeyCall(options: KeyCallOptions): KeyCall {
  const { rotator, pool, provider, model, observer, affinity } = options;
  const record: CallRecord = { provider, model, attempts: 0, trace: [] };
  let lastController: AbortController | undefined;

  const noteUsage = (usage: TokenUsage | undefined): void => {
    if (!usage) return;
    record.usage = usage;
    observer?.usage?.(usage);
  };

  return {
    record,
    get lastController() {
      return lastController;
    },
    async run(attempt) {
      // Counted as they start: an attempt the caller cancelled leaves no trace step, yet it was made.
      let started = 0;
      const result = await rotator.run({
        pool,
        model,
        deadline: options.deadline,
        fallbackFollows: options.routeStep?.fallbackFollows,
        preferKeyId: affinity?.table.get(provider, model, affinity.conversation),
        signal: options.signal,
        attempt: (lease, controller) => {
          started += 1;
          lastController = controller;
          return attempt(lease, controller);
        },
      });
      record.attempts = started;
      record.trace = result.trace;
      if (result.ok) {
        record.keyMasked = result.lease.masked;
        affinity?.table.set(provider, model, affinity.conversation, result.lease.keyId);
      }
      result.trace.forEach((step, index) => observer?.attempt?.(step, index + 1, false));
      if (!result.ok && options.routeStep !== undefined && cannotServe(result.failure)) options.routeStep.unavailable = true;
      return result;
    },
    succeed(lease, usage) {
      rotator.settle(pool, lease, { kind: "success", usage });
      noteUsage(usage);
    },
    streamEnd(lease) {
      let resolve: () => void = () => {};
      record.ended = new Promise<void>((done) => (resolve = done));
      return (settlement) => {
        const action = rotator.settle(pool, lease, settlement);
        if (settlement.kind === "success") noteUsage(settlement.usage);
        if (settlement.kind === "failure") {
          const { failure } = settlement;
          const step: AttemptTrace = { keyId: lease.keyId, masked: lease.masked, outcome: failure.class, status: failure.status, durationMs: 0, message: failure.message, action };
          record.trace = [...record.trace, step];
          observer?.attempt?.(step, record.attempts, true);
        }
        resolve();
      };
    },
  };
}
