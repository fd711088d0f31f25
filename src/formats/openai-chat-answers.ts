/**
 * The OpenAI answer shapes the family converters produce (`chat.completion`, its chunks, usage).
 * Plain types: the converters build them, the client reads them.
 */

/** The envelope the proxy decides for a translated answer: an upstream's own ids are not it. */
export interface CompletionContext {
  id: string;
  model: string;
  created: number;
}

export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  /** Absent when the upstream said nothing about reasoning tokens. */
  completion_tokens_details?: { reasoning_tokens: number };
}
