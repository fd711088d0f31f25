/**
 * What every store does with usage rows: the counters a row holds, adding a delta to a row, and
 * whether a row matches a query. One place, so the SQLite, memory and Redis stores count alike.
 */

import type { UsageDelta, UsageQuery } from "./types.ts";

export const USAGE_COUNTERS = ["requests", "successes", "failures", "promptTokens", "completionTokens", "cachedTokens", "reasoningTokens"] as const satisfies readonly (keyof UsageDelta)[];

export type UsageCounter = (typeof USAGE_COUNTERS)[number];

// Sums saturate at 2^53 - 1: past it a counter would stop being an exact integer, and the next
// delta for the row would then fail validation for good.
export function addCounters(target: UsageDelta, delta: UsageDelta): void {
  for (const field of USAGE_COUNTERS) target[field] = Math.min(target[field] + delta[field], Number.MAX_SAFE_INTEGER);
}

export function matchesUsageQuery(row: Pick<UsageDelta, "day" | "provider" | "keyId">, query: UsageQuery): boolean {
  return (query.day === undefined || query.day === row.day) && (query.provider === undefined || query.provider === row.provider) && (query.keyId === undefined || query.keyId === row.keyId);
}
