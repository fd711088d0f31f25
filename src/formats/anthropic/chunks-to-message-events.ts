/**
 * OpenAI `chat.completion.chunk` stream → Anthropic Messages SSE events, as one small state machine.
 *
 * The caller parses the upstream SSE, hands each chunk to `push`, and writes what comes back; every
 * method returns framed SSE text (`event: <name>\ndata: <json>\n\n`, several events or ""). The
 * sequence is Anthropic's: `message_start` first, then one block at a time — thinking, text and a
 * tool_use per OpenAI tool call index, in the order the provider streams them — each opened by
 * `content_block_start` and closed by `content_block_stop` before the next opens, indexes counting
 * from 0; then `message_delta` with the stop reason and usage, and `message_stop`. A failure ends the
 * stream with a single `event: error`, and nothing follows it.
 *
 * OpenAI chunks carry no thinking signatures, so thinking blocks close without a `signature_delta`
 * and keep the empty signature they opened with. With `omitThinking` (the client's
 * `display: "omitted"`) reasoning pieces are skipped and no thinking block is opened at all.
 */

import { convertUsage, messageIdFor, reasoningOf, stopReasonFor, textOf, toolUseIdFor, type OpenAIAssistantFields, type AnswerOptions, type OpenAIUsage } from "./convert-completion-to-message.ts";

export interface OpenAIChatCompletionChunk {
  id?: string | null;
  choices?: { index?: number; delta?: OpenAIAssistantFields | null; finish_reason?: string | null }[] | null;
  usage?: OpenAIUsage | null;
}

export interface MessageEventWriterOptions extends AnswerOptions {
  /** The model name the client asked for, echoed as Anthropic does. */
  model: string;
  /** Defaults to `msg_` + the first chunk's id. */
  messageId?: string;
  /** Prompt tokens counted locally; the provider's count only arrives with the last chunk. */
  inputTokensEstimate?: number;
}

export interface MessageEventWriter {
  push(chunk: OpenAIChatCompletionChunk): string;
  /** The upstream ended: close the open block, then `message_delta` and `message_stop`. */
  finish(): string;
  /** The stream failed after it began: one `event: error`, after which every method returns "". */
  error(error: { type: string; message: string }): string;
  /** A keep-alive for long silences (a model thinking before its first token); clients skip it. */
  ping(): string;
  /** Whether `message_start` went out, i.e. the answer has begun and can no longer become an HTTP error. */
  readonly started: boolean;
}

type OpenBlock = { kind: "thinking" | "text"; index: number } | { kind: "tool_use"; index: number; toolIndex: number };

export function createMessageEventWriter(options: MessageEventWriterOptions): MessageEventWriter {
  let started = false;
  let ended = false;
  let nextIndex = 0;
  let open: OpenBlock | undefined;
  const toolIndexesSeen = new Set<number>();
  let finishReason: string | null | undefined;
  let usage: OpenAIUsage | undefined;

  const start = (chunkId: string | null | undefined): string => {
    if (started) return "";
    started = true;
    const message = {
      id: options.messageId ?? messageIdFor(chunkId),
      type: "message",
      role: "assistant",
      model: options.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      stop_details: null,
      usage: { input_tokens: options.inputTokensEstimate ?? 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    return sseEvent("message_start", { type: "message_start", message });
  };

  const closeBlock = (): string => {
    if (open === undefined) return "";
    const index = open.index;
    open = undefined;
    return sseEvent("content_block_stop", { type: "content_block_stop", index });
  };

  const openBlock = (block: OpenBlock, contentBlock: Record<string, unknown>): string => {
    const closed = closeBlock();
    open = block;
    return closed + sseEvent("content_block_start", { type: "content_block_start", index: block.index, content_block: contentBlock });
  };

  const delta = (payload: Record<string, unknown>): string =>
    sseEvent("content_block_delta", { type: "content_block_delta", index: open!.index, delta: payload });

  const thinkingDelta = (thinking: string): string => {
    const opened = open?.kind === "thinking" ? "" : openBlock({ kind: "thinking", index: nextIndex++ }, { type: "thinking", thinking: "", signature: "" });
    return opened + delta({ type: "thinking_delta", thinking });
  };

  const textDelta = (text: string): string => {
    const opened = open?.kind === "text" ? "" : openBlock({ kind: "text", index: nextIndex++ }, { type: "text", text: "" });
    return opened + delta({ type: "text_delta", text });
  };

  /**
   * A new tool call index closes the open block and starts a tool_use block; argument fragments
   * follow as `input_json_delta`. Hosts stream calls one after another (as the recordings show), so
   * a fragment for a call whose block has closed cannot be placed — clients finalise a block at its
   * stop event — and is dropped.
   */
  const toolCallDeltas = (calls: NonNullable<OpenAIAssistantFields["tool_calls"]>): string => {
    let out = "";
    calls.forEach((call, position) => {
      const toolIndex = typeof call.index === "number" ? call.index : position;
      const fragment = argumentsFragment(call.function?.arguments);
      if (!toolIndexesSeen.has(toolIndex)) {
        toolIndexesSeen.add(toolIndex);
        const block = { type: "tool_use", id: toolUseIdFor(call.id), name: call.function?.name ?? "", input: {} };
        out += openBlock({ kind: "tool_use", index: nextIndex++, toolIndex }, block);
      } else if (open?.kind !== "tool_use" || open.toolIndex !== toolIndex) {
        return;
      }
      if (fragment !== "") out += delta({ type: "input_json_delta", partial_json: fragment });
    });
    return out;
  };

  return {
    push(chunk) {
      if (ended) return "";
      let out = start(chunk.id);
      if (chunk.usage) usage = chunk.usage;
      // Anthropic has one answer per message; with n > 1 only the first choice is told.
      const choice = chunk.choices?.find((candidate) => (candidate.index ?? 0) === 0);
      if (choice === undefined) return out;
      const fields = choice.delta ?? {};
      const thinking = options.omitThinking === true ? "" : reasoningOf(fields);
      if (thinking !== "") out += thinkingDelta(thinking);
      const text = textOf(fields);
      if (text !== "") out += textDelta(text);
      if (fields.tool_calls) out += toolCallDeltas(fields.tool_calls);
      if (choice.finish_reason) finishReason = choice.finish_reason;
      return out;
    },
    finish() {
      if (ended) return "";
      ended = true;
      const out = start(undefined) + closeBlock();
      return out + sseEvent("message_delta", messageDelta(finishReason, toolIndexesSeen.size > 0, usage)) + sseEvent("message_stop", { type: "message_stop" });
    },
    error(error) {
      if (ended) return "";
      ended = true;
      return sseEvent("error", { type: "error", error: { type: error.type, message: error.message } });
    },
    ping() {
      return ended ? "" : sseEvent("ping", { type: "ping" });
    },
    get started() {
      return started;
    },
  };
}

/**
 * The final stop reason and usage. Anthropic's `output_tokens` here is the whole answer's count;
 * input and cache reads are added only when the provider reported usage, so a client keeps the
 * estimate from `message_start` otherwise.
 */
function messageDelta(finishReason: string | null | undefined, madeToolCalls: boolean, usage: OpenAIUsage | undefined): Record<string, unknown> {
  const converted = convertUsage(usage);
  const reported = usage === undefined ? { output_tokens: 0 } : { output_tokens: converted.output_tokens, input_tokens: converted.input_tokens, cache_read_input_tokens: converted.cache_read_input_tokens };
  return { type: "message_delta", delta: { stop_reason: stopReasonFor(finishReason, madeToolCalls), stop_sequence: null, stop_details: null }, usage: reported };
}

/** A few hosts send arguments as an object rather than JSON text; the client still needs JSON text. */
function argumentsFragment(args: string | Record<string, unknown> | null | undefined): string {
  if (typeof args === "string") return args;
  return args === null || args === undefined ? "" : JSON.stringify(args);
}

function sseEvent(name: string, payload: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
}
