/**
 * Whether a Claude request thinks, and with what budget: the client's own `thinking` object, or
 * OpenAI's `reasoning_effort` turned into a budget. One rule for every way Claude is reached (the
 * Anthropic API, Bedrock), so the same request thinks the same everywhere.
 */

import type { AnthropicThinking } from "../../formats/anthropic/types.ts";
import type { ChatRequest } from "../../formats/openai-requests.ts";
import { isRecord } from "../../formats/is-record.ts";
import { UnsupportedRequestError } from "../adapter.ts";

const EFFORT_BUDGETS = new Map([
  ["minimal", 1024],
  ["low", 2048],
  ["medium", 8192],
  ["high", 16384],
]);
const NO_THINKING_EFFORTS = new Set(["none", "disable"]);

/** What a thinking request keeps for the answer itself when `max_tokens` had to be raised. */
export const ANSWER_ROOM_AFTER_THINKING = 4096;

export function requestedThinking(body: ChatRequest): AnthropicThinking | undefined {
  if (body.thinking != null) {
    if (!isRecord(body.thinking) || typeof body.thinking.type !== "string") throw new UnsupportedRequestError('thinking must be an object like {"type": "enabled", "budget_tokens": 2048}.', "thinking");
    return { ...body.thinking } as AnthropicThinking;
  }
  const effort = body.reasoning_effort;
  if (effort == null) return undefined;
  const budget = typeof effort === "string" ? EFFORT_BUDGETS.get(effort) : undefined;
  if (budget !== undefined) return { type: "enabled", budget_tokens: budget };
  if (typeof effort === "string" && NO_THINKING_EFFORTS.has(effort)) return undefined;
  throw new UnsupportedRequestError(`reasoning_effort "${String(effort)}" is not one of none, minimal, low, medium, high.`, "reasoning_effort");
}

export function isThinkingOn(thinking: AnthropicThinking | undefined): boolean {
  return thinking?.type === "enabled" || thinking?.type === "adaptive";
}
