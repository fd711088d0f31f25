/**
 * Bedrock ConverseStream events → OpenAI `chat.completion.chunk` payloads.
 *
 * The caller decodes the `application/vnd.amazon.eventstream` frames and hands over each one's
 * type and parsed JSON payload: the `:event-type` header for an event, the `:exception-type` header
 * for an exception frame (`:message-type` exception). Converse streams content blocks by index:
 * text and reasoning deltas map one to one onto `content` and `reasoning_content` deltas (with a
 * reasoning signature as the proxy's `reasoning_signature`, as the Anthropic adapter streams it);
 * a toolUse block becomes one OpenAI tool call whose index counts the tool calls of the stream, its
 * id and name going out when it opens and its JSON arguments fragment by fragment. `messageStop`
 * gives the finish chunk; `metadata`, which follows it, carries the usage that goes out in the
 * closing usage chunk. Reasoning blocks are gathered whole for the thinking memory, which gets them
 * once the message says it is done.
 *
 * The events, as recorded (every payload may also carry a padding field `p` that means nothing):
 * `messageStart {role}`; `contentBlockStart {contentBlockIndex, start: {toolUse: {toolUseId, name}}}`
 * (only tool use blocks announce themselves; text and reasoning blocks open with their first delta);
 * `contentBlockDelta {contentBlockIndex, delta: {text} | {toolUse: {input}} | {reasoningContent:
 * {text} | {signature} | {redactedContent}}}`; `contentBlockStop {contentBlockIndex}`;
 * `messageStop {stopReason}`; `metadata {usage, metrics}`.
 *
 * An exception frame becomes one OpenAI-style error payload (see `converseExceptionPayload`), and
 * nothing after it counts. The converter only translates: the caller frames each payload as
 * `data: …` and appends `[DONE]`.
 */

import { isRecord } from "../../formats/is-record.ts";
import { deltaChunk, usageChunk, type CompletionContext } from "../../formats/openai-chat-answers.ts";
import { rememberThinking } from "../anthropic/convert-anthropic-response.ts";
import type { OpenAIFinishReason } from "../anthropic/map-anthropic-stop-reason.ts";
import type { ThinkingBlock, ThinkingMemory } from "../anthropic/thinking-memory.ts";
import type { ConverseUsage } from "./bedrock-types.ts";
import { convertConverseUsage, thinkingBlockOf } from "./convert-converse-response.ts";
import { mapConverseStopReason } from "./map-converse-stop-reason.ts";

export interface ConverseStreamConverter {
  /** The payloads one frame becomes; none for block ends, metadata and other bookkeeping. */
  push(eventType: string, payload: unknown): string[];
  /** The payloads that close the stream: the usage chunk, or the error of a stream cut short or empty. */
  finish(): string[];
}

/** What the converter keeps of an open content block, by its Converse index. */
type OpenBlock =
  | { kind: "text" }
  | { kind: "reasoning"; block: ThinkingBlock }
  | { kind: "tool_use"; toolIndex: number; argumentsSent: boolean };

type JsonObject = Record<string, unknown>;

/**
 * HTTP statuses of the ConverseStream exceptions, keyed in the stream's lower camel case. Shaped
 * into the numeric `code` the failure classifier reads, they sort themselves: 429 cools the key, 400
 * goes back to the client, 5xx (and 408) are retried elsewhere.
 */
const EXCEPTION_STATUS = new Map([
  ["throttlingException", 429],
  ["validationException", 400],
  ["modelTimeoutException", 408],
  ["internalServerException", 500],
  ["serviceUnavailableException", 503],
  ["modelNotReadyException", 503],
]);
const MODEL_STREAM_ERROR = "modelStreamErrorException";
/** An exception this table does not know: Bedrock's fault as far as anyone can tell, so retried. */
const UNKNOWN_EXCEPTION_STATUS = 500;

/**
 * A 200 stream that closes with neither content nor a finish said nothing: an upstream glitch, not
 * an answer. Shaped with a 5xx code so the engine classifies it as transient and rotates before the
 * client sees anything.
 */
const EMPTY_STREAM_ERROR = JSON.stringify({ error: { code: 502, type: "api_error", message: "Bedrock ended the stream without any content" } });
/** Content, then the end of the stream before messageStop said why it stopped: cut short, not an answer. */
const TRUNCATED_STREAM_ERROR = JSON.stringify({ error: { code: 502, type: "api_error", message: "Bedrock closed the stream before the message finished" } });

/**
 * The error payload of an exception frame: `{"error": {"code": <HTTP status>, "type": <exception
 * type as sent>, "message": …}}`. A modelStreamErrorException passes on the status and words of
 * the model behind it (`originalStatusCode`, `originalMessage`), which say more than its own
 * "Model Stream Error". Exception names are matched whatever the case of their first letter, so
 * the `x-amzn-ErrorType` names of HTTP errors (`ThrottlingException`) read the same.
 */
export function converseExceptionPayload(exceptionType: string, payload: unknown): string {
  const body = isRecord(payload) ? payload : {};
  const name = exceptionType.charAt(0).toLowerCase() + exceptionType.slice(1);
  const own = typeof body.message === "string" && body.message !== "" ? body.message : undefined;
  let code = EXCEPTION_STATUS.get(name) ?? UNKNOWN_EXCEPTION_STATUS;
  let message = own ?? `Bedrock sent ${exceptionType} without a message`;
  if (name === MODEL_STREAM_ERROR) {
    const original = body.originalStatusCode;
    if (typeof original === "number" && original >= 400 && original <= 599) code = original;
    if (typeof body.originalMessage === "string" && body.originalMessage !== "") message = own ? `${own}: ${body.originalMessage}` : body.originalMessage;
  }
  return JSON.stringify({ error: { code, type: exceptionType, message } });
}

/** Exception types all end so (AWS's naming rule), which tells them from event types. */
function isException(eventType: string): boolean {
  return eventType.endsWith("Exception");
}

export function createConverseStreamConverter(context: CompletionContext, memory?: ThinkingMemory): ConverseStreamConverter {
  const blocks = new Map<number, OpenBlock>();
  const thinking: ThinkingBlock[] = [];
  const toolCallIds: string[] = [];
  let usage: ConverseUsage | undefined;
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

  const startMessage = (): string[] => {
    if (announced) return [];
    announced = true;
    return [chunk({ role: "assistant", content: "" })];
  };

  /** Only tool use blocks start with an event of their own; their id and name go out at once. */
  const startBlock = (data: JsonObject): string[] => {
    const start = isRecord(data.start) ? data.start : {};
    if (!isRecord(start.toolUse)) return [];
    const toolIndex = toolCallIds.length;
    const id = stringOr(start.toolUse.toolUseId);
    toolCallIds.push(id);
    blocks.set(Number(data.contentBlockIndex), { kind: "tool_use", toolIndex, argumentsSent: false });
    return say({ tool_calls: [{ index: toolIndex, id, type: "function", function: { name: stringOr(start.toolUse.name), arguments: "" } }] });
  };

  /** Text and reasoning blocks open with their first delta: the block is made then. */
  const reasoningAt = (index: number): ThinkingBlock => {
    const open = blocks.get(index);
    if (open?.kind === "reasoning") return open.block;
    const block: ThinkingBlock = { type: "thinking", thinking: "", signature: "" };
    thinking.push(block);
    blocks.set(index, { kind: "reasoning", block });
    return block;
  };

  const extendBlock = (data: JsonObject): string[] => {
    const index = Number(data.contentBlockIndex);
    const delta = isRecord(data.delta) ? data.delta : {};
    if (typeof delta.text === "string") {
      if (!blocks.has(index)) blocks.set(index, { kind: "text" });
      return delta.text !== "" ? say({ content: delta.text }) : [];
    }
    if (isRecord(delta.toolUse)) {
      const open = blocks.get(index);
      // The first fragment is often "", which would only be noise to the client.
      if (open?.kind !== "tool_use" || !nonEmpty(delta.toolUse.input)) return [];
      open.argumentsSent = true;
      return say({ tool_calls: [{ index: open.toolIndex, function: { arguments: delta.toolUse.input } }] });
    }
    if (isRecord(delta.reasoningContent)) return extendReasoning(index, delta.reasoningContent);
    // Citations and delta kinds newer than this converter: nothing an OpenAI client reads.
    return [];
  };

  const extendReasoning = (index: number, reasoning: JsonObject): string[] => {
    if (nonEmpty(reasoning.redactedContent)) {
      // Encrypted: nothing a client can read, but Claude needs it back all the same.
      const redacted = thinkingBlockOf(reasoning);
      if (redacted !== undefined) thinking.push(redacted);
      return [];
    }
    const block = reasoningAt(index);
    if (block.type !== "thinking") return [];
    if (nonEmpty(reasoning.text)) {
      block.thinking += reasoning.text;
      return say({ reasoning_content: reasoning.text });
    }
    if (nonEmpty(reasoning.signature)) {
      block.signature += reasoning.signature;
      return [chunk({ reasoning_signature: reasoning.signature })];
    }
    return [];
  };

  /**
   * A tool without parameters may get no argument fragments at all, and `""` is not JSON: OpenAI
   * clients parse the arguments they assembled, so such a call closes with an empty object.
   */
  const stopBlock = (data: JsonObject): string[] => {
    const open = blocks.get(Number(data.contentBlockIndex));
    if (open?.kind !== "tool_use" || open.argumentsSent) return [];
    open.argumentsSent = true;
    return [chunk({ tool_calls: [{ index: open.toolIndex, function: { arguments: "{}" } }] })];
  };

  const endMessage = (data: JsonObject): string[] => {
    ended = true;
    if (memory !== undefined) rememberThinking(memory, toolCallIds, thinking.filter(isKeptThinking));
    return [chunk({}, mapConverseStopReason(typeof data.stopReason === "string" ? data.stopReason : "end_turn"))];
  };

  return {
    push(eventType, payload) {
      // Nothing after an exception belongs to the answer: the caller ends the stream with it.
      if (failed) return [];
      if (isException(eventType)) {
        failed = true;
        return [converseExceptionPayload(eventType, payload)];
      }
      const data = isRecord(payload) ? payload : {};
      switch (eventType) {
        case "messageStart":
          return startMessage();
        case "contentBlockStart":
          return startBlock(data);
        case "contentBlockDelta":
          return extendBlock(data);
        case "contentBlockStop":
          return stopBlock(data);
        case "messageStop":
          return endMessage(data);
        case "metadata":
          if (isRecord(data.usage)) usage = data.usage;
          return [];
        default:
          // Event types newer than this converter.
          return [];
      }
    },
    finish() {
      if (failed) return [];
      if (!ended) return [produced ? TRUNCATED_STREAM_ERROR : EMPTY_STREAM_ERROR];
      // Bedrock always follows messageStop with metadata; a stream that lost it still answered.
      if (usage === undefined) return [];
      return [usageChunk(context, convertConverseUsage(usage))];
    },
  };
}

/** A reasoning block that got neither text nor signature (a stray empty delta) is not worth sending back. */
function isKeptThinking(block: ThinkingBlock): boolean {
  return block.type !== "thinking" || block.thinking !== "" || block.signature !== "";
}

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}

function stringOr(value: unknown): string {
  return typeof value === "string" ? value : "";
}
