/**
 * OpenAI-shaped `usage` → the engine's token counts. Hosts differ in where they put cached and
 * reasoning tokens (DeepSeek: `prompt_cache_hit_tokens`; Groq also repeats usage in `x_groq`).
 */

import type { TokenUsage } from "../../outcome.ts";
import { tokenCount as count } from "../token-count.ts";

export function readOpenAIUsage(usage: unknown): TokenUsage | undefined {
  if (typeof usage !== "object" || usage === null) return undefined;
  const u = usage as Record<string, unknown>;
  // Chat names them prompt/completion, the Responses API input/output.
  const promptDetails = (u.prompt_tokens_details ?? u.input_tokens_details ?? {}) as Record<string, unknown>;
  const completionDetails = (u.completion_tokens_details ?? u.output_tokens_details ?? {}) as Record<string, unknown>;
  return {
    promptTokens: count(u.prompt_tokens ?? u.input_tokens),
    completionTokens: count(u.completion_tokens ?? u.output_tokens),
    cachedTokens: count(promptDetails.cached_tokens ?? u.prompt_cache_hit_tokens),
    reasoningTokens: count(completionDetails.reasoning_tokens),
  };
}
