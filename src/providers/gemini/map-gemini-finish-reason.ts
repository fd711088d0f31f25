/**
 * Gemini `finishReason` → OpenAI `finish_reason`.
 *
 * Gemini has no tool-call reason: a turn that calls functions simply ends with STOP, so the caller
 * says whether the candidate (or the stream so far) carried a function call.
 */

export type OpenAIFinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/** Reasons for which Google withheld or cut the answer by policy, rather than the model being done. */
const FILTERED_REASONS = new Set([
  "SAFETY",
  "RECITATION",
  "PROHIBITED_CONTENT",
  "BLOCKLIST",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  // The image counterpart of RECITATION, filtered for the same reason.
  "IMAGE_RECITATION",
  "LANGUAGE",
]);

/** `undefined` means the candidate is still going (a stream event before the last one). */
export function mapGeminiFinishReason(reason: string | undefined, hasToolCalls: boolean): OpenAIFinishReason | null {
  if (reason === undefined) return null;
  if (reason === "MAX_TOKENS") return "length";
  if (FILTERED_REASONS.has(reason)) return "content_filter";
  if (reason === "STOP" && hasToolCalls) return "tool_calls";
  // OTHER, MALFORMED_FUNCTION_CALL, FINISH_REASON_UNSPECIFIED and reasons newer than this list:
  // the answer is over and OpenAI has nothing more specific to say about why.
  return "stop";
}
