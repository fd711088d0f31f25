/**
 * Wait hints: Go/protobuf durations, every header family the providers use (values follow
 * providers.md 1.6, 4.5 and 6.3; the recorded fixtures carry no headers), and the wording of
 * rate-limit messages.
 */
import { describe, expect, test } from "bun:test";
import { parseDurationMs, retryAfterFromHeaders, retryAfterFromMessage, limitReachedFromHeaders } from "../../src/providers/retry-hints.ts";

const NOW = Date.parse("2025-08-21T12:40:00Z");

function hint(headers: Record<string, string>): number | undefined {
  return retryAfterFromHeaders(new Headers(headers), NOW);
}

describe("parseDurationMs", () => {
  test.each([
    ["1s", 1000],
    ["6m0s", 360_000],
    ["12ms", 12],
    ["1m26.4s", 86_400],
    ["13.5s", 13_500],
    ["45.837906927s", 45_838],
    ["156h14m36.75s", 562_476_750],
    ["26.28", 26_280],
    ["0s", 0],
    [" 40s ", 40_000],
    ["1h", 3_600_000],
    ["500µs", 1],
  ])("%p is %p ms", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  test.each(["", "abc", "-1s", "1x", "s", "1s2", "1.s", "1 s", "NaN"])("%p is unreadable", (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });
});

describe("retryAfterFromHeaders", () => {
  test("retry-after-ms is float milliseconds, rounded up", () => {
    expect(hint({ "retry-after-ms": "1234.5" })).toBe(1235);
  });

  test("retry-after-ms wins over retry-after", () => {
    expect(hint({ "retry-after-ms": "250", "retry-after": "30" })).toBe(250);
  });

  test("retry-after in seconds, fractional allowed", () => {
    expect(hint({ "retry-after": "30" })).toBe(30_000);
    expect(hint({ "retry-after": "1.5" })).toBe(1500);
  });

  test("retry-after as an HTTP-date", () => {
    expect(hint({ "retry-after": "Thu, 21 Aug 2025 12:41:00 GMT" })).toBe(60_000);
  });

  test("retry-after as epoch seconds and epoch milliseconds, told apart by magnitude", () => {
    expect(hint({ "retry-after": String(NOW / 1000 + 90) })).toBe(90_000);
    expect(hint({ "retry-after": String(NOW + 2500) })).toBe(2500);
  });

  test("a date in the past, a negative or a garbled value is ignored and the next source is used", () => {
    expect(hint({ "retry-after": "Thu, 21 Aug 2025 12:00:00 GMT" })).toBeUndefined();
    expect(hint({ "retry-after": "-5" })).toBeUndefined();
    expect(hint({ "retry-after-ms": "-5", "retry-after": "soon", "x-ratelimit-reset-tokens": "2s" })).toBe(2000);
  });

  test("x-ratelimit-reset-*: the exhausted window decides", () => {
    const resets = { "x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s" };
    expect(hint({ ...resets, "x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "1200" })).toBe(1000);
    expect(hint({ ...resets, "x-ratelimit-remaining-requests": "59", "x-ratelimit-remaining-tokens": "0" })).toBe(360_000);
  });

  test("x-ratelimit-reset-*: without an exhausted window the longest is taken", () => {
    expect(hint({ "x-ratelimit-reset-requests": "1m26.4s", "x-ratelimit-reset-tokens": "12ms" })).toBe(86_400);
    expect(hint({ "x-ratelimit-reset-tokens": "12ms" })).toBe(12);
  });

  test("Cerebras day window at zero: its float-seconds reset decides", () => {
    const headers = {
      "x-ratelimit-remaining-requests-day": "0",
      "x-ratelimit-reset-requests-day": "11726.28",
      "x-ratelimit-remaining-tokens-minute": "40000",
      "x-ratelimit-reset-tokens-minute": "26.28",
    };
    expect(hint(headers)).toBe(11_726_280);
  });

  test("Cerebras without an exhausted window: the shortest reset, not the day", () => {
    const headers = {
      "x-ratelimit-remaining-requests-day": "13000",
      "x-ratelimit-reset-requests-day": "11726.28",
      "x-ratelimit-reset-tokens-minute": "26.28",
    };
    expect(hint(headers)).toBe(26_280);
  });

  test("anthropic-ratelimit-*-reset RFC 3339 timestamps: the exhausted bucket decides", () => {
    const headers = {
      "anthropic-ratelimit-requests-remaining": "49",
      "anthropic-ratelimit-requests-reset": "2025-08-21T12:40:02Z",
      "anthropic-ratelimit-input-tokens-remaining": "0",
      "anthropic-ratelimit-input-tokens-reset": "2025-08-21T12:40:59Z",
    };
    expect(hint(headers)).toBe(59_000);
    expect(hint({ ...headers, "retry-after": "3" })).toBe(3000);
  });

  test("OpenRouter's bare x-ratelimit-reset in epoch ms", () => {
    expect(hint({ "x-ratelimit-reset": String(NOW + 45_000) })).toBe(45_000);
  });

  test("no hint headers at all", () => {
    expect(hint({ "content-type": "application/json", "x-ratelimit-remaining-requests": "0" })).toBeUndefined();
  });
});

describe("retryAfterFromMessage", () => {
  test.each([
    ["Rate limit reached for model `llama-3.3-70b` … Please try again in 5.289s. Need more tokens?", 5289],
    ["You exceeded your current quota.\nPlease retry in 11.665902715s.", 11_666],
    ["Rate limit reached for gpt-4o-mini. Please try again in 20ms.", 20],
    ["Please try again in 7m12.864s. Visit https://console.groq.com/settings/billing", 432_864],
    ["Too many requests, retry after 30", 30_000],
    ["Service busy; retry in 30 seconds.", 30_000],
    ["Please wait for 30 seconds before sending again", 30_000],
    ["try again in 2 minutes", 120_000],
    ["Try Again In 1.5 hours", 5_400_000],
    ["retry after 250 milliseconds", 250],
  ])("%p", (message, ms) => {
    expect(retryAfterFromMessage(message)).toBe(ms);
  });

  test.each([
    "google/gemini-2.0-flash-exp:free is temporarily rate-limited upstream. Please retry shortly",
    "The model is overloaded. Please try again later.",
    "limit: 20, model: gemini-2.5-flash",
    "",
  ])("no hint in %p", (message) => {
    expect(retryAfterFromMessage(message)).toBeUndefined();
  });
});

describe("limitReachedFromHeaders", () => {
  const now = Date.UTC(2026, 11, 2, 12, 0);
  const h = (fields: Record<string, string>) => new Headers(fields);

  test("the latest reset among the used-up limits, with the header that said so", () => {
    expect(limitReachedFromHeaders(h({ "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6s", "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1m30s" }), now)).toEqual({ until: now + 90_000, header: "x-ratelimit-remaining-tokens" });
    expect(limitReachedFromHeaders(h({ "x-ratelimit-remaining-requests-day": "0", "x-ratelimit-reset-requests-day": "3600.5" }), now)).toEqual({ until: now + 3_600_500, header: "x-ratelimit-remaining-requests-day" });
    expect(limitReachedFromHeaders(h({ "anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": "2026-12-02T12:00:42Z" }), now)).toEqual({ until: now + 42_000, header: "anthropic-ratelimit-requests-remaining" });
  });

  test("nothing used up, or used up with no reset to go by: nothing to skip", () => {
    expect(limitReachedFromHeaders(h({ "x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "6s" }), now)).toBeUndefined();
    expect(limitReachedFromHeaders(h({ "x-ratelimit-remaining-requests": "0" }), now)).toBeUndefined();
    expect(limitReachedFromHeaders(h({}), now)).toBeUndefined();
  });
});
