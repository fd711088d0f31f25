/**
 * Per-key usage totals in memory, for the library's synchronous `stats()`: seeded once from the
 * state (all days, all models) and then counting every delta this client adds. With a local state
 * that is the whole story; with Redis it is what was there at start plus this client's own use
 * (the proxy's /v1/stats shows the cluster's running totals).
 */

import type { UsageDelta, UsageRow } from "../store/types.ts";

export type KeyUsage = { requests: number; successes: number; failures: number; promptTokens: number; completionTokens: number };

const FIELDS = ["requests", "successes", "failures", "promptTokens", "completionTokens"] as const;

export interface UsageTally {
  add(delta: UsageDelta | UsageRow): void;
  of(provider: string, keyId: string): KeyUsage;
}

export function createUsageTally(): UsageTally {
  const totals = new Map<string, KeyUsage>();
  return {
    add(delta) {
      const id = `${delta.provider}\u0000${delta.keyId}`;
      const usage = totals.get(id) ?? { requests: 0, successes: 0, failures: 0, promptTokens: 0, completionTokens: 0 };
      for (const field of FIELDS) usage[field] += delta[field];
      totals.set(id, usage);
    },
    of(provider, keyId) {
      return { ...(totals.get(`${provider}\u0000${keyId}`) ?? { requests: 0, successes: 0, failures: 0, promptTokens: 0, completionTokens: 0 }) };
    },
  };
}
