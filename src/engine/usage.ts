/**
 * Usage accounting: every attempt adds one row delta per (usage day, provider, key id, model), with
 * tokens when the upstream reported them. Requests always equal successes plus failures. An attempt
 * the provider answered with a 404 request fault (an unknown model) adds nothing: model names are
 * the client's choice, and a row per invented name grew the database and `/v1/stats` without bound.
 */

import type { UsageDelta } from "../store/types.ts";
import type { Failure, TokenUsage } from "../outcome.ts";
import { usageDay } from "./daily-reset.ts";

export interface UsageSink {
  addUsage(delta: UsageDelta): void;
}

export interface AttemptUsage {
  provider: string;
  keyId: string;
  model: string;
  ok: boolean;
  /** Why a failed attempt failed, when known. */
  failure?: Pick<Failure, "class" | "status">;
  usage?: TokenUsage;
  now: number;
  resetMinuteUtc: number;
}

/** A failure that says the model does not exist at this provider, so it is no model to count. */
function isUnknownModel(failure: Pick<Failure, "class" | "status"> | undefined): boolean {
  return failure?.class === "request" && failure.status === 404;
}

export function recordAttemptUsage(sink: UsageSink, attempt: AttemptUsage): void {
  if (isUnknownModel(attempt.failure)) return;
  sink.addUsage({
    day: usageDay(attempt.now, attempt.resetMinuteUtc),
    provider: attempt.provider,
    keyId: attempt.keyId,
    model: attempt.model,
    requests: 1,
    successes: attempt.ok ? 1 : 0,
    failures: attempt.ok ? 0 : 1,
    promptTokens: attempt.usage?.promptTokens ?? 0,
    completionTokens: attempt.usage?.completionTokens ?? 0,
    cachedTokens: attempt.usage?.cachedTokens ?? 0,
    reasoningTokens: attempt.usage?.reasoningTokens ?? 0,
  });
}
