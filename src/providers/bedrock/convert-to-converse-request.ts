/**
 * OpenAI Chat Completions body → Bedrock Converse body: the JSON of POST /model/{modelId}/converse
 * and /converse-stream. The model id travels in the URL, and whether to stream is the choice of
 * endpoint, so neither is in the body.
 *
 * System and developer messages, wherever they stand, become the top-level `system`, in order.
 * User, assistant and tool messages become alternating user/assistant turns: Converse refuses two
 * turns of one role in a row, so consecutive ones are merged here, and tool results (user content
 * to Converse) join the user turn they fall in, ahead of its other blocks as Claude requires.
 * Tools, tool choice, stop sequences, sampling and reasoning go to their Converse fields.
 *
 * Decisions, where Converse and OpenAI differ:
 * - `max_tokens` is `max_completion_tokens ?? max_tokens`, absent when neither is given (Converse
 *   then uses the model's own default). With a thinking budget it must exceed the budget, so a
 *   smaller or missing value becomes budget + 4096.
 * - `temperature` is clamped from OpenAI's 0–2 to Converse's 0–1.
 * - `reasoning_effort` only means something to Claude (model ids `anthropic.…` and inference
 *   profiles `us.anthropic.…`, `global.anthropic.…`): minimal/low/medium/high →
 *   `additionalModelRequestFields.thinking.budget_tokens` 1024/2048/8192/16384, the budgets the
 *   Anthropic adapter uses for the same models (1024 is Anthropic's floor). `none` asks for none.
 *   A `thinking` object in Anthropic's shape passes through as given and wins. With thinking on,
 *   Claude allows no sampling changes, so temperature, top_p and top_k are dropped; without it,
 *   top_p is dropped when temperature is given (Claude 4.5 and later refuse the two together) and
 *   `top_k`, a common extension, goes to `additionalModelRequestFields.top_k`. Other models' reasoning
 *   controls (Nova's `reasoningConfig`, DeepSeek's always-on reasoning) are not set: the effort is
 *   dropped for them.
 * - Thinking is turned off for the request, rather than earning a 400, when Claude would refuse it:
 *   when `tool_choice` forces a tool, and when the turn in progress (the assistant messages after
 *   the last user message that is not tool results) opens with an assistant message that has no
 *   reasoning block to send back. Earlier reasoning comes from the thinking memory (by tool call
 *   id, as the Anthropic adapter keeps it), else from the message's `reasoning_content` with its
 *   signature in `reasoning_signature` / `thinking_signature`. Without thinking on, and for every
 *   model other than Claude, an assistant message's reasoning is dropped: Converse would hand it to
 *   models that reject it, and it only informs, it does not steer.
 * - `tool_choice` auto/required/{function} → `{auto}`/`{any}`/`{tool}` (`any` and `tool` work on
 *   Claude, Mistral Large and Nova; others answer 400). Converse has no "none": the tools are left
 *   out. But Converse refuses toolUse and toolResult blocks without a `toolConfig`, so when the
 *   history holds some and no tools would be sent, the tools it used are declared by name with
 *   empty schemas — the least Bedrock accepts — and the model is then free to call them.
 * - Tool call ids must match `[A-Za-z0-9_-]{1,64}`: other characters become `_`, and a longer id
 *   (another provider's, such as this proxy's Gemini ids carrying a thought signature) is cut and
 *   suffixed with a hash of the whole, the same on the call and on its result, so the pair stays
 *   matched.
 * - Converse refuses empty text blocks: empty texts are left out, and a tool result with no content
 *   says "(no output)" instead, since Converse requires a tool result to have content.
 * - `cache_control` on a text, image or file part becomes a `cachePoint` block after it.
 * - `response_format` json_object / json_schema has no Converse field: it becomes a closing system
 *   note asking for JSON only (with the schema, when there is one).
 * - Images must be inline (data: URLs, PNG/JPEG/GIF/WebP): Bedrock fetches no URLs, so an http(s)
 *   image is refused here with a clear message. Files (`file_data`) become document blocks (PDF,
 *   text, Markdown, CSV, HTML, Word, Excel) or image blocks.
 * - `n` > 1 is refused: Converse gives one answer per request. `user`, `seed`, `logprobs`,
 *   `logit_bias`, the penalties, `parallel_tool_calls` and the other fields Converse has no use for
 *   are dropped: each only tunes or decorates an answer that keeps the shape the client expects.
 *
 * Input that has no Converse form (audio, OpenAI file ids, a tool message answering no earlier tool
 * call…) throws `UnsupportedRequestError`, naming the offending field the way OpenAI does
 * (`messages[3].tool_call_id`), so the client gets a 400 instead of a vaguer upstream one.
 */

import { createHash } from "node:crypto";
import { isRecord } from "../../formats/is-record.ts";
import type { ChatRequest } from "../../formats/openai-requests.ts";
import { UnsupportedRequestError } from "../adapter.ts";
import type { ThinkingBlock, ThinkingMemory } from "../anthropic/thinking-memory.ts";
import { parseToolArguments, requireString } from "../read-message-fields.ts";
import type {
  ConverseContentBlock,
  ConverseDocumentBlock,
  ConverseDocumentFormat,
  ConverseImageBlock,
  ConverseImageFormat,
  ConverseInferenceConfig,
  ConverseMessage,
  ConverseReasoningBlock,
  ConverseRequest,
  ConverseRole,
  ConverseSystemBlock,
  ConverseTextBlock,
  ConverseTool,
  ConverseToolChoice,
  ConverseToolResultBlock,
  ConverseToolResultContent,
  ConverseToolUseBlock,
} from "./bedrock-types.ts";
import { ANSWER_ROOM_AFTER_THINKING, isThinkingOn, requestedThinking } from "../anthropic/claude-thinking.ts";
import type { AnthropicThinking } from "../../formats/anthropic/types.ts";

export interface ConverseRequestOptions {
  /**
   * Claude's reasoning blocks by tool call id, filled by the answer converters. Without it only
   * signatures the client sends back itself survive a tool loop, and thinking is turned off for
   * the turns that lost theirs.
   */
  memory?: ThinkingMemory;
}

type Message = ChatRequest["messages"][number];
type MediaBlock = ConverseTextBlock | ConverseImageBlock | ConverseDocumentBlock;

/** What one conversion keeps across messages. */
interface Conversion {
  memory: ThinkingMemory | undefined;
  withThinking: boolean;
  /** The client's ids of the tool calls made so far, for checking that each result answers one. */
  callIds: Set<string>;
  /** Names of the tools the history called: declared when no other tools are sent (see above). */
  calledTools: Set<string>;
  /** Document names given so far: Bedrock wants each one unique within the request. */
  documentNames: Set<string>;
}


const JSON_ONLY_NOTE = "Respond with a single valid JSON object and nothing else: no text before or after it, no Markdown code fence.";

/** Converse's input schema must be an object schema; a function without parameters takes none. */
const NO_PARAMETERS = { type: "object", properties: {} };
const EMPTY_TOOL_RESULT = "(no output)";

const TOOL_USE_ID_LIMIT = 64;
/** Kept of an over-long id; the rest of the limit is "_" and 22 base64url characters of its SHA-256. */
const TOOL_USE_ID_KEPT = 41;

const IMAGE_FORMATS = new Map<string, ConverseImageFormat>([
  ["image/png", "png"],
  ["image/jpeg", "jpeg"],
  // A common misspelling of image/jpeg.
  ["image/jpg", "jpeg"],
  ["image/gif", "gif"],
  ["image/webp", "webp"],
]);

const DOCUMENT_FORMATS = new Map<string, ConverseDocumentFormat>([
  ["application/pdf", "pdf"],
  ["text/plain", "txt"],
  ["text/markdown", "md"],
  ["text/csv", "csv"],
  ["text/html", "html"],
  ["application/msword", "doc"],
  ["application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"],
  ["application/vnd.ms-excel", "xls"],
  ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"],
]);

/** Types a bare base64 `file_data` may be, by its `filename` extension. */
const MIME_BY_EXTENSION = new Map([
  ["pdf", "application/pdf"],
  ["txt", "text/plain"],
  ["md", "text/markdown"],
  ["csv", "text/csv"],
  ["html", "text/html"],
  ["htm", "text/html"],
  ["doc", "application/msword"],
  ["docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
  ["xls", "application/vnd.ms-excel"],
  ["xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
  ["png", "image/png"],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["gif", "image/gif"],
  ["webp", "image/webp"],
]);
/** OpenAI accepts only PDFs in `file` parts, so a nameless base64 file is one. */
const DEFAULT_FILE_MIME = "application/pdf";

const TOOL_CHOICES = new Map<string, ConverseToolChoice | "none">([
  ["auto", { auto: {} }],
  ["required", { any: {} }],
  ["none", "none"],
]);

/** Claude on Bedrock: a base model id (`anthropic.claude-…`), an inference profile (`us.anthropic.…`) or an ARN ending in either. */
export function isAnthropicModel(model: string): boolean {
  return /(?:^|[./])anthropic\./.test(model);
}

export function convertToConverseRequest(body: ChatRequest, model: string, options: ConverseRequestOptions = {}): ConverseRequest {
  if (body.n != null && body.n > 1) throw new UnsupportedRequestError("Bedrock gives one answer per request; n must be 1.", "n");
  const claude = isAnthropicModel(model);

  const tools = convertTools(body.tools);
  const toolChoice = tools.length > 0 ? convertToolChoice(body.tool_choice) : undefined;
  let thinking = claude ? requestedThinking(body) : undefined;
  if (thinking?.type === "enabled" && toolChoice !== undefined && toolChoice !== "none" && !("auto" in toolChoice)) thinking = undefined;
  let converted = convertMessages(body.messages, options.memory, isThinkingOn(thinking));
  if (isThinkingOn(thinking) && turnInProgressLacksThinking(converted.messages)) {
    thinking = undefined;
    converted = convertMessages(body.messages, options.memory, false);
  }
  const { system, messages, calledTools } = converted;
  if (messages.length === 0) throw new UnsupportedRequestError("Bedrock needs at least one user or assistant message besides the system prompt.", "messages");

  const request: ConverseRequest = { messages };
  const jsonNote = jsonOutputNote(body.response_format);
  if (jsonNote !== undefined) system.push({ text: jsonNote });
  if (system.length > 0) request.system = system;
  const toolConfig = convertToolConfig(tools, toolChoice, calledTools);
  if (toolConfig !== undefined) request.toolConfig = toolConfig;
  const inferenceConfig = convertInferenceConfig(body, claude, thinking);
  if (Object.keys(inferenceConfig).length > 0) request.inferenceConfig = inferenceConfig;
  const additional: Record<string, unknown> = {};
  if (thinking !== undefined) additional.thinking = thinking;
  // Not OpenAI, but a common extension (OpenRouter, vLLM) with an exact Claude counterpart.
  if (claude && !isThinkingOn(thinking) && typeof body.top_k === "number") additional.top_k = body.top_k;
  if (Object.keys(additional).length > 0) request.additionalModelRequestFields = additional;
  return request;
}

function convertMessages(messages: Message[], memory: ThinkingMemory | undefined, withThinking: boolean): { system: ConverseSystemBlock[]; messages: ConverseMessage[]; calledTools: Set<string> } {
  const system: ConverseSystemBlock[] = [];
  const turns: ConverseMessage[] = [];
  const conversion: Conversion = { memory, withThinking, callIds: new Set(), calledTools: new Set(), documentNames: new Set() };
  messages.forEach((message, index) => {
    const at = `messages[${index}]`;
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...systemBlocks(message.content, `${at}.content`));
        break;
      case "user":
        appendTurn(turns, "user", mediaBlocks(message.content, `${at}.content`, conversion, true));
        break;
      case "assistant":
        appendTurn(turns, "assistant", assistantBlocks(message, at, conversion));
        break;
      case "tool":
        appendTurn(turns, "user", [toolResult(message, at, conversion)]);
        break;
      default:
        throw new UnsupportedRequestError(`${at}.role "${message.role}" is not one of system, developer, user, assistant, tool.`, `${at}.role`);
    }
  });
  return { system, messages: turns.map(toolResultsFirst), calledTools: conversion.calledTools };
}

/** Turns must alternate, so a message with the same role as the last turn joins it. */
function appendTurn(turns: ConverseMessage[], role: ConverseRole, content: ConverseContentBlock[]): void {
  if (content.length === 0) return;
  const last = turns.at(-1);
  if (last?.role === role) last.content.push(...content);
  else turns.push({ role, content });
}

/** Claude wants a user turn's tool results before anything else in it. */
function toolResultsFirst(turn: ConverseMessage): ConverseMessage {
  if (turn.role !== "user" || !turn.content.some(isToolResult)) return turn;
  return { role: "user", content: [...turn.content.filter(isToolResult), ...turn.content.filter((block) => !isToolResult(block))] };
}

function isToolResult(block: ConverseContentBlock): block is ConverseToolResultBlock {
  return "toolResult" in block;
}

/** System/developer content: a string or text parts, nothing else. */
function systemBlocks(content: Message["content"], path: string): ConverseSystemBlock[] {
  if (typeof content === "string") return textBlock(content);
  if (content == null) return [];
  return content.flatMap((part, index) => {
    const at = `${path}[${index}]`;
    if (isRecord(part) && part.type === "text") return withCachePoint(textBlock(requireString(part.text, `${at}.text`)), part);
    throw new UnsupportedRequestError(`${at} must be a text part here.`, `${at}.type`);
  });
}

/** Converse rejects empty text blocks, and an empty one carries nothing anyway. */
function textBlock(text: string): ConverseTextBlock[] {
  return text === "" ? [] : [{ text }];
}

/** A part marked for prompt caching ends the cached prefix: a cache point follows its block. */
function withCachePoint<T extends ConverseContentBlock>(blocks: T[], part: Record<string, unknown>): (T | { cachePoint: { type: "default" } })[] {
  return blocks.length > 0 && part.cache_control != null ? [...blocks, { cachePoint: { type: "default" } }] : blocks;
}

/**
 * User content, and the content of tool results (which may carry images and files too, but no
 * cache points): text, images and files.
 */
function mediaBlocks(content: Message["content"], path: string, conversion: Conversion, cacheable: true): ConverseContentBlock[];
function mediaBlocks(content: Message["content"], path: string, conversion: Conversion, cacheable: false): MediaBlock[];
function mediaBlocks(content: Message["content"], path: string, conversion: Conversion, cacheable: boolean): ConverseContentBlock[] {
  if (typeof content === "string") return textBlock(content);
  if (content == null) return [];
  return content.flatMap((part, index) => {
    const at = `${path}[${index}]`;
    if (!isRecord(part)) throw new UnsupportedRequestError(`${at} must be a content part object.`, at);
    const blocks = mediaBlock(part, at, conversion);
    return cacheable ? withCachePoint(blocks, part) : blocks;
  });
}

function mediaBlock(part: Record<string, unknown>, path: string, conversion: Conversion): MediaBlock[] {
  switch (part.type) {
    case "text":
      return textBlock(requireString(part.text, `${path}.text`));
    case "image_url":
      return [imageBlock(part.image_url, `${path}.image_url`)];
    case "file":
      return [fileBlock(part.file, `${path}.file`, conversion)];
    case "input_audio":
      throw new UnsupportedRequestError(`${path}: Bedrock Converse takes no audio input.`, `${path}.type`);
    default:
      throw new UnsupportedRequestError(`${path}.type "${String(part.type)}" cannot be sent to Bedrock.`, `${path}.type`);
  }
}

/** `image_url` is `{url}` per the spec; a bare string is accepted too, as several clients send it. */
function imageBlock(imageUrl: unknown, path: string): ConverseImageBlock {
  const url = typeof imageUrl === "string" ? imageUrl : isRecord(imageUrl) ? imageUrl.url : undefined;
  const urlPath = `${path}.url`;
  if (typeof url !== "string") throw new UnsupportedRequestError(`${urlPath} is required.`, urlPath);
  if (/^https?:\/\//i.test(url)) throw new UnsupportedRequestError(`${urlPath}: Bedrock cannot fetch images from URLs; send the image inline as a base64 data URL.`, urlPath);
  if (!url.startsWith("data:")) throw new UnsupportedRequestError(`${urlPath} must be a base64 data URL (data:<mime>;base64,<data>).`, urlPath);
  const { mediaType, data } = parseDataUrl(url, urlPath);
  const format = IMAGE_FORMATS.get(mediaType);
  if (format === undefined) throw new UnsupportedRequestError(`${urlPath} is ${mediaType}; Bedrock takes PNG, JPEG, GIF and WebP images.`, urlPath);
  return { image: { format, source: { bytes: data } } };
}

/** `file_data` is a data URL or bare base64; bare base64 takes its type from `filename`, else it is a PDF. */
function fileBlock(file: unknown, path: string, conversion: Conversion): ConverseImageBlock | ConverseDocumentBlock {
  if (!isRecord(file)) throw new UnsupportedRequestError(`${path} must be {file_data, filename}.`, path);
  const dataPath = `${path}.file_data`;
  const raw = file.file_data;
  if (typeof raw !== "string") {
    if (file.file_id !== undefined) throw new UnsupportedRequestError(`${path}.file_id refers to an OpenAI upload Bedrock cannot read; send file_data instead.`, `${path}.file_id`);
    throw new UnsupportedRequestError(`${dataPath} is required.`, dataPath);
  }
  const filename = typeof file.filename === "string" ? file.filename : undefined;
  const { mediaType, data } = raw.startsWith("data:") ? parseDataUrl(raw, dataPath) : { mediaType: mimeFromName(filename) ?? DEFAULT_FILE_MIME, data: raw };
  const imageFormat = IMAGE_FORMATS.get(mediaType);
  if (imageFormat !== undefined) return { image: { format: imageFormat, source: { bytes: data } } };
  const format = DOCUMENT_FORMATS.get(mediaType);
  if (format === undefined) throw new UnsupportedRequestError(`${dataPath} is ${mediaType}; Bedrock takes PDF, text, Markdown, CSV, HTML, Word and Excel documents and PNG, JPEG, GIF and WebP images.`, dataPath);
  return { document: { format, name: documentName(filename, conversion.documentNames), source: { bytes: data } } };
}

/**
 * Bedrock allows only letters, digits, single spaces, hyphens, parentheses and square brackets in
 * a document name, and the model reads it as the document's title: the file name without its
 * extension, tidied, numbered when it repeats.
 */
function documentName(filename: string | undefined, taken: Set<string>): string {
  const stem = filename?.replace(/\.[^.]*$/, "") ?? "";
  const base = stem.replace(/[^A-Za-z0-9\s\-()[\]]/g, " ").replace(/\s+/g, " ").trim() || "document";
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base} (${n})`;
  taken.add(name);
  return name;
}

/** `data:<mime>[;param…];base64,<data>`. */
function parseDataUrl(url: string, path: string): { mediaType: string; data: string } {
  const match = /^data:([^;,]+)[^,]*;base64,(.*)$/is.exec(url);
  if (!match) throw new UnsupportedRequestError(`${path} must be a base64 data URL (data:<mime>;base64,<data>).`, path);
  return { mediaType: match[1]!.toLowerCase(), data: match[2]! };
}

function mimeFromName(name: string | undefined): string | undefined {
  const extension = name?.match(/\.([^.]+)$/)?.[1];
  return extension === undefined ? undefined : MIME_BY_EXTENSION.get(extension.toLowerCase());
}

/** Reasoning first (Claude checks it is there), then what the assistant said, then its tool calls. */
function assistantBlocks(message: Message, at: string, conversion: Conversion): ConverseContentBlock[] {
  const text = assistantText(message.content, `${at}.content`);
  const toolUses = toolUseBlocks(message.tool_calls, `${at}.tool_calls`, conversion);
  const reasoning = conversion.withThinking ? reasoningFor(message, toolUses, conversion.memory) : [];
  return [...reasoning, ...text, ...toolUses];
}

/**
 * The reasoning remembered for the message's tool calls (all calls of one answer share it), else
 * what the client sent itself: `reasoning_content` with its signature in the non-standard
 * `reasoning_signature` or `thinking_signature` field. Without a signature a client's reasoning
 * text is useless to Claude, which checks it.
 */
function reasoningFor(message: Message, toolUses: ConverseToolUseBlock[], memory: ThinkingMemory | undefined): ConverseReasoningBlock[] {
  for (const toolUse of toolUses) {
    // The memory is keyed by the ids the answers carried, which are Bedrock's own and so unchanged.
    const remembered = memory?.recall(toolUse.toolUse.toolUseId);
    if (remembered !== undefined) return remembered.map(reasoningBlockOf);
  }
  const signature = message.reasoning_signature ?? message.thinking_signature;
  if (typeof signature !== "string" || signature === "") return [];
  const text = typeof message.reasoning_content === "string" ? message.reasoning_content : "";
  return [{ reasoningContent: { reasoningText: { text, signature } } }];
}

/** A remembered thinking block (kept in the Anthropic adapter's shape) as Converse carries it. */
function reasoningBlockOf(block: ThinkingBlock): ConverseReasoningBlock {
  return block.type === "thinking"
    ? { reasoningContent: { reasoningText: { text: block.thinking, signature: block.signature } } }
    : { reasoningContent: { redactedContent: block.data } };
}

/** Assistant content: a string, or text and refusal parts (a refusal is still what the model said). */
function assistantText(content: Message["content"], path: string): ConverseContentBlock[] {
  if (typeof content === "string") return textBlock(content);
  if (content == null) return [];
  return content.flatMap((part, index) => {
    const at = `${path}[${index}]`;
    if (isRecord(part) && part.type === "text") return withCachePoint(textBlock(requireString(part.text, `${at}.text`)), part);
    if (isRecord(part) && part.type === "refusal") return textBlock(requireString(part.refusal, `${at}.refusal`));
    throw new UnsupportedRequestError(`${at} must be a text or refusal part in an assistant message.`, `${at}.type`);
  });
}

function toolUseBlocks(toolCalls: unknown, path: string, conversion: Conversion): ConverseToolUseBlock[] {
  if (toolCalls == null) return [];
  if (!Array.isArray(toolCalls)) throw new UnsupportedRequestError(`${path} must be an array.`, path);
  return toolCalls.map((call, index) => toolUseBlock(call, `${path}[${index}]`, conversion));
}

/** `type` may be missing (Mistral-style histories omit it). */
function toolUseBlock(call: unknown, path: string, conversion: Conversion): ConverseToolUseBlock {
  if (!isRecord(call)) throw new UnsupportedRequestError(`${path} must be a tool call object.`, path);
  if (call.type !== undefined && call.type !== "function") throw new UnsupportedRequestError(`${path}.type "${String(call.type)}" cannot be sent to Bedrock; only function calls can.`, `${path}.type`);
  const id = requireString(call.id, `${path}.id`);
  const fn = isRecord(call.function) ? call.function : {};
  const name = requireString(fn.name, `${path}.function.name`);
  conversion.callIds.add(id);
  conversion.calledTools.add(name);
  return { toolUse: { toolUseId: converseToolUseId(id), name, input: parseToolArguments(fn.arguments, `${path}.function.arguments`) } };
}

/** See the module comment: the same id always maps to the same valid Converse id. */
export function converseToolUseId(id: string): string {
  const cleaned = id.replace(/[^A-Za-z0-9_-]/g, "_");
  if (cleaned.length > 0 && cleaned.length <= TOOL_USE_ID_LIMIT) return cleaned;
  const digest = createHash("sha256").update(id).digest("base64url").slice(0, TOOL_USE_ID_LIMIT - TOOL_USE_ID_KEPT - 1);
  return `${cleaned.slice(0, TOOL_USE_ID_KEPT)}_${digest}`;
}

/**
 * A tool message must answer a call of an earlier assistant message: Converse refuses a
 * `toolResult` without its `toolUse`. OpenAI has no error flag on tool messages; the non-standard
 * `is_error: true` some clients send becomes Converse's `status: "error"`.
 */
function toolResult(message: Message, at: string, conversion: Conversion): ConverseToolResultBlock {
  const id = requireString(message.tool_call_id, `${at}.tool_call_id`);
  if (!conversion.callIds.has(id)) throw new UnsupportedRequestError(`${at}.tool_call_id "${id}" matches no tool call of an earlier assistant message.`, `${at}.tool_call_id`);
  const content: ConverseToolResultContent[] = mediaBlocks(message.content, `${at}.content`, conversion, false);
  const result: ConverseToolResultBlock["toolResult"] = { toolUseId: converseToolUseId(id), content: content.length > 0 ? content : [{ text: EMPTY_TOOL_RESULT }] };
  if (message.is_error === true) result.status = "error";
  return { toolResult: result };
}

/** The turn in progress must open with reasoning when thinking is on; false when it has no assistant message yet. */
function turnInProgressLacksThinking(turns: ConverseMessage[]): boolean {
  let start = turns.length;
  while (start > 0 && !isNewUserTurn(turns[start - 1]!)) start--;
  const opening = turns.slice(start).find((turn) => turn.role === "assistant");
  if (opening === undefined) return false;
  const first = opening.content[0];
  return first === undefined || !("reasoningContent" in first);
}

/** A user turn that carries tool results continues the assistant's turn; any other starts a new one. */
function isNewUserTurn(turn: ConverseMessage): boolean {
  return turn.role === "user" && !turn.content.some(isToolResult);
}

function convertTools(tools: ChatRequest["tools"]): ConverseTool[] {
  return (tools ?? []).map((tool, index) => {
    const path = `tools[${index}]`;
    if (tool.type !== "function") throw new UnsupportedRequestError(`${path}.type "${tool.type}" cannot be sent to Bedrock; only function tools can.`, `${path}.type`);
    const fn = isRecord(tool.function) ? tool.function : {};
    const spec: ConverseTool["toolSpec"] = { name: requireString(fn.name, `${path}.function.name`), inputSchema: { json: NO_PARAMETERS } };
    // Converse rejects an empty description.
    if (typeof fn.description === "string" && fn.description !== "") spec.description = fn.description;
    if (isRecord(fn.parameters)) spec.inputSchema = { json: fn.parameters };
    return { toolSpec: spec };
  });
}

function convertToolChoice(choice: ChatRequest["tool_choice"]): ConverseToolChoice | "none" | undefined {
  if (choice == null) return undefined;
  if (typeof choice === "string") {
    const converted = TOOL_CHOICES.get(choice);
    if (converted === undefined) throw new UnsupportedRequestError(`tool_choice "${choice}" is not one of auto, none, required.`, "tool_choice");
    return converted;
  }
  const name = choice.type === "function" && isRecord(choice.function) ? choice.function.name : undefined;
  if (typeof name !== "string") throw new UnsupportedRequestError('tool_choice must be "auto", "none", "required" or {"type": "function", "function": {"name": …}}.', "tool_choice");
  return { tool: { name } };
}

function convertToolConfig(tools: ConverseTool[], choice: ConverseToolChoice | "none" | undefined, calledTools: Set<string>): ConverseRequest["toolConfig"] {
  if (tools.length > 0 && choice !== "none") return choice === undefined ? { tools } : { tools, toolChoice: choice };
  if (calledTools.size === 0) return undefined;
  return { tools: [...calledTools].map((name) => ({ toolSpec: { name, inputSchema: { json: NO_PARAMETERS } } })) };
}

/** The thinking the client asked for, before any decision to turn it off. Only asked for Claude models. */

function convertInferenceConfig(body: ChatRequest, claude: boolean, thinking: AnthropicThinking | undefined): ConverseInferenceConfig {
  const config: ConverseInferenceConfig = {};
  const maxTokens = maxTokensFor(body, thinking);
  if (maxTokens !== undefined) config.maxTokens = maxTokens;
  if (!isThinkingOn(thinking)) {
    if (body.temperature != null) config.temperature = Math.min(Math.max(body.temperature, 0), 1);
    if (body.top_p != null && !(claude && body.temperature != null)) config.topP = body.top_p;
  }
  const stopSequences = convertStop(body.stop);
  if (stopSequences.length > 0) config.stopSequences = stopSequences;
  return config;
}

function maxTokensFor(body: ChatRequest, thinking: AnthropicThinking | undefined): number | undefined {
  const asked = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  // A passed-through `thinking` object is the client's: its budget is only trusted to be a number once checked.
  const budget = thinking?.type === "enabled" ? thinking.budget_tokens : undefined;
  if (typeof budget === "number" && (asked === undefined || asked <= budget)) return budget + ANSWER_ROOM_AFTER_THINKING;
  return asked;
}

/** Empty or blank stop sequences are refused by Claude and mean nothing to any model. */
function convertStop(stop: ChatRequest["stop"]): string[] {
  const sequences = typeof stop === "string" ? [stop] : (stop ?? []);
  return sequences.filter((sequence) => sequence.trim() !== "");
}

/** The closing system note that asks for JSON, or undefined for plain text. */
function jsonOutputNote(format: ChatRequest["response_format"]): string | undefined {
  if (format == null || format.type === "text") return undefined;
  if (format.type === "json_object") return JSON_ONLY_NOTE;
  if (format.type !== "json_schema") throw new UnsupportedRequestError(`response_format.type "${format.type}" is not one of text, json_object, json_schema.`, "response_format.type");
  const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined;
  return isRecord(schema) ? `${JSON_ONLY_NOTE} The object must conform to this JSON Schema: ${JSON.stringify(schema)}` : JSON_ONLY_NOTE;
}
