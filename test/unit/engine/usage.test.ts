/** Which attempts add a usage row. */

import { expect, test } from "bun:test";
import type { UsageDelta } from "../../../src/store/types.ts";
import { recordAttemptUsage, type AttemptUsage } from "../../../src/engine/usage.ts";

const base: AttemptUsage = { provider: "openai", keyId: "k1", model: "gpt-4o", ok: false, now: Date.UTC(2026, 11, 1, 12), resetMinuteUtc: 0 };

function rows(attempt: AttemptUsage): UsageDelta[] {
  const added: UsageDelta[] = [];
  recordAttemptUsage({ addUsage: (delta) => added.push(delta) }, attempt);
  return added;
}

test("a 404 request fault (a model the provider does not have) adds no row", () => {
  expect(rows({ ...base, model: "invented", failure: { class: "request", status: 404 } })).toEqual([]);
});

test("other failures and successes each add one row", () => {
  expect(rows({ ...base, failure: { class: "request", status: 400 } })).toMatchObject([{ model: "gpt-4o", requests: 1, failures: 1, successes: 0 }]);
  expect(rows({ ...base, failure: { class: "rate_limit", status: 429 } })).toMatchObject([{ requests: 1, failures: 1 }]);
  expect(rows({ ...base, ok: true, usage: { promptTokens: 3, completionTokens: 2, cachedTokens: 0, reasoningTokens: 0 } })).toMatchObject([
    { day: "2026-12-01", requests: 1, successes: 1, failures: 0, promptTokens: 3, completionTokens: 2 },
  ]);
});
