/**
 * One token count as an upstream reported it → a count the proxy can show, sum and store. Hosts
 * send odd values now and then (negative, fractional, strings, objects, 1e20); none of them may
 * reach the client as a malformed `usage` or make the usage store refuse the attempt.
 */

/**
 * The largest count one answer may claim. No model reads or writes anywhere near 2^32 tokens in one
 * call, and the cap leaves the daily sums of a key far from 2^53, where counters stop being exact.
 */
export const MAX_TOKEN_COUNT = 2 ** 32 - 1;

/** A non-negative whole number of tokens, at most MAX_TOKEN_COUNT; 0 for anything not a number. */
export function tokenCount(value: unknown): number {
  if (typeof value !== "number" || Number.isNaN(value) || value <= 0) return 0;
  return Math.min(Math.round(value), MAX_TOKEN_COUNT);
}
