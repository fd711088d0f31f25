/**
 * Gemini `usageMetadata` → OpenAI `usage`.
 *
 * The two count differently: Gemini's `candidatesTokenCount` leaves thoughts out and reports tool-use
 * prompt tokens apart, while OpenAI's `completion_tokens` includes reasoning and `prompt_tokens`
 * everything the model read. Gemini's `promptTokenCount` already includes cached content, as
 * OpenAI's `prompt_tokens` includes `cached_tokens`, so that one maps as is.
 */

import type { GeminiUsage } from "./gemini-types.ts";
import type { OpenAIUsage as BaseOpenAIUsage } from "../../formats/openai-responses.ts";

/** Gemini always reports thoughts (0 when none), so the details are always there. */
export type OpenAIUsage = Required<BaseOpenAIUsage>;

export function convertGeminiUsage(usage: GeminiUsage): OpenAIUsage {
  const promptTokens = (usage.promptTokenCount ?? 0) + (usage.toolUsePromptTokenCount ?? 0);
  const reasoningTokens = usage.thoughtsTokenCount ?? 0;
  const completionTokens = (usage.candidatesTokenCount ?? 0) + reasoningTokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: usage.totalTokenCount ?? promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: reasoningTokens },
  };
}
