/**
 * OpenAI Chat Completions body → Anthropic Messages body (providers.md §4.7).
 *
 * System and developer messages, wherever they stand (Claude Code puts one after the turns), become
 * the top-level `system`, in order, so any model takes them; user, assistant and tool messages
 * become alternating user/assistant turns (tool results are user content to Anthropic, and
 * consecutive same-role turns are merged here rather than left to the API). Tools, tool choice,
 * stop sequences, sampling, structured output and reasoning go to their Anthropic fields.
 *
 * Decisions, where Anthropic and OpenAI differ:
 * - `max_tokens` is required by Anthropic. It is `max_completion_tokens ?? max_tokens`, else 8192
 *   (4096 on Claude 3 models, their ceiling): enough for a long answer, yet small, because
 *   Anthropic checks the output-token rate limit against `max_tokens` before generating. With a
 *   thinking budget it must exceed the budget, so a smaller value is raised to budget + 4096.
 * - `reasoning_effort` minimal/low/medium/high → `thinking.budget_tokens` 1024/2048/8192/16384
 *   (1024 is Anthropic's floor; medium matches what Google's OpenAI-compatible endpoint spends;
 *   high is where Anthropic's guide puts complex tasks). `none` (and the original proxy's
 *   `disable`) ask for no thinking. A `thinking` object in Anthropic's own shape, which the original
 *   proxy accepted, passes through as given and wins over `reasoning_effort`.
 * - With thinking on, Anthropic allows no sampling changes (temperature must be 1, no top_k, top_p
 *   only 0.95–1), so temperature, top_p and top_k are dropped. Otherwise temperature is clamped
 *   from OpenAI's 0–2 to Anthropic's 0–1, and top_p is dropped when temperature is given, as
 *   Claude 4.5 and later reject the two together and OpenAI clients often send both.
 * - Thinking is turned off for the request, rather than earning a 400, when Anthropic would refuse
 *   it: when `tool_choice` forces a tool (not allowed with budgeted thinking), and when the turn in
 *   progress (the assistant messages after the last user message that is not tool results) starts
 *   with an assistant message that has no thinking block to send back — the thinking memory lost
 *   it, or another model made the call. Older turns need none: Anthropic drops their thinking.
 *   Without thinking on, no thinking blocks are sent at all.
 * - `response_format` json_schema → `output_config.format`. json_object has no Anthropic
 *   counterpart (structured output needs a full schema, and prefilling "{" is refused with
 *   thinking and by newer models), so it becomes a closing system note asking for JSON only.
 * - `user` → `metadata.user_id`. `parallel_tool_calls: false` → `disable_parallel_tool_use`.
 *   `strict` on tools is dropped: it only tightens validation, and older models reject it.
 * - `n` > 1 is refused: Anthropic gives one answer per request, and a client that asked for several
 *   would silently get one. `logprobs`, `top_logprobs`, `logit_bias`, `seed`, the penalties and
 *   the other fields Anthropic has no use for are dropped: each only tunes or decorates an answer
 *   that still comes back in the shape the client expects.
 *
 * Input that has no Anthropic form (audio, OpenAI file ids, a tool message answering no earlier
 * tool call…) throws `UnsupportedRequestError`, naming the offending field the way OpenAI does
 * (`messages[3].tool_call_id`), so the client gets a 400 instead of a vaguer upstream one.
 */

import type { AnthropicContentBlock, AnthropicDocumentBlock, AnthropicImageBlock, AnthropicRequest, AnthropicRole, AnthropicTextBlock, AnthropicThinking, AnthropicTool, AnthropicToolChoice, AnthropicToolResultBlock, AnthropicToolUseBlock } from "../../formats/anthropic/types.ts";
import type { ChatRequest } from "../../formats/openai-requests.ts";
import { UnsupportedRequestError } from "../adapter.ts";
import type { ThinkingBlock, ThinkingMemory } from "./thinking-memory.ts";
import { isRecord } from "../../formats/is-record.ts";
import { parseToolArguments, requireString } from "../read-message-fields.ts";
import { ANSWER_ROOM_AFTER_THINKING, isThinkingOn, requestedThinking } from "./claude-thinking.ts";

type Message = ChatRequest["messages"][number];
type MediaBlock = AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock;

/** A turn as built here: content is always a block list, so turns can be merged and inspected. */
interface Turn {
  role: AnthropicRole;
  content: AnthropicContentBlock[];
}

const DEFAULT_MAX_TOKENS = 8192;
const CLAUDE_3_MAX_TOKENS = 4096;


const JSON_ONLY_NOTE = "Respond with a single valid JSON object and nothing else: no text before or after it, no Markdown code fence.";

/** Anthropic's input schema must be an object schema; a function without parameters takes none. */
const NO_PARAMETERS = { type: "object", properties: {} };

const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);
const PDF_TYPE = "application/pdf";
const TEXT_TYPE = "text/plain";

/** Types a bare base64 `file_data` may be, by its `filename` extension. */
const MIME_BY_EXTENSION = new Map([
  ["pdf", PDF_TYPE],
  ["txt", TEXT_TYPE],
  ["md", TEXT_TYPE],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["png", "image/png"],
  ["gif", "image/gif"],
  ["webp", "image/webp"],
]);

const TOOL_CHOICES = new Map<string, AnthropicToolChoice>([
  ["auto", { type: "auto" }],
  ["required", { type: "any" }],
  ["none", { type: "none" }],
]);

export function convertToAnthropicRequest(body: ChatRequest, model: string, memory: ThinkingMemory): AnthropicRequest {
  if (body.n != null && body.n > 1) throw new UnsupportedRequestError("Anthropic gives one answer per request; n must be 1.", "n");

  const tools = convertTools(body.tools);
  const toolChoice = tools.length > 0 ? convertToolChoice(body.tool_choice, body.parallel_tool_calls) : undefined;
  let thinking = requestedThinking(body);
  if (thinking?.type === "enabled" && (toolChoice?.type === "any" || toolChoice?.type === "tool")) thinking = undefined;
  let converted = convertMessages(body.messages, memory, isThinkingOn(thinking));
  if (isThinkingOn(thinking) && turnInProgressLacksThinking(converted.messages)) {
    thinking = undefined;
    converted = convertMessages(body.messages, memory, false);
  }
  const { system, messages } = converted;
  if (messages.length === 0) throw new UnsupportedRequestError("Anthropic needs at least one user or assistant message besides the system prompt.", "messages");

  const request: AnthropicRequest = { model, max_tokens: maxTokens(body, model, thinking), messages };
  const jsonOutput = requestedJsonOutput(body.response_format);
  if (jsonOutput === "any") system.push({ type: "text", text: JSON_ONLY_NOTE });
  else if (jsonOutput !== undefined) request.output_config = { format: jsonOutput };
  if (system.length > 0) request.system = system;
  if (tools.length > 0) request.tools = tools;
  if (toolChoice !== undefined) request.tool_choice = toolChoice;
  if (thinking !== undefined) request.thinking = thinking;
  Object.assign(request, sampling(body, isThinkingOn(thinking)));
  const stopSequences = convertStop(body.stop);
  if (stopSequences.length > 0) request.stop_sequences = stopSequences;
  if (typeof body.user === "string" && body.user !== "") request.metadata = { user_id: body.user };
  request.stream = body.stream === true;
  return request;
}

function convertMessages(messages: Message[], memory: ThinkingMemory, withThinking: boolean): { system: AnthropicTextBlock[]; messages: Turn[] } {
  const system: AnthropicTextBlock[] = [];
  const turns: Turn[] = [];
  const callIds = new Set<string>();
  messages.forEach((message, index) => {
    const at = `messages[${index}]`;
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...textOnlyBlocks(message.content, `${at}.content`));
        break;
      case "user":
        appendTurn(turns, "user", mediaBlocks(message.content, `${at}.content`));
        break;
      case "assistant":
        appendTurn(turns, "assistant", assistantBlocks(message, at, memory, withThinking, callIds));
        break;
      case "tool":
        appendTurn(turns, "user", [toolResult(message, at, callIds)]);
        break;
      default:
        throw new UnsupportedRequestError(`${at}.role "${message.role}" is not one of system, developer, user, assistant, tool.`, `${at}.role`);
    }
  });
  return { system, messages: turns.map(toolResultsFirst) };
}

/** Turns must alternate, so a message with the same role as the last turn joins it. */
function appendTurn(turns: Turn[], role: AnthropicRole, content: AnthropicContentBlock[]): void {
  if (content.length === 0) return;
  const last = turns.at(-1);
  if (last?.role === role) last.content.push(...content);
  else turns.push({ role, content });
}

/** Anthropic wants a user turn's tool results before anything else in it. */
function toolResultsFirst(turn: Turn): Turn {
  if (turn.role !== "user") return turn;
  const results = turn.content.filter((block) => block.type === "tool_result");
  if (results.length === 0) return turn;
  return { role: "user", content: [...results, ...turn.content.filter((block) => block.type !== "tool_result")] };
}

/** System/developer content: a string or text parts, nothing else. */
function textOnlyBlocks(content: Message["content"], path: string): AnthropicTextBlock[] {
  if (typeof content === "string") return textBlock(content);
  if (content == null) return [];
  return content.flatMap((part, index) => {
    const at = `${path}[${index}]`;
    if (isRecord(part) && part.type === "text") return textBlock(requireString(part.text, `${at}.text`), part);
    throw new UnsupportedRequestError(`${at} must be a text part here.`, `${at}.type`);
  });
}

/** Anthropic rejects empty text blocks, and an empty one carries nothing anyway. `cache_control` is kept for prompt caching. */
function textBlock(text: string, part?: Record<string, unknown>): AnthropicTextBlock[] {
  if (text === "") return [];
  return [withCacheControl({ type: "text", text }, part)];
}

function withCacheControl<T extends MediaBlock>(block: T, part: Record<string, unknown> | undefined): T {
  if (part?.cache_control != null) block.cache_control = part.cache_control;
  return block;
}

/** User content (and tool results, which may carry images too): text, images and files. */
function mediaBlocks(content: Message["content"], path: string): MediaBlock[] {
  if (typeof content === "string") return textBlock(content);
  if (content == null) return [];
  return content.flatMap((part, index) => mediaBlock(part, `${path}[${index}]`));
}

function mediaBlock(part: unknown, path: string): MediaBlock[] {
  if (!isRecord(part)) throw new UnsupportedRequestError(`${path} must be a content part object.`, path);
  switch (part.type) {
    case "text":
      return textBlock(requireString(part.text, `${path}.text`), part);
    case "image_url":
      return [withCacheControl(imageBlock(part.image_url, `${path}.image_url`), part)];
    case "file":
      return [withCacheControl(fileBlock(part.file, `${path}.file`), part)];
    case "input_audio":
      throw new UnsupportedRequestError(`${path}: Anthropic models do not take audio input.`, `${path}.type`);
    default:
      throw new UnsupportedRequestError(`${path}.type "${String(part.type)}" cannot be sent to Anthropic.`, `${path}.type`);
  }
}

/** `image_url` is `{url}` per the spec; a bare string is accepted too, as several clients send it. */
function imageBlock(imageUrl: unknown, path: string): AnthropicImageBlock | AnthropicDocumentBlock {
  const url = typeof imageUrl === "string" ? imageUrl : isRecord(imageUrl) ? imageUrl.url : undefined;
  const urlPath = `${path}.url`;
  if (typeof url !== "string") throw new UnsupportedRequestError(`${urlPath} is required.`, urlPath);
  if (url.startsWith("data:")) {
    const { mediaType, data } = parseDataUrl(url, urlPath);
    return base64Block(mediaType, data, urlPath);
  }
  if (!/^https?:\/\//i.test(url)) throw new UnsupportedRequestError(`${urlPath} must be a base64 data URL or an http(s):// URL.`, urlPath);
  // Anthropic fetches URL sources itself; a PDF link has to be a document to be read as one.
  if (/\.pdf(?:[?#]|$)/i.test(url)) return { type: "document", source: { type: "url", url } };
  return { type: "image", source: { type: "url", url } };
}

/** `file_data` is a data URL or bare base64; bare base64 takes its type from `filename`, else it is a PDF (OpenAI's only file type). */
function fileBlock(file: unknown, path: string): AnthropicImageBlock | AnthropicDocumentBlock {
  if (!isRecord(file)) throw new UnsupportedRequestError(`${path} must be {file_data, filename}.`, path);
  const data = file.file_data;
  if (typeof data !== "string") {
    if (file.file_id !== undefined) throw new UnsupportedRequestError(`${path}.file_id refers to an OpenAI upload Anthropic cannot read; send file_data instead.`, `${path}.file_id`);
    throw new UnsupportedRequestError(`${path}.file_data is required.`, `${path}.file_data`);
  }
  if (data.startsWith("data:")) {
    const parsed = parseDataUrl(data, `${path}.file_data`);
    return base64Block(parsed.mediaType, parsed.data, `${path}.file_data`);
  }
  const mediaType = (typeof file.filename === "string" ? mimeFromName(file.filename) : undefined) ?? PDF_TYPE;
  return base64Block(mediaType, data, `${path}.file_data`);
}

/** Inline data as the block Anthropic reads it in: images as images, PDFs and plain text as documents. */
function base64Block(mediaType: string, data: string, path: string): AnthropicImageBlock | AnthropicDocumentBlock {
  if (IMAGE_TYPES.has(mediaType)) return { type: "image", source: { type: "base64", media_type: mediaType, data } };
  if (mediaType === PDF_TYPE) return { type: "document", source: { type: "base64", media_type: PDF_TYPE, data } };
  // Anthropic takes plain text documents as text, not base64.
  if (mediaType === TEXT_TYPE) return { type: "document", source: { type: "text", media_type: TEXT_TYPE, data: Buffer.from(data, "base64").toString("utf8") } };
  throw new UnsupportedRequestError(`${path} is ${mediaType}; Anthropic takes JPEG, PNG, GIF and WebP images, PDF and plain text documents.`, path);
}

/** `data:<mime>[;param…];base64,<data>`. `image/jpg` is a common misspelling Anthropic would refuse. */
function parseDataUrl(url: string, path: string): { mediaType: string; data: string } {
  const match = /^data:([^;,]+)[^,]*;base64,(.*)$/is.exec(url);
  if (!match) throw new UnsupportedRequestError(`${path} must be a base64 data URL (data:<mime>;base64,<data>).`, path);
  const mediaType = match[1]!.toLowerCase();
  return { mediaType: mediaType === "image/jpg" ? "image/jpeg" : mediaType, data: match[2]! };
}

function mimeFromName(name: string): string | undefined {
  const dot = name.lastIndexOf(".");
  return dot === -1 ? undefined : MIME_BY_EXTENSION.get(name.slice(dot + 1).toLowerCase());
}

/** Thinking first (Anthropic checks it is there), then what the assistant said, then its tool calls. */
function assistantBlocks(message: Message, at: string, memory: ThinkingMemory, withThinking: boolean, callIds: Set<string>): AnthropicContentBlock[] {
  const text = assistantText(message.content, `${at}.content`);
  const toolUses = toolUseBlocks(message.tool_calls, `${at}.tool_calls`, callIds);
  const thinking = withThinking ? thinkingFor(message, toolUses, memory) : [];
  return [...thinking, ...text, ...toolUses];
}

/**
 * The thinking blocks remembered for the message's tool calls (all calls of one answer share
 * them), else those the client sent itself: `reasoning_content` with its signature in the
 * non-standard `reasoning_signature` or `thinking_signature` field. Without a signature a client's
 * reasoning text is useless to Anthropic, which checks it.
 */
function thinkingFor(message: Message, toolUses: AnthropicToolUseBlock[], memory: ThinkingMemory): ThinkingBlock[] {
  for (const toolUse of toolUses) {
    const remembered = memory.recall(toolUse.id);
    if (remembered !== undefined) return remembered;
  }
  const signature = message.reasoning_signature ?? message.thinking_signature;
  if (typeof signature !== "string" || signature === "") return [];
  const thinking = typeof message.reasoning_content === "string" ? message.reasoning_content : "";
  return [{ type: "thinking", thinking, signature }];
}

/** Assistant content: a string, or text and refusal parts (a refusal is still what the model said). */
function assistantText(content: Message["content"], path: string): AnthropicTextBlock[] {
  if (typeof content === "string") return textBlock(content);
  if (content == null) return [];
  return content.flatMap((part, index) => {
    const at = `${path}[${index}]`;
    if (isRecord(part) && part.type === "text") return textBlock(requireString(part.text, `${at}.text`), part);
    if (isRecord(part) && part.type === "refusal") return textBlock(requireString(part.refusal, `${at}.refusal`));
    throw new UnsupportedRequestError(`${at} must be a text or refusal part in an assistant message.`, `${at}.type`);
  });
}

function toolUseBlocks(toolCalls: unknown, path: string, callIds: Set<string>): AnthropicToolUseBlock[] {
  if (toolCalls == null) return [];
  if (!Array.isArray(toolCalls)) throw new UnsupportedRequestError(`${path} must be an array.`, path);
  return toolCalls.map((call, index) => toolUseBlock(call, `${path}[${index}]`, callIds));
}

/** `type` may be missing (Mistral-style histories omit it). */
function toolUseBlock(call: unknown, path: string, callIds: Set<string>): AnthropicToolUseBlock {
  if (!isRecord(call)) throw new UnsupportedRequestError(`${path} must be a tool call object.`, path);
  if (call.type !== undefined && call.type !== "function") throw new UnsupportedRequestError(`${path}.type "${String(call.type)}" cannot be sent to Anthropic; only function calls can.`, `${path}.type`);
  const id = requireString(call.id, `${path}.id`);
  const fn = isRecord(call.function) ? call.function : {};
  const name = requireString(fn.name, `${path}.function.name`);
  callIds.add(id);
  return { type: "tool_use", id: anthropicToolId(id), name, input: parseToolArguments(fn.arguments, `${path}.function.arguments`) };
}

/**
 * Anthropic accepts only `[A-Za-z0-9_-]` in tool ids, while other providers' ids (that a chat may
 * have switched from) can hold `.` or `:`. The same mapping on both ends keeps call and result paired.
 */
function anthropicToolId(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, "_");
}

/**
 * A tool message must answer a call of an earlier assistant message: Anthropic refuses a
 * `tool_result` without its `tool_use`. OpenAI has no error flag on tool messages; the
 * non-standard `is_error: true` some clients send becomes Anthropic's.
 */
function toolResult(message: Message, at: string, callIds: Set<string>): AnthropicToolResultBlock {
  const id = requireString(message.tool_call_id, `${at}.tool_call_id`);
  if (!callIds.has(id)) throw new UnsupportedRequestError(`${at}.tool_call_id "${id}" matches no tool call of an earlier assistant message.`, `${at}.tool_call_id`);
  const result: AnthropicToolResultBlock = { type: "tool_result", tool_use_id: anthropicToolId(id) };
  const content = typeof message.content === "string" ? message.content : mediaBlocks(message.content, `${at}.content`);
  if (content.length > 0) result.content = content;
  if (message.is_error === true) result.is_error = true;
  return result;
}

/** The turn in progress must open with thinking when thinking is on; false when it has no assistant message yet. */
function turnInProgressLacksThinking(turns: Turn[]): boolean {
  let start = turns.length;
  while (start > 0 && !isNewUserTurn(turns[start - 1]!)) start--;
  const opening = turns.slice(start).find((turn) => turn.role === "assistant");
  if (opening === undefined) return false;
  const first = opening.content[0]?.type;
  return first !== "thinking" && first !== "redacted_thinking";
}

/** A user turn that carries tool results continues the assistant's turn; any other starts a new one. */
function isNewUserTurn(turn: Turn): boolean {
  return turn.role === "user" && !turn.content.some((block) => block.type === "tool_result");
}

function convertTools(tools: ChatRequest["tools"]): AnthropicTool[] {
  return (tools ?? []).map((tool, index) => {
    const path = `tools[${index}]`;
    if (tool.type !== "function") throw new UnsupportedRequestError(`${path}.type "${tool.type}" cannot be sent to Anthropic; only function tools can.`, `${path}.type`);
    const fn = isRecord(tool.function) ? tool.function : {};
    const converted: AnthropicTool = { name: requireString(fn.name, `${path}.function.name`) };
    if (typeof fn.description === "string") converted.description = fn.description;
    converted.input_schema = isRecord(fn.parameters) ? fn.parameters : NO_PARAMETERS;
    return converted;
  });
}

/** Only meaningful with tools, so the caller asks only then; `parallel_tool_calls` alone still needs a choice to ride on. */
function convertToolChoice(choice: ChatRequest["tool_choice"], parallelToolCalls: unknown): AnthropicToolChoice | undefined {
  const serial = parallelToolCalls === false;
  if (choice == null) return serial ? { type: "auto", disable_parallel_tool_use: true } : undefined;
  const converted = baseToolChoice(choice);
  return serial && converted.type !== "none" ? { ...converted, disable_parallel_tool_use: true } : converted;
}

function baseToolChoice(choice: NonNullable<ChatRequest["tool_choice"]>): AnthropicToolChoice {
  if (typeof choice === "string") {
    const converted = TOOL_CHOICES.get(choice);
    if (converted === undefined) throw new UnsupportedRequestError(`tool_choice "${choice}" is not one of auto, none, required.`, "tool_choice");
    return { ...converted };
  }
  const name = choice.type === "function" && isRecord(choice.function) ? choice.function.name : undefined;
  if (typeof name !== "string") throw new UnsupportedRequestError('tool_choice must be "auto", "none", "required" or {"type": "function", "function": {"name": …}}.', "tool_choice");
  return { type: "tool", name };
}

/** The thinking the client asked for, before any decision to turn it off. */

function maxTokens(body: ChatRequest, model: string, thinking: AnthropicThinking | undefined): number {
  const asked = body.max_completion_tokens ?? body.max_tokens ?? (/^claude-3-(?:haiku|sonnet|opus)/.test(model) ? CLAUDE_3_MAX_TOKENS : DEFAULT_MAX_TOKENS);
  // A passed-through `thinking` object is the client's: its budget is only trusted to be a number once checked.
  const budget = thinking?.type === "enabled" ? thinking.budget_tokens : undefined;
  return typeof budget === "number" && asked <= budget ? budget + ANSWER_ROOM_AFTER_THINKING : asked;
}

function sampling(body: ChatRequest, thinkingOn: boolean): Pick<AnthropicRequest, "temperature" | "top_p" | "top_k"> {
  if (thinkingOn) return {};
  const fields: Pick<AnthropicRequest, "temperature" | "top_p" | "top_k"> = {};
  if (body.temperature != null) fields.temperature = Math.min(Math.max(body.temperature, 0), 1);
  else if (body.top_p != null) fields.top_p = body.top_p;
  // Not OpenAI, but a common extension (OpenRouter, vLLM) with an exact Anthropic counterpart.
  if (typeof body.top_k === "number") fields.top_k = body.top_k;
  return fields;
}

/** Anthropic refuses stop sequences that are empty or only whitespace. */
function convertStop(stop: ChatRequest["stop"]): string[] {
  const sequences = typeof stop === "string" ? [stop] : (stop ?? []);
  return sequences.filter((sequence) => sequence.trim() !== "");
}

/**
 * The JSON the client asked for: a schema to hand to Anthropic's structured output, `"any"` for
 * json_object (or a json_schema format without a schema), undefined for plain text.
 */
function requestedJsonOutput(format: ChatRequest["response_format"]): { type: "json_schema"; schema: unknown } | "any" | undefined {
  if (format == null || format.type === "text") return undefined;
  if (format.type === "json_object") return "any";
  if (format.type !== "json_schema") throw new UnsupportedRequestError(`response_format.type "${format.type}" is not one of text, json_object, json_schema.`, "response_format.type");
  const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined;
  return isRecord(schema) ? { type: "json_schema", schema } : "any";
}

