/**
 * Per-key usage totals in memory, fed by every delta this process adds to its state. The library
 * seeds one from the state for its synchronous `stats()` (with a local state that is the whole
 * story; with Redis, what was there at start plus this client's own use); the server keeps one
 * unseeded, for the "this instance" figures beside the cluster's totals in `/v1/stats`.
 */

import type { Store, UsageDelta, UsageRow } from "../store/types.ts";

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

/** `store`, with every usage delta also counted in `tally`. */
export function countingUsage(store: Store, tally: UsageTally): Store {
  return { ...store, addUsage: (delta) => (tally.add(delta), store.addUsage(delta)) };
}
