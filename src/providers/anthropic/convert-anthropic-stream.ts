/**
 * Anthropic Messages SSE events → OpenAI `chat.completion.chunk` payloads (providers.md §4.3, §4.7).
 *
 * Anthropic streams content blocks: each opens (`content_block_start`), grows by deltas and closes.
 * Text and thinking deltas map one to one onto `content` and `reasoning_content` deltas; a tool_use
 * block becomes one OpenAI tool call whose index counts the tool calls of the stream, its id and
 * name going out when it opens and its JSON arguments fragment by fragment. Thinking blocks are
 * gathered whole (text and signature) for the thinking memory, which gets them once the message
 * says it is done. Usage is split too: input and cache counts arrive in `message_start`, the
 * cumulative output count in `message_delta`; it all goes out in the closing usage chunk.
 *
 * The converter only translates: the caller parses the SSE, frames each payload as `data: …` and
 * appends `[DONE]`.
 */

import type { AnthropicThinkingBlock, AnthropicUsage } from "../../formats/anthropic/types.ts";
import { convertAnthropicUsage, refusalText, rememberThinking, type AnthropicConversionContext } from "./convert-anthropic-response.ts";
import { mapAnthropicStopReason, type OpenAIFinishReason } from "./map-anthropic-stop-reason.ts";
import type { ThinkingBlock, ThinkingMemory } from "./thinking-memory.ts";
import { isRecord } from "../../formats/is-record.ts";
import { deltaChunk, usageChunk } from "../../formats/openai-chat-answers.ts";

/** One parsed SSE event: the `event:` name when there was one, and the JSON of its `data:`. */
export interface AnthropicStreamEvent {
  event?: string;
  data: unknown;
}

export interface AnthropicStreamConverter {
  /** The payloads one upstream event becomes; none for pings, block ends and other bookkeeping. */
  push(event: AnthropicStreamEvent): string[];
  /** The payloads that close the stream: the usage chunk, or the error of a stream that said nothing. */
  finish(): string[];
}

/** What the converter keeps of an open content block, by the block's Anthropic index. */
type OpenBlock =
  | { kind: "text" }
  | { kind: "thinking"; block: AnthropicThinkingBlock }
  | { kind: "tool_use"; toolIndex: number; input: Record<string, unknown>; argumentsSent: boolean }
  | { kind: "ignored" };

type JsonObject = Record<string, unknown>;

/**
 * A 200 stream that closes with neither content nor a finish said nothing: an upstream glitch, not
 * an answer. The error is Anthropic-shaped, as the family's own errors are, so the engine classifies
 * it as transient and rotates before the client sees anything.
 */
const EMPTY_STREAM_ERROR = JSON.stringify({ error: { type: "api_error", message: "Anthropic ended the stream without any content" } });
/** Content, then the end of the stream before message_delta said why it stopped: cut short, not an answer. */
const TRUNCATED_STREAM_ERROR = JSON.stringify({ error: { type: "api_error", message: "Anthropic closed the stream before the message finished" } });

/** An `error` event without the error object in it, which the engine must still see as a failure. */
const UNDESCRIBED_ERROR = { type: "api_error", message: "Anthropic sent an error event without details" };

export function createAnthropicStreamConverter(context: AnthropicConversionContext, memory: ThinkingMemory): AnthropicStreamConverter {
  const blocks = new Map<number, OpenBlock>();
  const thinking: ThinkingBlock[] = [];
  const toolCallIds: string[] = [];
  const usage: Partial<AnthropicUsage> = {};
  let announced = false;
  let produced = false;
  let ended = false;
  let failed = false;

  const chunk = (delta: JsonObject, finishReason: OpenAIFinishReason | null = null): string => deltaChunk(context, delta, finishReason);

  /** A delta that carries part of the answer: it makes the stream worth more than the empty-stream error. */
  const say = (delta: JsonObject): string[] => {
    produced = true;
    return [chunk(delta)];
  };

  const startMessage = (data: JsonObject): string[] => {
    const message = isRecord(data.message) ? data.message : {};
    if (isRecord(message.usage)) takeUsage(usage, message.usage);
    if (announced) return [];
    announced = true;
    return [chunk({ role: "assistant", content: "" })];
  };

  const startBlock = (data: JsonObject): string[] => {
    const index = Number(data.index);
    const block = isRecord(data.content_block) ? data.content_block : {};
    switch (block.type) {
      case "text": {
        blocks.set(index, { kind: "text" });
        return nonEmpty(block.text) ? say({ content: block.text }) : [];
      }
      case "thinking": {
        const kept: AnthropicThinkingBlock = { type: "thinking", thinking: stringOr(block.thinking), signature: stringOr(block.signature) };
        thinking.push(kept);
        blocks.set(index, { kind: "thinking", block: kept });
        return nonEmpty(kept.thinking) ? say({ reasoning_content: kept.thinking }) : [];
      }
      case "redacted_thinking":
        thinking.push({ type: "redacted_thinking", data: stringOr(block.data) });
        blocks.set(index, { kind: "ignored" });
        return [];
      case "tool_use": {
        const toolIndex = toolCallIds.length;
        const id = stringOr(block.id);
        toolCallIds.push(id);
        blocks.set(index, { kind: "tool_use", toolIndex, input: isRecord(block.input) ? block.input : {}, argumentsSent: false });
        return say({ tool_calls: [{ index: toolIndex, id, type: "function", function: { name: stringOr(block.name), arguments: "" } }] });
      }
      default:
        // Server tool blocks and kinds newer than this converter have no OpenAI form.
        blocks.set(index, { kind: "ignored" });
        return [];
    }
  };

  const extendBlock = (data: JsonObject): string[] => {
    const open = blocks.get(Number(data.index));
    const delta = isRecord(data.delta) ? data.delta : {};
    switch (delta.type) {
      case "text_delta":
        return nonEmpty(delta.text) ? say({ content: delta.text }) : [];
      case "thinking_delta":
        if (!nonEmpty(delta.thinking)) return [];
        if (open?.kind === "thinking") open.block.thinking += delta.thinking;
        return say({ reasoning_content: delta.thinking });
      case "signature_delta":
        if (!nonEmpty(delta.signature)) return [];
        if (open?.kind === "thinking") open.block.signature += delta.signature;
        // The proxy's extension field, as in a whole answer: a Responses client carries it onward.
        return [chunk({ reasoning_signature: delta.signature })];
      case "input_json_delta":
        // The first fragment is often "", which would only be noise to the client.
        if (open?.kind !== "tool_use" || !nonEmpty(delta.partial_json)) return [];
        open.argumentsSent = true;
        return say({ tool_calls: [{ index: open.toolIndex, function: { arguments: delta.partial_json } }] });
      default:
        // citations_delta and newer kinds: nothing an OpenAI client reads.
        return [];
    }
  };

  /**
   * A tool without parameters gets no argument fragments at all, and `""` is not JSON: OpenAI
   * clients parse the arguments they assembled, so such a call closes with its (empty) input.
   */
  const stopBlock = (data: JsonObject): string[] => {
    const open = blocks.get(Number(data.index));
    if (open?.kind !== "tool_use" || open.argumentsSent) return [];
    open.argumentsSent = true;
    return [chunk({ tool_calls: [{ index: open.toolIndex, function: { arguments: JSON.stringify(open.input) } }] })];
  };

  const endMessage = (data: JsonObject): string[] => {
    ended = true;
    if (isRecord(data.usage)) takeUsage(usage, data.usage);
    rememberThinking(memory, toolCallIds, thinking);
    const delta = isRecord(data.delta) ? data.delta : {};
    const finishReason = mapAnthropicStopReason(typeof delta.stop_reason === "string" ? delta.stop_reason : null);
    return [chunk(delta.stop_reason === "refusal" ? { refusal: refusalText(delta.stop_details) } : {}, finishReason)];
  };

  const fail = (data: JsonObject): string[] => {
    failed = true;
    return [JSON.stringify({ error: isRecord(data.error) ? data.error : UNDESCRIBED_ERROR })];
  };

  return {
    push(event) {
      // Nothing after an error belongs to the answer: the caller ends the stream with it.
      if (failed) return [];
      const data = isRecord(event.data) ? event.data : {};
      if (event.event === "error" || data.type === "error") return fail(data);
      switch (data.type) {
        case "message_start":
          return startMessage(data);
        case "content_block_start":
          return startBlock(data);
        case "content_block_delta":
          return extendBlock(data);
        case "content_block_stop":
          return stopBlock(data);
        case "message_delta":
          return endMessage(data);
        default:
          // ping, message_stop and event kinds newer than this converter.
          return [];
      }
    },
    finish() {
      if (failed) return [];
      if (!ended) return [produced ? TRUNCATED_STREAM_ERROR : EMPTY_STREAM_ERROR];
      return [usageChunk(context, convertAnthropicUsage(usage))];
    },
  };
}

/**
 * Counts seen so far. `message_delta` may repeat the input and cache counts, final by then, next to
 * the cumulative output count; a null there means "not said", not zero.
 */
function takeUsage(usage: Partial<AnthropicUsage>, reported: JsonObject): void {
  for (const [field, value] of Object.entries(reported)) {
    if (value != null) usage[field] = value;
  }
}

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

function stringOr(value: unknown): string {
  return typeof value === "string" ? value : "";
}
