/**
 * Canonical `chat.completion` → Responses `response` object, the answer a `/v1/responses` client
 * gets when the provider behind the proxy speaks chat.
 *
 * Output items come in the Responses order: reasoning, the message, then one item per tool call.
 * The envelope, item, status and usage builders are exported for the stream writer, so a streamed
 * and a whole answer read the same. The `output_text` convenience field is not on the wire (the
 * SDKs compute it), so it is not written.
 *
 * Upstream bodies are provider JSON, not validated: every field is read defensively.
 */

import { reasoningOf, type OpenAIChatCompletion, type OpenAIToolCall, type OpenAIUsage } from "../anthropic/convert-completion-to-message.ts";
import { isRecord } from "../is-record.ts";
import { itemId } from "./item-id.ts";
import { encodeReasoningCarrier } from "./reasoning-carrier.ts";
import { toolIdentity, type ToolNameMap } from "./tool-names.ts";
import type { ItemStatus, OutputCustomToolCall, OutputFunctionCall, OutputReasoning, OutputTextPart, RefusalPart, ResponseObject, ResponseOutputItem, ResponsesRequest, ResponseStatus, ResponseUsage } from "./types.ts";

export interface ResponseContext {
  /** `resp_…`, decided by the route. */
  id: string;
  /** Unix seconds. */
  createdAt: number;
  /** The model string as the client sent it (`gemini/gemini-2.5-flash`). */
  model: string;
  /** The request, whose settings the response echoes. */
  request: ResponsesRequest;
  tools: ToolNameMap;
  /**
   * `include` asked for `reasoning.encrypted_content`: the client's reasoning items then carry the
   * reasoning itself. The stored copy always carries it (see `visibleResponse`).
   */
  includeEncrypted: boolean;
}

/** A canonical message with the proxy's extension fields (see convert-messages-to-openai.ts). */
interface CanonicalMessage {
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  reasoning_signature?: string | null;
  refusal?: string | null;
  tool_calls?: OpenAIToolCall[] | null;
}

export interface Outcome {
  status: ResponseStatus;
  incomplete_details: ResponseObject["incomplete_details"];
}

/**
 * The whole response, its reasoning items carrying their reasoning (so a stored copy can continue
 * the conversation with the thinking signature intact); hand the client `visibleResponse` of it.
 */
export function convertCompletionToResponse(completion: Record<string, unknown>, context: ResponseContext): ResponseObject {
  const { choices, usage } = completion as OpenAIChatCompletion;
  const choice = choices?.[0];
  const message: CanonicalMessage = isRecord(choice?.message) ? choice.message : {};
  const outcome = outcomeFor(choice?.finish_reason);
  const itemStatus = statusOfItems(outcome);
  const output: ResponseOutputItem[] = [];
  const reasoning = reasoningOf(message);
  const signature = typeof message.reasoning_signature === "string" ? message.reasoning_signature : "";
  // Built with the carrier; `visibleResponse` takes it out again for a client that did not ask.
  if (reasoning !== "" || signature !== "") output.push(reasoningItem(reasoning, signature, true));
  const content = messageContent(message);
  if (content.length > 0) output.push({ type: "message", id: itemId("msg"), status: itemStatus, role: "assistant", content });
  for (const call of message.tool_calls ?? []) output.push(callItem(call.id, call.function?.name ?? "", argumentsText(call.function?.arguments), itemStatus, context.tools));
  return responseEnvelope(context, { ...outcome, output, usage: convertUsage(usage) });
}

/**
 * The text, then the refusal: a refusal is what the model said instead of an answer (structured
 * output refusals, blocked prompts), and Responses gives it its own part type.
 */
function messageContent(message: CanonicalMessage): (OutputTextPart | RefusalPart)[] {
  const parts: (OutputTextPart | RefusalPart)[] = [];
  if (typeof message.content === "string" && message.content !== "") parts.push(outputText(message.content));
  if (typeof message.refusal === "string" && message.refusal !== "") parts.push({ type: "refusal", refusal: message.refusal });
  return parts;
}

export function outputText(text: string): OutputTextPart {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

/**
 * Cut short by the token limit (`length`; Mistral says `model_length`) or by a content filter, the
 * response is incomplete and says why; any other finish is a completed response.
 */
export function outcomeFor(finishReason: string | null | undefined): Outcome {
  switch (finishReason) {
    case "length":
    case "model_length":
      return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
    case "content_filter":
      return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
    default:
      return { status: "completed", incomplete_details: null };
  }
}

/** Items of an incomplete response are incomplete too, as OpenAI marks them. */
export function statusOfItems(outcome: Outcome): ItemStatus {
  return outcome.status === "incomplete" ? "incomplete" : "completed";
}

/**
 * What the client sees of a response: without `encrypted_content` unless `include` asked for it, as
 * OpenAI answers. The store keeps the full one, so `previous_response_id` loses nothing.
 */
export function visibleResponse(response: ResponseObject, includeEncrypted: boolean): ResponseObject {
  if (includeEncrypted || !response.output.some(isCarried)) return response;
  return { ...response, output: response.output.map(visibleItem) };
}

export function visibleItem<Item extends ResponseOutputItem>(item: Item): Item {
  if (!isCarried(item)) return item;
  const { encrypted_content: _carried, ...rest } = item as OutputReasoning;
  return rest as Item;
}

function isCarried(item: ResponseOutputItem): boolean {
  return item.type === "reasoning" && item.encrypted_content !== undefined;
}

/**
 * The reasoning item: its text as the one summary part clients show, and, when asked for, the text
 * and signature in `encrypted_content`, so a stateless client's next turn gives them back.
 */
export function reasoningItem(text: string, signature: string, includeEncrypted: boolean, id = itemId("rs")): OutputReasoning {
  const item: OutputReasoning = { type: "reasoning", id, summary: text === "" ? [] : [{ type: "summary_text", text }] };
  if (includeEncrypted) item.encrypted_content = encodeReasoningCarrier(signature === "" ? { text } : { text, signature });
  return item;
}

/**
 * A tool call as the client named the tool: namespaced functions get their namespace back, and a
 * custom tool's call becomes a `custom_tool_call` with the text of its one `input` argument.
 */
export function callItem(callId: string | null | undefined, providerName: string, args: string, status: ItemStatus, tools: ToolNameMap, id?: string): OutputFunctionCall | OutputCustomToolCall {
  const identity = toolIdentity(tools, providerName);
  const call_id = typeof callId === "string" && callId !== "" ? callId : itemId("call");
  const namespace = identity.namespace === undefined ? {} : { namespace: identity.namespace };
  if (identity.kind === "custom") return { type: "custom_tool_call", id: id ?? itemId("ctc"), status, call_id, name: identity.name, ...namespace, input: customInput(args) };
  return { type: "function_call", id: id ?? itemId("fc"), status, call_id, name: identity.name, ...namespace, arguments: args };
}

/** The `input` the model wrote; arguments that are not `{"input": "…"}` go to the tool as they came. */
export function customInput(args: string): string {
  try {
    const parsed: unknown = JSON.parse(args);
    if (isRecord(parsed) && typeof parsed.input === "string") return parsed.input;
  } catch {
    // Falls through to the raw text.
  }
  return args;
}

/** A few hosts send arguments as an object rather than JSON text; the client needs JSON text. */
export function argumentsText(args: string | Record<string, unknown> | null | undefined): string {
  if (typeof args === "string") return args;
  return args === null || args === undefined ? "" : JSON.stringify(args);
}

type CanonicalUsage = OpenAIUsage & { completion_tokens_details?: { reasoning_tokens?: number | null } | null };

/**
 * Responses counts cached prompt tokens inside `input_tokens`, as chat does; DeepSeek's older
 * answers name them `prompt_cache_hit_tokens`. Reasoning tokens are part of the output tokens.
 */
export function convertUsage(usage: CanonicalUsage | null | undefined): ResponseUsage | null {
  if (usage == null) return null;
  const input = usage.prompt_tokens ?? 0;
  const output = usage.completion_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: input + output,
  };
}

interface EnvelopeFields extends Outcome {
  output: ResponseOutputItem[];
  usage: ResponseUsage | null;
  error?: ResponseObject["error"];
}

/**
 * The response object around the output, with the request's settings echoed and OpenAI's defaults
 * for those it left out, field for field as the recordings show them; the SDKs read several back.
 */
export function responseEnvelope(context: ResponseContext, fields: EnvelopeFields): ResponseObject {
  const request = context.request;
  return {
    id: context.id,
    object: "response",
    created_at: context.createdAt,
    status: fields.status,
    background: false,
    completed_at: fields.status === "completed" ? Math.floor(Date.now() / 1000) : null,
    error: fields.error ?? null,
    incomplete_details: fields.incomplete_details,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    max_tool_calls: typeof request.max_tool_calls === "number" ? request.max_tool_calls : null,
    model: context.model,
    output: fields.output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    prompt_cache_key: typeof request.prompt_cache_key === "string" ? request.prompt_cache_key : null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: request.reasoning?.summary ?? null },
    safety_identifier: typeof request.safety_identifier === "string" ? request.safety_identifier : null,
    service_tier: "default",
    store: request.store ?? true,
    temperature: request.temperature ?? 1,
    text: { format: request.text?.format ?? { type: "text" }, verbosity: request.text?.verbosity ?? "medium" },
    tool_choice: request.tool_choice ?? "auto",
    tools: request.tools ?? [],
    top_logprobs: typeof request.top_logprobs === "number" ? request.top_logprobs : 0,
    top_p: request.top_p ?? 1,
    truncation: typeof request.truncation === "string" ? request.truncation : "disabled",
    usage: fields.usage,
    user: typeof request.user === "string" ? request.user : null,
    metadata: request.metadata ?? {},
  };
}
