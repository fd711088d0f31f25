/**
 * Reading fields of an OpenAI chat request that a family must rewrite into its own shape (Gemini,
 * Anthropic): a wrong type or unparsable tool arguments become a 400 that names the field, instead
 * of a vaguer error from the upstream later.
 */

import { isRecord } from "../formats/is-record.ts";
import { UnsupportedRequestError } from "./adapter.ts";

export function requireString(value: unknown, path: string): string {
  if (typeof value !== "string") throw new UnsupportedRequestError(`${path} must be a string.`, path);
  return value;
}

/** A tool call's `arguments`: a JSON string encoding an object (or the object itself; empty is `{}`). */
export function parseToolArguments(raw: unknown, path: string): Record<string, unknown> {
  if (raw === undefined || (typeof raw === "string" && raw.trim() === "")) return {};
  if (isRecord(raw)) return raw;
  if (typeof raw !== "string") throw new UnsupportedRequestError(`${path} must be a JSON string.`, path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UnsupportedRequestError(`${path} is not valid JSON.`, path);
  }
  if (!isRecord(parsed)) throw new UnsupportedRequestError(`${path} must encode a JSON object.`, path);
  return parsed;
}
