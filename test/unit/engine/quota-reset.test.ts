/**
 * When exhausted quotas come back: the proxy's daily boundary, Gemini's midnight-Pacific reset
 * (DST-correct), and how a recorded Gemini 429 turns into a cooldown end.
 */

import { describe, expect, test } from "bun:test";
import { classifyHttpFailure } from "../../../src/providers/classify-failure.ts";
import { quotaCooldownUntil } from "../../../src/engine/cooldown-policy.ts";
import { lastDailyReset, nextDailyReset, usageDay } from "../../../src/engine/daily-reset.ts";
import { nextMidnightIn } from "../../../src/providers/zone-time.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe("daily reset boundary (03:00 UTC)", () => {
  const minute = 3 * 60;
  test("before 03:00 the day is still yesterday's", () => {
    expect(usageDay(at("2026-11-27T02:59:00Z"), minute)).toBe("2026-11-26");
    expect(usageDay(at("2026-11-27T03:00:00Z"), minute)).toBe("2026-11-27");
  });
  test("last and next reset bracket the moment", () => {
    expect(iso(lastDailyReset(at("2026-11-27T02:00:00Z"), minute))).toBe("2026-11-26T03:00:00.000Z");
    expect(iso(nextDailyReset(at("2026-11-27T02:00:00Z"), minute))).toBe("2026-11-27T03:00:00.000Z");
    expect(iso(nextDailyReset(at("2026-11-27T03:00:00Z"), minute))).toBe("2026-11-28T03:00:00.000Z");
  });
});

describe("midnight America/Los_Angeles", () => {
  const cases: [string, string][] = [
    ["2026-11-27T09:00:00Z", "2026-11-28T08:00:00.000Z"], // PST
    ["2026-07-01T06:59:00Z", "2026-07-01T07:00:00.000Z"], // PDT, one minute before
    ["2026-03-08T09:30:00Z", "2026-03-09T07:00:00.000Z"], // the day DST starts
    ["2026-11-01T07:30:00Z", "2026-11-02T08:00:00.000Z"], // the day DST ends
  ];
  for (const [now, expected] of cases) {
    test(`after ${now} comes ${expected}`, () => expect(iso(nextMidnightIn("America/Los_Angeles", at(now)))).toBe(expected));
  }
});

describe("Gemini 429 quotas", () => {
  const recorded = readFixtureJson("google/error-429-resource-exhausted-quotafailure-retryinfo.json");
  const withQuota = (quotaId: string, retryDelay?: string) => {
    const body = structuredClone(recorded);
    body.error.details = body.error.details
      .map((detail: any) => (detail["@type"]?.endsWith("QuotaFailure") ? { ...detail, violations: detail.violations.map((v: any) => ({ ...v, quotaId })) } : detail))
      .filter((detail: any) => retryDelay !== undefined || !detail["@type"]?.endsWith("RetryInfo"))
      .map((detail: any) => (detail["@type"]?.endsWith("RetryInfo") ? { ...detail, retryDelay } : detail));
    body.error.message = "quota exceeded";
    return JSON.stringify(body);
  };
  const now = at("2026-11-27T09:00:10Z");

  test("a per-day quota resets at the next midnight Pacific, whatever its retry hint", () => {
    const failure = classifyHttpFailure({ status: 429, headers: new Headers(), body: withQuota("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "47s"), now });
    expect(failure.class).toBe("quota");
    expect(iso(failure.resetAt!)).toBe("2026-11-28T08:00:00.000Z");
    const until = quotaCooldownUntil(now, { hintMs: failure.retryAfterMs, knownResetAt: failure.resetAt, dailyResetAt: now + 3_600_000 });
    expect(iso(until)).toBe("2026-11-28T08:00:00.000Z");
  });

  test("a per-minute quota cools for RetryInfo.retryDelay", () => {
    const failure = classifyHttpFailure({ status: 429, headers: new Headers(), body: withQuota("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "12.5s"), now });
    expect(failure).toMatchObject({ class: "rate_limit", retryAfterMs: 12_500 });
    expect(failure.resetAt).toBeUndefined();
  });

  test("a per-minute quota without a hint cools until the next minute", () => {
    const failure = classifyHttpFailure({ status: 429, headers: new Headers(), body: withQuota("GenerateRequestsPerMinutePerProjectPerModel-FreeTier"), now });
    expect(failure.class).toBe("rate_limit");
    expect(now + failure.retryAfterMs!).toBe(at("2026-11-27T09:01:01Z"));
  });
});

describe("Gemini zero quota", () => {
  test("`limit: 0` means no quota for that model until Google's reset, not a short wait", () => {
    const body = readFixtureJson("google/error-429-resource-exhausted-quotafailure-retryinfo.json");
    body.error.message = "Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: gemini-2.5-pro. Please retry in 20s.";
    const now = at("2026-11-27T09:00:10Z");
    const failure = classifyHttpFailure({ status: 429, headers: new Headers(), body: JSON.stringify(body), now });
    expect(failure.class).toBe("quota");
    expect(iso(failure.resetAt!)).toBe("2026-11-28T08:00:00.000Z");
  });
});

describe("cooldown bounds", () => {
  const now = Date.UTC(2026, 11, 2, 1, 0);
  const dailyResetAt = Date.UTC(2026, 11, 2, 3, 0);

  test("a quota hint never outlasts the daily reset; without a hint the daily reset is the end", () => {
    expect(quotaCooldownUntil(now, { hintMs: 72 * 3_600_000, dailyResetAt })).toBe(dailyResetAt);
    expect(quotaCooldownUntil(now, { hintMs: 60_000, dailyResetAt })).toBe(now + 60_000);
    expect(quotaCooldownUntil(now, { dailyResetAt })).toBe(dailyResetAt);
  });

  test("the provider's own reset time wins over the proxy's daily reset, within 26 h", () => {
    const pacificMidnight = Date.UTC(2026, 11, 2, 8, 0);
    expect(quotaCooldownUntil(now, { hintMs: 1_000, knownResetAt: pacificMidnight, dailyResetAt })).toBe(pacificMidnight);
    expect(quotaCooldownUntil(now, { knownResetAt: now + 80 * 3_600_000, dailyResetAt })).toBe(now + 26 * 3_600_000);
  });
});
