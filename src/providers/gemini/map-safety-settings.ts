/**
 * The client's `safety_settings` → Gemini `safetySettings`.
 *
 * Two forms are accepted:
 * - the original proxy's generic dict, `{harassment: "block_none", …}`: known names map to Gemini
 *   categories and thresholds are upper-cased; names it does not know are dropped, as the original
 *   did;
 * - Gemini's own list, `[{category, threshold}]`, passed on unchanged. The original crashed on it
 *   (it called `.items()` on a list), yet it is what anyone copying from Google's docs sends.
 */

import type { GeminiRequest } from "./gemini-types.ts";

export type GeminiSafetySetting = NonNullable<GeminiRequest["safetySettings"]>[number];

const CATEGORY_BY_NAME = new Map([
  ["harassment", "HARM_CATEGORY_HARASSMENT"],
  ["hate_speech", "HARM_CATEGORY_HATE_SPEECH"],
  ["sexually_explicit", "HARM_CATEGORY_SEXUALLY_EXPLICIT"],
  ["dangerous_content", "HARM_CATEGORY_DANGEROUS_CONTENT"],
  ["civic_integrity", "HARM_CATEGORY_CIVIC_INTEGRITY"],
]);

/** The Gemini settings, or undefined when `settings` is neither a dict nor a list (the caller reports it). */
export function mapSafetySettings(settings: unknown): GeminiSafetySetting[] | undefined {
  if (Array.isArray(settings)) return settings.filter(isNativeSetting).map(({ category, threshold }) => ({ category, threshold }));
  if (typeof settings === "object" && settings !== null) return fromGenericDict(settings as Record<string, unknown>);
  return undefined;
}

function fromGenericDict(settings: Record<string, unknown>): GeminiSafetySetting[] {
  const mapped: GeminiSafetySetting[] = [];
  for (const [name, threshold] of Object.entries(settings)) {
    const category = CATEGORY_BY_NAME.get(name);
    if (category !== undefined && typeof threshold === "string") mapped.push({ category, threshold: threshold.toUpperCase() });
  }
  return mapped;
}

/** Only `category` and `threshold` are kept: `method` is Vertex-only, and Google's own SDK refuses to send it to the Gemini API. */
function isNativeSetting(entry: unknown): entry is GeminiSafetySetting {
  if (typeof entry !== "object" || entry === null) return false;
  const { category, threshold } = entry as Record<string, unknown>;
  return typeof category === "string" && typeof threshold === "string";
}
