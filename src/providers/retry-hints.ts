/**
 * Wait hints: how long an upstream asked us to hold off, read from its response headers or
 * from the wording of its error message. Every hint is whole milliseconds counted from `now`.
 * Anything negative or unreadable yields `undefined`, so callers fall back to their own backoff
 * instead of trusting a garbled number. A success's headers may also say a limit is used up.
 */

import type { LimitReached } from "../outcome.ts";

const UNIT_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  "µs": 0.001,
  ns: 0.000_001,
};
// "ms" must be tried before "m", or "12ms" would read as 12 minutes followed by junk.
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;
const BARE_NUMBER = /^\d+(?:\.\d+)?$/;
const EPOCH_MS_FLOOR = 1e12;
const EPOCH_S_FLOOR = 1e9;

const MESSAGE_HINT =
  /\b(?:try again|retry|wait)\s+(?:in|after|for)\s+((?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+|\d+(?:\.\d+)?)(?:\s*(milliseconds?|msecs?|seconds?|secs?|minutes?|mins?|hours?|hrs?)\b)?/i;

/**
 * Rounds up so we never come back early, after dropping float noise first:
 * 45.837906927 * 1000 is 45837.906926999996, and 26.4 * 1000 must stay 26400, not 26401.
 */
function toWholeMs(ms: number): number {
  return Math.ceil(Math.round(ms * 1000) / 1000);
}

function nonNegative(ms: number): number | undefined {
  return ms >= 0 ? toWholeMs(ms) : undefined;
}

/** Parse Go/protobuf-style durations and bare numbers: "1s", "6m0s", "12ms", "1m26.4s", "13.5s", "45.837906927s", "156h14m36.75s", "26.28" (seconds). Returns ms or undefined. */
export function parseDurationMs(text: string): number | undefined {
  const value = text.trim();
  if (BARE_NUMBER.test(value)) return toWholeMs(Number(value) * 1000);
  if (!DURATION.test(value)) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(DURATION_PART)) total += Number(amount) * (UNIT_MS[unit ?? ""] ?? 0);
  return toWholeMs(total);
}

/** Providers disagree on units, so a plain number is told apart by its magnitude. */
function fromNumber(value: number, now: number): number | undefined {
  if (value > EPOCH_MS_FLOOR) return nonNegative(value - now);
  if (value > EPOCH_S_FLOOR) return nonNegative(value * 1000 - now);
  return toWholeMs(value * 1000);
}

/** One header value: seconds, an epoch, a Go duration, an HTTP-date or an RFC 3339 timestamp. */
function hintFromValue(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (BARE_NUMBER.test(text)) return fromNumber(Number(text), now);
  const duration = parseDurationMs(text);
  if (duration !== undefined) return duration;
  // Date.parse accepts bare junk such as "-5" as a year; real dates always carry letters.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : nonNegative(at - now);
}

function retryAfterMsHeader(headers: Headers): number | undefined {
  const value = headers.get("retry-after-ms")?.trim();
  return value !== undefined && BARE_NUMBER.test(value) ? toWholeMs(Number(value)) : undefined;
}

interface ResetCandidate {
  ms: number | undefined;
  exhausted: boolean;
}

/**
 * The window whose remaining count is "0" is the one that refused us; if several are, the
 * longest decides. Without that signal the caller picks how to choose among the rest.
 */
function pickReset(candidates: ResetCandidate[], whenNoneExhausted: (...ms: number[]) => number): number | undefined {
  const present = candidates.filter((c): c is { ms: number; exhausted: boolean } => c.ms !== undefined);
  if (present.length === 0) return undefined;
  const exhausted = present.filter((c) => c.exhausted);
  if (exhausted.length > 0) return Math.max(...exhausted.map((c) => c.ms));
  return whenNoneExhausted(...present.map((c) => c.ms));
}

function isZero(value: string | null): boolean {
  return value?.trim() === "0";
}

/** OpenAI/Groq `x-ratelimit-reset-{requests,tokens}`; both are short windows, so the longer is safe. */
function openAiReset(headers: Headers, now: number): number | undefined {
  const candidates = ["requests", "tokens"].map((kind) => ({
    ms: hintFromValue(headers.get(`x-ratelimit-reset-${kind}`), now),
    exhausted: isZero(headers.get(`x-ratelimit-remaining-${kind}`)),
  }));
  return pickReset(candidates, Math.max);
}

/**
 * Cerebras reports minute, hour and day windows side by side. Unless a day window says it is
 * empty, the shortest reset is the likely cause; taking the day reset would park a key for hours
 * over a per-minute limit.
 */
function windowedReset(headers: Headers, now: number): number | undefined {
  const candidates = ["requests", "tokens"].flatMap((kind) =>
    ["minute", "hour", "day"].map((window) => ({
      ms: hintFromValue(headers.get(`x-ratelimit-reset-${kind}-${window}`), now),
      exhausted: isZero(headers.get(`x-ratelimit-remaining-${kind}-${window}`)),
    })),
  );
  return pickReset(candidates, Math.min);
}

/** Anthropic's `anthropic-ratelimit-*-reset` are RFC 3339 instants for per-minute buckets. */
function anthropicReset(headers: Headers, now: number): number | undefined {
  const candidates = ["requests", "tokens", "input-tokens", "output-tokens"].map((kind) => ({
    ms: hintFromValue(headers.get(`anthropic-ratelimit-${kind}-reset`), now),
    exhausted: isZero(headers.get(`anthropic-ratelimit-${kind}-remaining`)),
  }));
  return pickReset(candidates, Math.max);
}

/** Wait hint from response headers, in ms from `now`: `retry-after-ms` (float ms) › `retry-after` (seconds or HTTP-date) › `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens` (durations; take the relevant/longest that is exhausted — if `x-ratelimit-remaining-requests` is "0" use the requests reset, if remaining-tokens is "0" the tokens reset, else the max of those present) › Cerebras-style `x-ratelimit-reset-requests-day` / `x-ratelimit-reset-tokens-minute` (float seconds) › `anthropic-ratelimit-*-reset` (RFC 3339 timestamps). Numbers: > 1e12 ⇒ epoch ms, > 1e9 ⇒ epoch s, else seconds. Negative or unparsable ⇒ ignored. */
export function retryAfterFromHeaders(headers: Headers, now: number): number | undefined {
  return (
    retryAfterMsHeader(headers) ??
    hintFromValue(headers.get("retry-after"), now) ??
    openAiReset(headers, now) ??
    windowedReset(headers, now) ??
    anthropicReset(headers, now) ??
    // OpenRouter's platform limiter sends a bare `x-ratelimit-reset` (epoch ms in practice).
    hintFromValue(headers.get("x-ratelimit-reset"), now)
  );
}

function wordUnitMs(unit: string | undefined): number {
  const word = unit?.toLowerCase() ?? "s";
  if (word.startsWith("ms") || word.startsWith("milli")) return 1;
  if (word.startsWith("h")) return 3_600_000;
  if (word.startsWith("m")) return 60_000;
  return 1000;
}

/** Wait hint from an error message text: "Please try again in 5.289s", "Please retry in 11.665902715s", "try again in 20ms", "retry after 30", "retry in 30 seconds", "wait for 30 seconds". */
export function retryAfterFromMessage(message: string): number | undefined {
  const match = MESSAGE_HINT.exec(message);
  const amount = match?.[1];
  if (amount === undefined) return undefined;
  if (BARE_NUMBER.test(amount)) return toWholeMs(Number(amount) * wordUnitMs(match?.[2]));
  return parseDurationMs(amount);
}

/**
 * On an answer that succeeded: the latest reset among the limits its headers report as used up
 * (`remaining` "0" with a known reset), OpenAI/Groq, Cerebras-style windowed and Anthropic forms.
 * Undefined when nothing is used up, or when no reset time comes with it.
 */
export function limitReachedFromHeaders(headers: Headers, now: number): LimitReached | undefined {
  let reached: LimitReached | undefined;
  const consider = (remainingHeader: string, resetHeader: string): void => {
    if (!isZero(headers.get(remainingHeader))) return;
    const ms = hintFromValue(headers.get(resetHeader), now);
    if (ms === undefined || ms <= 0) return;
    if (reached === undefined || now + ms > reached.until) reached = { until: now + ms, header: remainingHeader };
  };
  for (const kind of ["requests", "tokens"]) {
    consider(`x-ratelimit-remaining-${kind}`, `x-ratelimit-reset-${kind}`);
    for (const window of ["minute", "hour", "day"]) consider(`x-ratelimit-remaining-${kind}-${window}`, `x-ratelimit-reset-${kind}-${window}`);
  }
  for (const kind of ["requests", "tokens", "input-tokens", "output-tokens"]) consider(`anthropic-ratelimit-${kind}-remaining`, `anthropic-ratelimit-${kind}-reset`);
  return reached;
}
