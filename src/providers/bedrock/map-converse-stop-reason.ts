/**
 * Bedrock Converse `stopReason` → OpenAI `finish_reason`.
 *
 * Like Anthropic's, Converse names a tool-call finish itself (`tool_use`), so the reason alone is
 * enough. Filters that withheld or cut the answer, Bedrock's own content filters as much as a
 * configured guardrail, are what OpenAI calls `content_filter`.
 */

import type { OpenAIFinishReason } from "../anthropic/map-anthropic-stop-reason.ts";
import type { ConverseStopReason } from "./bedrock-types.ts";

const FINISH_BY_STOP_REASON = new Map<string, OpenAIFinishReason>([
  ["end_turn", "stop"],
  ["stop_sequence", "stop"],
  ["max_tokens", "length"],
  // Cut short for want of room in the context window, as max_tokens is for want of budget.
  ["model_context_window_exceeded", "length"],
  ["tool_use", "tool_calls"],
  ["content_filtered", "content_filter"],
  ["guardrail_intervened", "content_filter"],
] satisfies [ConverseStopReason, OpenAIFinishReason][]);

/** `undefined` means the message is still going: only messageStop carries a reason. */
export function mapConverseStopReason(reason: string | undefined): OpenAIFinishReason | null {
  if (reason === undefined) return null;
  // A reason newer than this table: the answer is over and OpenAI has nothing more specific to say.
  return FINISH_BY_STOP_REASON.get(reason) ?? "stop";
}
