/**
 * Usage accounting: every attempt adds one row delta per (usage day, provider, key id, model), with
 * tokens when the upstream reported them. Requests always equal successes plus failures.
 */

import type { UsageDelta } from "../store/types.ts";
import { usageDay } from "./daily-reset.ts";

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
}

export interface UsageSink {
  addUsage(delta: UsageDelta): void;
}

export interface AttemptUsage {
  provider: string;
  keyId: string;
  model: string;
  ok: boolean;
  usage?: TokenUsage;
  now: number;
  resetMinuteUtc: number;
}

export function recordAttemptUsage(sink: UsageSink, attempt: AttemptUsage): void {
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
