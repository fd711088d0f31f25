/**
 * Shared engine vocabulary: how an upstream failure is classified and what the
 * engine does about it. Plain types only; no behaviour lives here.
 */

/**
 * What a failed attempt means for the key that made it.
 * - `request`: the client's request is at fault (bad params, context too long, content blocked,
 *   unknown model). Answer the client as-is; no key is blamed and nothing rotates.
 * - `transient`: provider or network trouble (5xx, overload, reset, timeout). The key is fine:
 *   retry the same key once after a short backoff, then rotate.
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

/** Snapshot of one key's standing, for `/v1/providers`, stats and the decision trace. */
export interface KeyStanding {
  id: string;
  masked: string;
  inFlight: number;
  disabledUntil: number;
  disabledReason?: string;
  coolingModels: { model: string; until: number; reason: string; strikes: number }[];
  /**
   * Models for which the key's circuit has opened since its last success: `open` until `until`,
   * then `half_open` (the next request is its trial).
   */
  circuits: { model: string; state: "open" | "half_open"; until: number; failures: number; reason: string }[];
}
