/**
 * The one check every reader of untrusted JSON needs before looking inside a value: a plain
 * object (not null, not an array).
 */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
