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
 * (a Gemini per-day quota resets at midnight Pacific whatever its retry hint says), else after the
 * hint, else at the proxy's daily reset; never later than 26 h.
 */
export function quotaCooldownUntil(now: number, reset: { hintMs?: number; knownResetAt?: number; dailyResetAt: number }): number {
  const until = reset.knownResetAt ?? (reset.hintMs === undefined ? reset.dailyResetAt : now + Math.max(reset.hintMs, MIN_COOLDOWN_MS));
  return Math.min(until, now + MAX_QUOTA_MS);
}
