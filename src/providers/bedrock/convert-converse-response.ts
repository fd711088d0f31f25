/**
 * Bedrock Converse answer → OpenAI `chat.completion`.
 *
 * Text blocks become `content`; reasoning blocks become `reasoning_content` (the DeepSeek-style
 * field OpenAI clients that show reasoning already read), with the last signature in the proxy's
 * `reasoning_signature` field as the Anthropic adapter gives it; toolUse blocks become tool calls
 * that keep Bedrock's `tooluse_…` ids. The reasoning blocks themselves, signatures and redacted
 * ones included, go to the thinking memory under each tool call id, because the client will not
 * send them back and Claude needs them on the next turn of the tool loop. Block kinds OpenAI has no
 * field for (citations, guard content, images a model drew) are left out.
 *
 * Usage and the reasoning hand-off are exported for the stream converter, so that a streamed and a
 * whole answer read the same.
 */

import { isRecord } from "../../formats/is-record.ts";
import type { CompletionContext, OpenAIToolCall, OpenAIUsage } from "../../formats/openai-chat-answers.ts";
import { rememberThinking, type SortedBlocks } from "../anthropic/convert-anthropic-response.ts";
import type { ThinkingBlock, ThinkingMemory } from "../anthropic/thinking-memory.ts";
import { tokenCount } from "../token-count.ts";
import type { ConverseResponse, ConverseUsage } from "./bedrock-types.ts";
import { mapConverseStopReason } from "./map-converse-stop-reason.ts";

/**
 * Converse counts cache reads and writes apart from `inputTokens`; OpenAI's `prompt_tokens` is
 * everything the model read, with the cache hits repeated in `cached_tokens`. Output tokens include
 * any reasoning, which Converse does not count apart. Every count goes through `tokenCount`: the
 * fields are untyped JSON, and an answer may lack `usage` altogether.
 */
export function convertConverseUsage(usage: ConverseUsage | undefined): OpenAIUsage {
  const reported: ConverseUsage = isRecord(usage) ? usage : {};
  const cacheRead = tokenCount(reported.cacheReadInputTokens);
  const promptTokens = tokenCount(tokenCount(reported.inputTokens) + cacheRead + tokenCount(reported.cacheWriteInputTokens));
  const completionTokens = tokenCount(reported.outputTokens);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: tokenCount(promptTokens + completionTokens),
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}

/**
 * A Converse reasoning block in the shape the thinking memory keeps (the Anthropic adapter's, as
 * Bedrock's reasoning blocks are Claude's thinking blocks), or undefined for anything else.
 */
export function thinkingBlockOf(reasoning: unknown): ThinkingBlock | undefined {
  if (!isRecord(reasoning)) return undefined;
  if (typeof reasoning.redactedContent === "string") return { type: "redacted_thinking", data: reasoning.redactedContent };
  const text = isRecord(reasoning.reasoningText) ? reasoning.reasoningText : undefined;
  if (text === undefined) return undefined;
  return { type: "thinking", thinking: stringOr(text.text), signature: stringOr(text.signature) };
}

export function convertConverseResponse(answer: ConverseResponse, context: CompletionContext, memory?: ThinkingMemory): Record<string, unknown> {
  const content = isRecord(answer.output) && isRecord(answer.output.message) ? answer.output.message.content : undefined;
  const { text, reasoning, signature, toolCalls, thinking } = sortBlocks(Array.isArray(content) ? content : []);
  if (memory !== undefined) rememberThinking(memory, toolCalls.map((call) => call.id), thinking);

  const reply: Record<string, unknown> = { role: "assistant", content: text || null };
  if (reasoning) reply.reasoning_content = reasoning;
  if (signature) reply.reasoning_signature = signature;
  if (toolCalls.length > 0) reply.tool_calls = toolCalls;
  return {
    id: context.id,
    object: "chat.completion",
    created: context.created,
    model: context.model,
    // An answer without a reason is over all the same: it came whole.
    choices: [{ index: 0, message: reply, finish_reason: mapConverseStopReason(typeof answer.stopReason === "string" ? answer.stopReason : "end_turn") }],
    usage: convertConverseUsage(answer.usage),
  };
}

function sortBlocks(blocks: unknown[]): SortedBlocks {
  const sorted: SortedBlocks = { text: "", reasoning: "", signature: "", toolCalls: [], thinking: [] };
  for (const block of blocks) {
    if (!isRecord(block)) continue;
    if (typeof block.text === "string") sorted.text += block.text;
    else if (isRecord(block.toolUse)) sorted.toolCalls.push(convertToolUse(block.toolUse));
    else if (block.reasoningContent !== undefined) {
      const kept = thinkingBlockOf(block.reasoningContent);
      if (kept === undefined) continue;
      sorted.thinking.push(kept);
      if (kept.type !== "thinking") continue;
      sorted.reasoning += kept.thinking;
      if (kept.signature) sorted.signature = kept.signature;
    }
  }
  return sorted;
}

function convertToolUse(toolUse: Record<string, unknown>): OpenAIToolCall {
  return { id: stringOr(toolUse.toolUseId), type: "function", function: { name: stringOr(toolUse.name), arguments: JSON.stringify(toolUse.input ?? {}) } };
}

function stringOr(value: unknown): string {
  return typeof value === "string" ? value : "";
}
