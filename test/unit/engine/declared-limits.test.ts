/**
 * The declared-limit ledger on its own, with a hand-moved clock: sliding minute windows that free
 * a key when its oldest requests leave, day windows that end at the daily reset, token windows
 * that reserve what recent answers used and settle to the real count, provider-wide windows.
 */

import { describe, expect, test } from "bun:test";
import { createLimitLedger, type ModelLimits } from "../../../src/engine/declared-limits.ts";

const DAY_END = Date.UTC(2026, 11, 3, 3, 0, 0);
const START = Date.UTC(2026, 11, 2, 12, 0, 0);

function ledgerWith(limits: ModelLimits | undefined) {
  return createLimitLedger({ provider: "gemini", limitsFor: () => limits, keyIdOf: (slot) => `key${slot}`, nextReset: (now) => (now < DAY_END ? DAY_END : DAY_END + 86_400_000), keyCount: 8 });
}

describe("requests per minute", () => {
  test("a key at its limit is held until its oldest request leaves the minute, then admitted again", () => {
    const ledger = ledgerWith({ perKey: { requestsPerMinute: 3 }, source: "RATE_LIMIT_GEMINI" });
    ledger.charge(0, "m", START);
    ledger.charge(0, "m", START + 10_000);
    ledger.charge(0, "m", START + 20_000);
    const hold = ledger.keyHold(0, "m", START + 30_000);
    expect(hold).toEqual({ until: START + 60_000, limit: "3 requests per minute per key (RATE_LIMIT_GEMINI)" });
    expect(ledger.keyHold(0, "m", START + 59_999)).toBeDefined();
    expect(ledger.keyHold(0, "m", START + 60_000)).toBeUndefined();
    // The other keys count on their own.
    expect(ledger.keyHold(1, "m", START + 30_000)).toBeUndefined();
    // And every model on its own.
    expect(ledger.keyHold(0, "other", START + 30_000)).toBeUndefined();
  });

  test("the window slides: after a long pause everything is forgotten", () => {
    const ledger = ledgerWith({ perKey: { requestsPerMinute: 2 }, source: "R" });
    ledger.charge(0, "m", START);
    ledger.charge(0, "m", START + 500);
    expect(ledger.keyHold(0, "m", START + 1_000)?.until).toBe(START + 60_000);
    expect(ledger.keyHold(0, "m", START + 3_600_000)).toBeUndefined();
    ledger.charge(0, "m", START + 3_600_000);
    expect(ledger.keyHold(0, "m", START + 3_600_001)).toBeUndefined();
  });

  test("a refund takes a request back (it was never sent)", () => {
    const ledger = ledgerWith({ perKey: { requestsPerMinute: 1 }, source: "R" });
    const charge = ledger.charge(0, "m", START);
    expect(ledger.keyHold(0, "m", START + 1)).toBeDefined();
    ledger.refund(charge);
    expect(ledger.keyHold(0, "m", START + 1)).toBeUndefined();
  });
});

describe("requests per day", () => {
  test("a key that used its day is held until the daily reset, then starts a new day", () => {
    const ledger = ledgerWith({ perKey: { requestsPerDay: 2 }, source: "RATE_LIMIT_GEMINI" });
    ledger.charge(0, "m", START);
    ledger.charge(0, "m", START + 3_600_000);
    expect(ledger.keyHold(0, "m", START + 7_200_000)).toEqual({ until: DAY_END, limit: "2 requests per day per key (RATE_LIMIT_GEMINI)" });
    expect(ledger.keyHold(0, "m", DAY_END)).toBeUndefined();
  });

  test("with both, the hold lasts until every limit has room", () => {
    const ledger = ledgerWith({ perKey: { requestsPerMinute: 1, requestsPerDay: 1 }, source: "R" });
    ledger.charge(0, "m", START);
    expect(ledger.keyHold(0, "m", START + 1)?.until).toBe(DAY_END);
  });
});

describe("tokens per minute", () => {
  test("a request reserves what recent answers used; the reservation settles to the real count", () => {
    const ledger = ledgerWith({ perKey: { tokensPerMinute: 1_000 }, source: "R" });
    // The first request of a model knows nothing to reserve.
    const first = ledger.charge(0, "m", START);
    expect(first.reservedTokens).toBe(0);
    ledger.settleTokens(first, 400, START + 1_000);
    const second = ledger.charge(0, "m", START + 2_000);
    expect(second.reservedTokens).toBe(400);
    // 400 counted + 400 reserved, and a third would reserve 400 more: 1,200 > 1,000.
    expect(ledger.keyHold(0, "m", START + 2_500)?.until).toBe(START + 61_000);
    // The answer was small: the reservation gives way to the real 100 tokens.
    ledger.settleTokens(second, 100, START + 3_000);
    expect(ledger.keyHold(0, "m", START + 3_500)).toBeUndefined();
  });

  test("an empty window admits one request however large it is expected to be", () => {
    const ledger = ledgerWith({ perKey: { tokensPerMinute: 100 }, source: "R" });
    ledger.settleTokens(ledger.charge(0, "m", START), 5_000, START);
    expect(ledger.keyHold(0, "m", START + 1)?.until).toBe(START + 60_000);
    expect(ledger.keyHold(0, "m", START + 60_000)).toBeUndefined();
  });

  test("a failure settles with no tokens: its reservation is given back", () => {
    const ledger = ledgerWith({ perKey: { tokensPerMinute: 1_300 }, source: "R" });
    ledger.settleTokens(ledger.charge(0, "m", START), 600, START);
    const failed = ledger.charge(0, "m", START + 100);
    expect(failed.reservedTokens).toBe(600);
    expect(ledger.keyHold(0, "m", START + 200)).toBeDefined();
    expect(ledger.settleTokens(failed, undefined, START + 300)).toBe(-600);
    expect(ledger.keyHold(0, "m", START + 400)).toBeUndefined();
  });
});

describe("per provider", () => {
  test("the provider's window counts every key's requests together", () => {
    const ledger = ledgerWith({ perProvider: { requestsPerMinute: 2 }, source: "RATE_LIMIT_GEMINI_ORG" });
    ledger.charge(0, "m", START);
    expect(ledger.providerHold("m", START + 1)).toBeUndefined();
    ledger.charge(1, "m", START + 1);
    expect(ledger.providerHold("m", START + 2)).toEqual({ until: START + 60_000, limit: "2 requests per minute per provider (RATE_LIMIT_GEMINI_ORG)" });
    expect(ledger.keyHold(2, "m", START + 2)).toBeUndefined();
  });

  test("a charge names its windows for a shared count: per key by id, the provider's as *", () => {
    const ledger = ledgerWith({ perKey: { requestsPerMinute: 5, tokensPerDay: 9 }, perProvider: { requestsPerDay: 100 }, source: "R" });
    const charge = ledger.charge(3, "gemini-2.5-flash", START, true);
    expect(charge.shared).toEqual([
      { name: "gemini\u0000key3\u0000gemini-2.5-flash\u0000requestsPerMinute", kind: "minute", scope: "key", tokens: false, limit: 5, cost: 1, endsAt: 0 },
      { name: "gemini\u0000key3\u0000gemini-2.5-flash\u0000tokensPerDay", kind: "day", scope: "key", tokens: true, limit: 9, cost: 0, endsAt: DAY_END },
      { name: "gemini\u0000*\u0000gemini-2.5-flash\u0000requestsPerDay", kind: "day", scope: "provider", tokens: false, limit: 100, cost: 1, endsAt: DAY_END },
    ]);
  });
});

test("a model with no declared limit has nothing to hold", () => {
  const ledger = ledgerWith(undefined);
  expect(ledger.limits("m")).toBeUndefined();
  expect(ledger.keyHold(0, "m", START)).toBeUndefined();
  expect(ledger.providerHold("m", START)).toBeUndefined();
});
