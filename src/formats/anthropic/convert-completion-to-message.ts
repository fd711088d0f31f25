/**
 * OpenAI `chat.completion` → Anthropic `Message`, the answer a `/v1/messages` client gets when the
 * provider behind the proxy speaks OpenAI.
 *
 * Content comes in Anthropic's order: thinking, text, tool_use. The id, stop reason and usage
 * mappings are exported for the stream writer, so a streamed and a whole answer read the same.
 *
 * Upstream bodies are provider JSON, not validated: every field is read defensively.
 */

import type { AnthropicContentBlock, AnthropicMessage, AnthropicRequest, AnthropicStopReason, AnthropicUsage } from "./types.ts";
import { isRecord } from "../is-record.ts";

export interface OpenAIUsage {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  /** DeepSeek's name for cached prompt tokens, the only one its older answers carry. */
  prompt_cache_hit_tokens?: number | null;
}

export interface OpenAIToolCall {
  index?: number;
  id?: string | null;
  type?: string;
  function?: { name?: string | null; arguments?: string | Record<string, unknown> | null } | null;
}

/** A `message` or a stream `delta`: the same fields, whole or in pieces. */
export interface OpenAIAssistantFields {
  content?: string | null;
  /** DeepSeek, Gemini (via this proxy) and most hosts of open models. */
  reasoning_content?: string | null;
  /** OpenRouter, Groq and newer vLLM/Ollama spell it `reasoning`. */
  reasoning?: string | null;
  refusal?: string | null;
  tool_calls?: OpenAIToolCall[] | null;
}

export interface OpenAIChatCompletion {
  id?: string | null;
  choices?: { index?: number; message?: OpenAIAssistantFields | null; finish_reason?: string | null }[] | null;
  usage?: OpenAIUsage | null;
}

export interface AnswerOptions {
  /** The client asked for `thinking.display: "omitted"`: no thinking blocks in the answer (see `thinkingOmitted`). */
  omitThinking?: boolean;
}

export function convertCompletionToMessage(completion: OpenAIChatCompletion, model: string, options: AnswerOptions = {}): AnthropicMessage {
  const choice = completion.choices?.[0];
  const message = choice?.message ?? {};
  const toolCalls = message.tool_calls ?? [];
  const thinking = options.omitThinking === true ? [] : thinkingBlocks(message);
  return {
    id: messageIdFor(completion.id),
    type: "message",
    role: "assistant",
    model,
    content: [...thinking, ...textBlocks(message), ...toolCalls.map(toolUseBlock)],
    stop_reason: stopReasonFor(choice?.finish_reason, toolCalls.length > 0),
    stop_sequence: null,
    stop_details: null,
    usage: { ...convertUsage(completion.usage), cache_creation_input_tokens: 0 },
  };
}

/**
 * Whether the client asked not to see the thinking (`display: "omitted"`, Claude Code's default).
 * Anthropic then still sends thinking blocks, with empty text, for one reason: their signature
 * lets the API restore the thinking when the block comes back next turn. OpenAI-shaped hosts give
 * no signature, so such a block would carry nothing at all; the translated answer leaves thinking
 * blocks out instead, whole and streamed alike, and the client simply sees text and tool calls.
 */
export function thinkingOmitted(request: Pick<AnthropicRequest, "thinking">): boolean {
  const thinking = request.thinking;
  return thinking !== undefined && thinking.type !== "disabled" && thinking.display === "omitted";
}

/**
 * `msg_` plus the upstream id (its `chatcmpl-` prefix dropped), so a client's message id leads to
 * the provider's request in logs; a random one when the provider sent none.
 */
export function messageIdFor(completionId: string | null | undefined): string {
  const upstream = typeof completionId === "string" ? completionId.replace(/^chatcmpl-/, "") : "";
  return `msg_${upstream !== "" ? upstream : randomHex()}`;
}

function randomHex(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 24);
}

/** The reasoning text of a message or delta, under either field name; "" when there is none. */
export function reasoningOf(fields: OpenAIAssistantFields): string {
  if (typeof fields.reasoning_content === "string" && fields.reasoning_content !== "") return fields.reasoning_content;
  return typeof fields.reasoning === "string" ? fields.reasoning : "";
}

/**
 * The visible text: the content, or else the refusal, which is what the model said instead (OpenAI
 * structured-output refusals, blocked Gemini prompts); "" when there is neither.
 */
export function textOf(fields: OpenAIAssistantFields): string {
  if (typeof fields.content === "string" && fields.content !== "") return fields.content;
  return typeof fields.refusal === "string" ? fields.refusal : "";
}

/**
 * OpenAI-shaped hosts return no thinking signature, so it is "". The block is kept anyway: Claude
 * Code shows thinking, SDKs do not verify signatures, and sent back it becomes `reasoning_content`,
 * which DeepSeek needs on tool turns.
 */
function thinkingBlocks(message: OpenAIAssistantFields): AnthropicContentBlock[] {
  const thinking = reasoningOf(message);
  return thinking === "" ? [] : [{ type: "thinking", thinking, signature: "" }];
}

function textBlocks(message: OpenAIAssistantFields): AnthropicContentBlock[] {
  const text = textOf(message);
  return text === "" ? [] : [{ type: "text", text }];
}

/**
 * The call keeps the provider's id (`call_…`, not `toolu_…`): the client sends it back as
 * `tool_use_id`, and the provider must recognise it (the Gemini adapter even encodes state in it).
 */
function toolUseBlock(call: OpenAIToolCall): AnthropicContentBlock {
  return { type: "tool_use", id: toolUseIdFor(call.id), name: call.function?.name ?? "", input: parseToolInput(call.function?.arguments) };
}

/** A few hosts omit the id; Anthropic clients need one to answer the call. */
export function toolUseIdFor(id: string | null | undefined): string {
  return typeof id === "string" && id !== "" ? id : `toolu_${randomHex()}`;
}

/**
 * Tool input must be an object. Empty arguments mean no arguments. Arguments that are not a JSON
 * object (a model's broken JSON) are kept verbatim under `_raw` rather than dropped, so the client's
 * tool reports what it got instead of silently running with `{}`.
 */
function parseToolInput(raw: string | Record<string, unknown> | null | undefined): Record<string, unknown> {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== "string") return raw;
  if (raw.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (isRecord(parsed)) return parsed;
  } catch {
    // Falls through to _raw.
  }
  return { _raw: raw };
}

/**
 * The client's stop sequences reach the provider as `stop`, but OpenAI's `stop` finish does not say
 * whether one matched, so `stop_sequence` is never claimed. Tool calls win over a plain `stop`:
 * several hosts finish tool turns with `stop`, and agent loops look for `tool_use`.
 */
export function stopReasonFor(finishReason: string | null | undefined, madeToolCalls: boolean): AnthropicStopReason {
  switch (finishReason) {
    case "length":
    case "model_length": // Mistral
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return madeToolCalls ? "tool_use" : "end_turn";
  }
}

/**
 * Anthropic counts cached prompt tokens apart from `input_tokens`; OpenAI counts them inside
 * `prompt_tokens`. Nothing says which prompt tokens were written to a cache, so creation is left
 * to the caller (0 for a whole answer).
 */
export function convertUsage(usage: OpenAIUsage | null | undefined): AnthropicUsage {
  const prompt = usage?.prompt_tokens ?? 0;
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? usage?.prompt_cache_hit_tokens ?? 0;
  return { input_tokens: Math.max(0, prompt - cached), output_tokens: usage?.completion_tokens ?? 0, cache_read_input_tokens: cached };
}
