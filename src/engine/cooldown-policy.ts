/**
 * How long a key stays out after a failure. Upstream hints win, but within bounds: a hint that is
 * absurdly long would park a key for days (the stuck-cooldown bug of other proxies), and one that
 * is zero would hammer the provider.
 */

const SECOND = 1000;

/** Escalation per (key, model) when the upstream gave no hint; a success resets it. */
export const LADDER_MS: readonly number[] = [10 * SECOND, 30 * SECOND, 60 * SECOND, 120 * SECOND, 300 * SECOND];

const MIN_COOLDOWN_MS = 1 * SECOND;
const MAX_RATE_LIMIT_MS = 60 * 60 * SECOND;
const MAX_QUOTA_MS = 26 * 60 * 60 * SECOND;

/** Cooldown for the n-th consecutive failure (n ≥ 1) of one (key, model). */
export function ladderMs(strike: number): number {
  const step = Math.min(Math.max(strike, 1), LADDER_MS.length) - 1;
  return LADDER_MS[step]!;
}

/** A rate-limit cooldown: the hint clamped to [1 s, 1 h], or the ladder when there is none. */
export function rateLimitCooldownMs(hintMs: number | undefined, strike: number): number {
  if (hintMs === undefined) return ladderMs(strike);
  return Math.min(Math.max(hintMs, MIN_COOLDOWN_MS), MAX_RATE_LIMIT_MS);
}

/**
 * A quota cooldown ends when the quota resets: at the provider's known reset time when there is one
 * (a Gemini per-day quota resets at midnight Pacific whatever its retry hint says), never later than
 * 26 h; else after the hint, else at the proxy's daily reset — a hint never past that reset, which
 * is when a stale multi-day cooldown would otherwise keep a key out.
 */
export function quotaCooldownUntil(now: number, reset: { hintMs?: number; knownResetAt?: number; dailyResetAt: number }): number {
  if (reset.knownResetAt !== undefined) return Math.min(reset.knownResetAt, now + MAX_QUOTA_MS);
  if (reset.hintMs === undefined) return reset.dailyResetAt;
  return Math.min(now + Math.max(reset.hintMs, MIN_COOLDOWN_MS), reset.dailyResetAt);
}

/**
 * How long a key's circuit stays open for a model after its n-th opening in a row (n ≥ 1): short
 * at first, since a 5xx is usually brief, and rising while the key keeps failing its trials.
 */
export const CIRCUIT_BACKOFF_MS: readonly number[] = [3 * SECOND, 10 * SECOND, 30 * SECOND, 60 * SECOND, 120 * SECOND];

export function circuitBackoffMs(opening: number): number {
  const step = Math.min(Math.max(opening, 1), CIRCUIT_BACKOFF_MS.length) - 1;
  return CIRCUIT_BACKOFF_MS[step]!;
}

/**
 * Transient failures in a row that open a key's circuit. One 5xx is often the provider's bad
 * moment, so it takes two; a timeout opens it at once, because a hung key costs every request
 * that meets it a share of its deadline.
 */
export function failuresToOpenCircuit(timedOut: boolean): number {
  return timedOut ? 1 : 2;
}
