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

/** One `chat.completion.chunk` payload in the proxy's envelope, with the fields given (`choices`, `usage`). */
export function chunkPayload(context: CompletionContext, fields: Record<string, unknown>): string {
  return JSON.stringify({ id: context.id, object: "chat.completion.chunk", created: context.created, model: context.model, ...fields });
}

/** The single-choice delta chunk the converters of one-candidate families send. */
export function deltaChunk(context: CompletionContext, delta: Record<string, unknown>, finishReason: string | null = null): string {
  return chunkPayload(context, { choices: [{ index: 0, delta, finish_reason: finishReason }] });
}

/** The closing usage-only chunk (`choices: []`), as OpenAI sends it when asked for usage. */
export function usageChunk(context: CompletionContext, usage: OpenAIUsage): string {
  return chunkPayload(context, { choices: [], usage });
}
