/**
 * Anthropic usage → the engine's token counts. `input_tokens` excludes cache reads and writes, so
 * the prompt is their sum; cache reads are the cached tokens.
 */

import type { TokenUsage } from "../../outcome.ts";
import { tokenCount as count } from "../token-count.ts";

export function readAnthropicUsage(usage: unknown, previous?: TokenUsage): TokenUsage | undefined {
  if (typeof usage !== "object" || usage === null) return previous;
  const u = usage as Record<string, unknown>;
  const input = count(u.input_tokens);
  const created = count(u.cache_creation_input_tokens);
  const read = count(u.cache_read_input_tokens);
  const hasPrompt = u.input_tokens !== undefined || u.cache_creation_input_tokens !== undefined || u.cache_read_input_tokens !== undefined;
  return {
    // message_delta carries only output_tokens (cumulative): keep what message_start said of the prompt.
    promptTokens: hasPrompt ? input + created + read : (previous?.promptTokens ?? 0),
    completionTokens: u.output_tokens !== undefined ? count(u.output_tokens) : (previous?.completionTokens ?? 0),
    cachedTokens: hasPrompt ? read : (previous?.cachedTokens ?? 0),
    reasoningTokens: 0,
  };
}
