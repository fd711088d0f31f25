/**
 * The canonical request built from an Anthropic request carries fields that only the Gemini and
 * Anthropic adapters understand (`thinking`, `top_k`, `cache_control`, `is_error`, reasoning with
 * its signature). OpenAI-compatible hosts forward the body untouched, and strict ones (OpenAI,
 * vLLM) reject unknown arguments, so these are removed before such a host sees them.
 */

import type { ChatRequest } from "../openai-requests.ts";

/** `keepReasoning`: hosts such as DeepSeek want `reasoning_content` back on tool turns. */
export function stripAnthropicExtras(chat: ChatRequest, options: { keepReasoning: boolean }): ChatRequest {
  const { thinking: _thinking, top_k: _topK, ...rest } = chat;
  return {
    ...rest,
    messages: chat.messages.map((message) => {
      const { is_error: _isError, reasoning_signature: _signature, reasoning_content: reasoning, ...kept } = message;
      const content = Array.isArray(kept.content) ? kept.content.map(withoutCacheControl) : kept.content;
      return { ...kept, content, ...(options.keepReasoning && reasoning !== undefined ? { reasoning_content: reasoning } : {}) };
    }),
  };
}

function withoutCacheControl(part: unknown): unknown {
  if (typeof part !== "object" || part === null || !("cache_control" in part)) return part;
  const { cache_control: _cacheControl, ...rest } = part as Record<string, unknown>;
  return rest;
}
