/**
 * Anthropic `stop_reason` → OpenAI `finish_reason` (providers.md §4.7).
 *
 * Unlike Gemini, Anthropic names a tool-call finish itself (`tool_use`), so no other part of the
 * answer needs looking at.
 */

export type OpenAIFinishReason = "stop" | "length" | "tool_calls" | "content_filter";

const FINISH_BY_STOP_REASON = new Map<string, OpenAIFinishReason>([
  ["end_turn", "stop"],
  ["stop_sequence", "stop"],
  // A server tool loop paused; the answer so far is complete as far as an OpenAI client can tell.
  ["pause_turn", "stop"],
  ["max_tokens", "length"],
  // The answer ran into the context window: cut short for want of room, like max_tokens.
  ["model_context_window_exceeded", "length"],
  ["tool_use", "tool_calls"],
  ["refusal", "content_filter"],
]);

/** `null` (or absent) means the message is still going: `message_start` carries no reason yet. */
export function mapAnthropicStopReason(reason: string | null | undefined): OpenAIFinishReason | null {
  if (reason == null) return null;
  // A reason newer than this table: the answer is over and OpenAI has nothing more specific to say.
  return FINISH_BY_STOP_REASON.get(reason) ?? "stop";
}
