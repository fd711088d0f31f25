/**
 * The state kept in memory: the library's default (`state: { kind: "memory" }`). Same contract as
 * the SQLite store; it forgets everything when the process exits.
 */

import type { KeyStateRecord, LocalStore, UsageDelta, UsageQuery, UsageRow } from "./types.ts";
import { addCounters, matchesUsageQuery } from "./usage-rows.ts";


export function createMemoryStore(): LocalStore {
  const usage = new Map<string, UsageRow>();
  const keyState = new Map<string, KeyStateRecord>();
  const meta = new Map<string, string>();
  // NUL never occurs in a provider name, key id, model name or day, so the joined key is unambiguous.
  const stateKey = (provider: string, keyId: string, model: string): string => `${provider}\u0000${keyId}\u0000${model}`;

  return {
    addUsage(delta: UsageDelta) {
      const key = `${delta.day}\u0000${stateKey(delta.provider, delta.keyId, delta.model)}`;
      const row = usage.get(key);
      if (!row) usage.set(key, { ...delta });
      else addCounters(row, delta);
    },
    saveKeyState(record) {
      keyState.set(stateKey(record.provider, record.keyId, record.model), { ...record });
    },
    clearKeyState(provider, keyId, model) {
      keyState.delete(stateKey(provider, keyId, model));
    },
    clearAllKeyState(provider) {
      for (const [key, record] of keyState) if (provider === undefined || record.provider === provider) keyState.delete(key);
    },
    loadKeyState: () => [...keyState.values()].map((record) => ({ ...record })),
    usage(query: UsageQuery) {
      return [...usage.values()]
        .filter((row) => matchesUsageQuery(row, query))
        .map((row) => ({ ...row }));
    },
    getMeta: (name) => meta.get(name),
    setMeta: (name, value) => void meta.set(name, value),
    flush() {},
    close() {},
  };
}
