/**
 * The outcome of one upstream attempt, in the words every layer shares: the providers produce it,
 * the engine acts on it, the faces report it. A leaf: it imports nothing, so a provider needs no
 * engine module to say how an attempt went.
 */

/**
 * What a failed attempt means for the key that made it.
 * - `request`: the client's request is at fault (bad params, context too long, content blocked,
 *   unknown model). Answer the client as-is; no key is blamed and nothing rotates.
 * - `transient`: provider or network trouble (5xx, overload, reset, timeout). The key is fine for
 *   now: rotate (the same key again only when no other could answer); a key that keeps failing has
 *   its circuit opened.
 * - `rate_limit`: a short limit on this (key, model). Cool it for the upstream's hint or the
 *   escalation ladder, then rotate.
 * - `quota`: a longer quota on this (key, model) ran out (per-day limits). Cool it until the hint
 *   or until the daily reset, then rotate.
 * - `billing`: the key's account has no credit or hit a spend limit. Disable the key for every
 *   model until the daily reset.
 * - `invalid_key`: the key is wrong, revoked or not allowed. Disable it until the daily reset.
 */
export type FailureClass = "request" | "transient" | "rate_limit" | "quota" | "billing" | "invalid_key";

/** One classified upstream failure. */
export interface Failure {
  class: FailureClass;
  /** Upstream HTTP status; 0 when no response arrived (connect error, reset, timeout). */
  status: number;
  /** One human sentence, taken from the upstream where possible. Never contains a key. */
  message: string;
  /** Upstream error code or type when it had one (`insufficient_quota`, `rate_limit_exceeded`, …). */
  code?: string;
  /** Upstream param name for request faults, when it named one. */
  param?: string;
  /** How long the upstream asked us to wait, in milliseconds, when it said so. */
  retryAfterMs?: number;
  /** Epoch ms when an exhausted quota is known to reset (Gemini per-day quotas: midnight Pacific). */
  resetAt?: number;
}

/** `Failure.code` of an attempt that one of our own time limits ended: the engine never retries it on the same key. */
export const UPSTREAM_TIMEOUT = "upstream_timeout";

/** An attempt one of our own time limits ended; `what` (our words, never the upstream's) says which and how long. */
export function timeoutFailure(what: string): Failure {
  return { class: "transient", status: 0, code: UPSTREAM_TIMEOUT, message: `upstream request failed: ${what}` };
}

/** Tokens one answer used, as the provider reported them (0 when it did not). */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
}

/**
 * A limit the answer's own headers say is used up (`x-ratelimit-remaining-requests: 0`,
 * `anthropic-ratelimit-tokens-remaining: 0`), with when it resets: the key is skipped until then,
 * before the provider has to refuse it.
 */
export interface LimitReached {
  until: number;
  /** The header that said so. */
  header: string;
}

export type AttemptResult<T> = { ok: true; value: T; limitReached?: LimitReached } | { ok: false; failure: Failure };

/** How a lease ended. A stream the client abandoned midway settles as a success with what it used. */
export type Settlement = { kind: "success"; usage?: TokenUsage } | { kind: "failure"; failure: Failure } | { kind: "cancelled" };
