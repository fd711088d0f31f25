/**
 * Anthropic Messages answer → OpenAI `chat.completion` (providers.md §4.7).
 *
 * Text blocks become `content`, thinking becomes `reasoning_content` (the DeepSeek-style field
 * OpenAI clients that show reasoning already read) with the last thinking block's signature in the
 * proxy's `reasoning_signature` field (a Responses client carries it to the next turn, where
 * `thinkingFor` rebuilds the block from the two), and `tool_use` blocks become tool calls that
 * keep Anthropic's `toolu_…` ids. The thinking blocks themselves, signatures and redacted ones
 * included, go to the thinking memory under each tool call id, because the client will not send
 * them back and Anthropic needs them on the next turn of the tool loop.
 *
 * Usage, refusal text and the memory hand-off are exported for the stream converter, so that a
 * streamed and a whole answer read the same.
 */

import type { AnthropicContentBlock, AnthropicMessage, AnthropicToolUseBlock, AnthropicUsage } from "../../formats/anthropic/types.ts";
import type { CompletionContext, OpenAIToolCall, OpenAIUsage } from "../../formats/openai-chat-answers.ts";
import { mapAnthropicStopReason } from "./map-anthropic-stop-reason.ts";
import type { ThinkingBlock, ThinkingMemory } from "./thinking-memory.ts";
import { isRecord } from "../../formats/is-record.ts";
import { tokenCount } from "../token-count.ts";

/** The OpenAI envelope the caller decides: Anthropic's `msg_…` id and dated model id are not it. */
export type AnthropicConversionContext = CompletionContext;

/** Said when Anthropic stops for a refusal without explaining it in `stop_details`. */
const DEFAULT_REFUSAL = "Claude declined to continue this answer (stop_reason: refusal).";

/**
 * Anthropic counts cache reads and writes apart from `input_tokens`; OpenAI's `prompt_tokens` is
 * everything the model read, with the cache hits repeated in `cached_tokens`. Output tokens include
 * thinking on both sides; newer answers also say how many of them were thinking. Every count goes
 * through `tokenCount`: the fields are untyped JSON, and an answer may lack `usage` altogether.
 */
export function convertAnthropicUsage(usage: Partial<AnthropicUsage> | undefined): OpenAIUsage {
  const reported: Partial<AnthropicUsage> = isRecord(usage) ? usage : {};
  const cacheRead = tokenCount(reported.cache_read_input_tokens);
  const promptTokens = tokenCount(tokenCount(reported.input_tokens) + tokenCount(reported.cache_creation_input_tokens) + cacheRead);
  const completionTokens = tokenCount(reported.output_tokens);
  const converted: OpenAIUsage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: tokenCount(promptTokens + completionTokens),
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
  const thinkingTokens = isRecord(reported.output_tokens_details) ? reported.output_tokens_details.thinking_tokens : undefined;
  if (typeof thinkingTokens === "number") converted.completion_tokens_details = { reasoning_tokens: tokenCount(thinkingTokens) };
  return converted;
}

/** The explanation Anthropic gives in `stop_details` for a refusal, or a plain statement of it. */
export function refusalText(stopDetails: unknown): string {
  const explanation = isRecord(stopDetails) ? stopDetails.explanation : undefined;
  return typeof explanation === "string" && explanation !== "" ? explanation : DEFAULT_REFUSAL;
}

/** Every tool call of one answer leads back to all of that answer's thinking. */
export function rememberThinking(memory: ThinkingMemory, toolCallIds: readonly string[], blocks: readonly ThinkingBlock[]): void {
  if (blocks.length === 0) return;
  for (const id of toolCallIds) memory.remember(id, blocks);
}

export function convertAnthropicResponse(message: AnthropicMessage, context: AnthropicConversionContext, memory: ThinkingMemory): Record<string, unknown> {
  const { text, reasoning, signature, toolCalls, thinking } = sortBlocks(message.content ?? []);
  rememberThinking(memory, toolCalls.map((call) => call.id), thinking);

  const finishReason = mapAnthropicStopReason(message.stop_reason);
  const reply: Record<string, unknown> = { role: "assistant", content: text || null };
  if (reasoning) reply.reasoning_content = reasoning;
  if (signature) reply.reasoning_signature = signature;
  if (toolCalls.length > 0) reply.tool_calls = toolCalls;
  if (message.stop_reason === "refusal") reply.refusal = refusalText(message.stop_details);
  return {
    id: context.id,
    object: "chat.completion",
    created: context.created,
    model: context.model,
    choices: [{ index: 0, message: reply, finish_reason: finishReason }],
    usage: convertAnthropicUsage(message.usage),
  };
}

/** An answer's content blocks sorted into the fields OpenAI keeps apart (Claude's, wherever it is served). */
export interface SortedBlocks {
  text: string;
  reasoning: string;
  /** One field holds one signature; with several thinking blocks it is the last one's. */
  signature: string;
  toolCalls: OpenAIToolCall[];
  /** Thinking and redacted thinking blocks as they came, for the memory. */
  thinking: ThinkingBlock[];
}

/** Block kinds OpenAI has no field for (server tool results, citations-only blocks) are left out. */
function sortBlocks(blocks: AnthropicContentBlock[]): SortedBlocks {
  const sorted: SortedBlocks = { text: "", reasoning: "", signature: "", toolCalls: [], thinking: [] };
  for (const block of blocks) {
    switch (block.type) {
      case "text":
        sorted.text += block.text;
        break;
      case "thinking":
        sorted.reasoning += block.thinking;
        if (block.signature) sorted.signature = block.signature;
        sorted.thinking.push(block);
        break;
      case "redacted_thinking":
        // Encrypted: nothing a client can read, but Anthropic needs it back all the same.
        sorted.thinking.push(block);
        break;
      case "tool_use":
        sorted.toolCalls.push(convertToolUse(block));
        break;
    }
  }
  return sorted;
}

function convertToolUse(block: AnthropicToolUseBlock): OpenAIToolCall {
  return { id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } };
}
