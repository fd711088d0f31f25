/**
 * Gemini `usageMetadata` → OpenAI `usage`.
 *
 * The two count differently: Gemini's `candidatesTokenCount` leaves thoughts out and reports tool-use
 * prompt tokens apart, while OpenAI's `completion_tokens` includes reasoning and `prompt_tokens`
 * everything the model read. Gemini's `promptTokenCount` already includes cached content, as
 * OpenAI's `prompt_tokens` includes `cached_tokens`, so that one maps as is.
 */

import type { GeminiUsage } from "./gemini-types.ts";
import { tokenCount } from "../token-count.ts";
import type { OpenAIUsage as BaseOpenAIUsage } from "../../formats/openai-chat-answers.ts";

/** Gemini always reports thoughts (0 when none), so the details are always there. */
export type OpenAIUsage = Required<BaseOpenAIUsage>;

/** Every count goes through `tokenCount`: Gemini's are untyped JSON, and `{} + 0` is a string. */
export function convertGeminiUsage(usage: GeminiUsage): OpenAIUsage {
  const promptTokens = tokenCount(tokenCount(usage.promptTokenCount) + tokenCount(usage.toolUsePromptTokenCount));
  const reasoningTokens = tokenCount(usage.thoughtsTokenCount);
  const completionTokens = tokenCount(tokenCount(usage.candidatesTokenCount) + reasoningTokens);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: typeof usage.totalTokenCount === "number" ? tokenCount(usage.totalTokenCount) : tokenCount(promptTokens + completionTokens),
    prompt_tokens_details: { cached_tokens: tokenCount(usage.cachedContentTokenCount) },
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  };
}
