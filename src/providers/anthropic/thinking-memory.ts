/**
 * Claude's thinking blocks, kept between turns by the tool call ids they led to.
 *
 * With thinking on, Anthropic wants the assistant turn that made a tool call sent back with its
 * thinking blocks first, each with the exact `signature` it came with, or it answers 400. OpenAI
 * clients only echo what OpenAI defines: `reasoning_content` maybe, signatures never. The tool call
 * id is the one thing every client sends back verbatim, so the proxy remembers the blocks of an
 * answer under each of its tool call ids and puts them back when a later request names one.
 *
 * The memory lives in this process and is bounded: least recently used entries go first. A miss
 * (a restart, another proxy instance, a very old turn) is survivable, since the request converter
 * turns thinking off for that request instead of sending a turn Anthropic would refuse.
 */

import type { AnthropicRedactedThinkingBlock, AnthropicThinkingBlock } from "../../formats/anthropic/types.ts";

export type ThinkingBlock = AnthropicThinkingBlock | AnthropicRedactedThinkingBlock;

export interface ThinkingMemory {
  /** Keep the thinking blocks of the answer that made tool call `toolCallId`, in answer order. */
  remember(toolCallId: string, blocks: readonly ThinkingBlock[]): void;
  /** The blocks remembered for `toolCallId`, or undefined when there are none (or no longer). */
  recall(toolCallId: string): ThinkingBlock[] | undefined;
}

/**
 * Sized for thousands of live tool loops: a thinking block is a few kB at most, and a tool loop
 * only needs its latest turn remembered.
 */
const DEFAULT_MAX_ENTRIES = 5000;

export function createThinkingMemory({ maxEntries = DEFAULT_MAX_ENTRIES }: { maxEntries?: number } = {}): ThinkingMemory {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, not ${maxEntries}`);
  // A Map iterates in insertion order, so re-inserting on use keeps the least recently used first.
  const entries = new Map<string, ThinkingBlock[]>();

  return {
    remember(toolCallId, blocks) {
      if (blocks.length === 0) return;
      entries.delete(toolCallId);
      entries.set(toolCallId, blocks.map(copyBlock));
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    },
    recall(toolCallId) {
      const blocks = entries.get(toolCallId);
      if (blocks === undefined) return undefined;
      entries.delete(toolCallId);
      entries.set(toolCallId, blocks);
      return blocks.map(copyBlock);
    },
  };
}

/** Callers get and give copies, so a request being built can never alter what is remembered. */
function copyBlock(block: ThinkingBlock): ThinkingBlock {
  return block.type === "thinking"
    ? { type: "thinking", thinking: block.thinking, signature: block.signature }
    : { type: "redacted_thinking", data: block.data };
}
