/**
 * Anthropic Messages request → the proxy's canonical OpenAI Chat Completions request, so that a
 * `/v1/messages` client (Claude Code, `@anthropic-ai/sdk`) can run on any configured provider.
 *
 * The conversion never fails: the schema has already checked the body, and whatever an OpenAI-shaped
 * provider cannot take is dropped or spelled out as text, each case explained where it happens.
 *
 * `system` messages among the turns (Claude Code's environment block) stay where they are, as
 * system messages at the same position: OpenAI-compatible hosts read them in place, and the
 * Gemini and Anthropic adapters gather them into their system instruction.
 *
 * Content keeps the shape the client chose: a string stays a string, a block array becomes a part
 * array, and parts keep their block's `cache_control`, which OpenRouter and the native Anthropic
 * provider honour (prompt caching is most of Claude Code's cost saving). Assistant turns are the
 * exception: OpenAI assistant content is plain text almost everywhere, so their text is joined.
 *
 * Some fields are this proxy's extensions rather than OpenAI's, kept because a provider may use
 * them, and to be stripped for hosts that reject unknown fields: `thinking` (the original object;
 * the Gemini and Anthropic adapters read it), `top_k`, `cache_control` on content parts, `is_error`
 * on tool messages, and on assistant messages `reasoning_content` (DeepSeek-style; DeepSeek wants
 * it back on tool turns) with `reasoning_signature` (the thinking block's signature, which only
 * Anthropic can check).
 */

import { createHash } from "node:crypto";
import type { ChatRequest } from "../openai-requests.ts";
import type { AnthropicContentBlock, AnthropicDocumentBlock, AnthropicImageSource, AnthropicMessageParam, AnthropicRequest, AnthropicTextBlock, AnthropicThinking, AnthropicTool, AnthropicToolChoice, AnthropicToolResultBlock, AnthropicToolUseBlock } from "./types.ts";

interface TextPart {
  type: "text";
  text: string;
  cache_control?: unknown;
}

interface ImagePart {
  type: "image_url";
  image_url: { url: string };
  cache_control?: unknown;
}

interface FilePart {
  type: "file";
  file: { file_data: string; filename: string };
  cache_control?: unknown;
}

type ContentPart = TextPart | ImagePart | FilePart;

interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

type OpenAIMessage =
  | { role: "system"; content: string | TextPart[] }
  | { role: "user"; content: string | ContentPart[] }
  | { role: "assistant"; content: string | null; tool_calls?: ToolCall[]; reasoning_content?: string; reasoning_signature?: string }
  | { role: "tool"; tool_call_id: string; content: string | TextPart[]; is_error?: true };

type ReasoningEffort = "none" | "low" | "medium" | "high";

/** Marks `is_error` results, a flag OpenAI tool messages lack: the model must not take an error text for a result. */
const TOOL_ERROR_PREFIX = "[error] ";

/** OpenAI file parts need a name; Anthropic documents only have an optional title. */
const DEFAULT_DOCUMENT_NAME = "document.pdf";

export function convertMessagesToOpenAI(request: AnthropicRequest): ChatRequest {
  const body: ChatRequest = {
    model: request.model,
    messages: [...systemMessages(request.system), ...request.messages.flatMap(convertMessage)],
    max_tokens: request.max_tokens,
  };
  if (request.stop_sequences !== undefined && request.stop_sequences.length > 0) body.stop = request.stop_sequences;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.top_p !== undefined) body.top_p = request.top_p;
  if (request.top_k !== undefined) body.top_k = request.top_k;
  if (request.metadata?.user_id !== undefined) body.user = opaqueUser(request.metadata.user_id);
  Object.assign(body, toolFields(request.tools, request.tool_choice), reasoningFields(request.thinking, request.output_config?.effort));
  const format = request.output_config?.format;
  if (format !== undefined) body.response_format = { type: "json_schema", json_schema: { name: "output", schema: format.schema } };
  if (request.stream === true) {
    body.stream = true;
    // Without it OpenAI-shaped hosts send no usage, and message_delta could not report any.
    body.stream_options = { include_usage: true };
  }
  return body;
}

/**
 * `metadata.user_id` → `user`, as a hash: the same id always gives the same value, so the host can
 * still tell end users apart (what `user` is for), but nothing of it leaks. Claude Code's id is a
 * ~150-character JSON text with a device id and a session id: longer than some hosts accept for an
 * end-user id, and meant for Anthropic, not for whichever provider serves the model. 32 hex digits
 * keep 128 bits, plenty to stay distinct, and fit any length limit.
 */
export function opaqueUser(userId: string): string {
  return createHash("sha256").update(userId).digest("hex").slice(0, 32);
}

function systemMessages(system: AnthropicRequest["system"]): OpenAIMessage[] {
  if (system === undefined || system === "") return [];
  if (typeof system === "string") return [{ role: "system", content: system }];
  const parts = system.filter((block) => block.text !== "").map(textPart);
  return parts.length > 0 ? [{ role: "system", content: parts }] : [];
}

function convertMessage(message: AnthropicMessageParam): OpenAIMessage[] {
  switch (message.role) {
    case "system":
      return systemMessages(message.content);
    case "user":
      return userMessages(message.content);
    case "assistant":
      return assistantMessages(message.content);
  }
}

function textPart(block: AnthropicTextBlock): TextPart {
  return block.cache_control === undefined ? { type: "text", text: block.text } : { type: "text", text: block.text, cache_control: block.cache_control };
}

/**
 * OpenAI wants each tool message right after the assistant message that made the call, so a user
 * turn's tool results go first, before the rest of the turn. What a tool message cannot hold
 * (images, PDFs) follows in one user message, ahead of the turn's own content.
 */
function userMessages(content: string | AnthropicContentBlock[]): OpenAIMessage[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const toolMessages: OpenAIMessage[] = [];
  const attachments: ContentPart[] = [];
  const parts: ContentPart[] = [];
  for (const block of content) {
    if (block.type === "tool_result") toolMessages.push(toolMessage(block, attachments));
    else parts.push(...contentParts(block));
  }
  const rest = [...attachments, ...parts];
  return rest.length > 0 ? [...toolMessages, { role: "user", content: rest }] : toolMessages;
}

/**
 * The parts a user content block becomes. Thinking and tool_use blocks do not belong in user turns,
 * and unknown blocks (server-tool results, search results) mean nothing to other providers: none.
 */
function contentParts(block: AnthropicContentBlock): ContentPart[] {
  switch (block.type) {
    case "text":
      return [textPart(block)];
    case "image":
      return withCacheControl([imagePart(block.source)], block.cache_control);
    case "document":
      return withCacheControl(documentParts(block), block.cache_control);
    default:
      return [];
  }
}

/** A cache breakpoint marks where the cached prefix ends, so it goes on the block's last part. */
function withCacheControl(parts: ContentPart[], cacheControl: unknown): ContentPart[] {
  const last = parts.at(-1);
  if (cacheControl === undefined || last === undefined) return parts;
  return [...parts.slice(0, -1), { ...last, cache_control: cacheControl }];
}

function imagePart(source: AnthropicImageSource): ContentPart {
  switch (source.type) {
    case "base64":
      return { type: "image_url", image_url: { url: dataUrl(source.media_type, source.data) } };
    case "url":
      return { type: "image_url", image_url: { url: source.url } };
    case "file":
      return unforwardableFile(source.file_id);
  }
}

/** The document sources the schema accepts; `types.ts` leaves room for others, which it rejects. */
type DocumentSource =
  | { type: "base64"; media_type: string; data: string }
  | { type: "text"; data: string }
  | { type: "url"; url: string }
  | { type: "content"; content: string | AnthropicContentBlock[] }
  | { type: "file"; file_id: string };

function documentParts(block: AnthropicDocumentBlock): ContentPart[] {
  const source = block.source as DocumentSource;
  switch (source.type) {
    case "base64":
      return [{ type: "file", file: { file_data: dataUrl(source.media_type, source.data), filename: block.title ?? DEFAULT_DOCUMENT_NAME } }];
    case "text":
      // The title is how the user named the document; without it the model would see bare text.
      return [{ type: "text", text: block.title ? `${block.title}\n\n${source.data}` : source.data }];
    case "url":
      // OpenAI file parts take no URLs; an image_url part at least reaches hosts that fetch PDFs
      // by URL (Gemini), and the others answer with a visible 400 instead of a silently lost file.
      return [{ type: "image_url", image_url: { url: source.url } }];
    case "content":
      return typeof source.content === "string" ? [{ type: "text", text: source.content }] : source.content.flatMap(contentParts);
    case "file":
      return [unforwardableFile(source.file_id)];
  }
}

/** Files API ids are Anthropic's; said in words so the model and the user know something is missing. */
function unforwardableFile(fileId: string): TextPart {
  return { type: "text", text: `[file ${fileId} was not forwarded: Anthropic Files API ids cannot be read by this provider]` };
}

function dataUrl(mediaType: string, data: string): string {
  return `data:${mediaType};base64,${data}`;
}

/**
 * One tool result → one tool message with text content, the form every OpenAI-shaped host accepts.
 * Images and PDFs go to `attachments` with a note in their place, so an image-only result (Claude
 * Code reading a screenshot) does not look like an empty one.
 *
 * `is_error` becomes a text prefix every model reads, and stays as an `is_error` field too, which
 * the Anthropic adapter turns back into the flag. A `cache_control` on the result (Claude Code puts
 * its last breakpoint there) makes the content a single text part that carries it.
 */
function toolMessage(block: AnthropicToolResultBlock, attachments: ContentPart[]): OpenAIMessage {
  const texts: string[] = [];
  let moved = 0;
  const items: AnthropicContentBlock[] = typeof block.content === "string" ? [{ type: "text", text: block.content }] : (block.content ?? []);
  for (const part of items.flatMap(contentParts)) {
    if (part.type === "text") texts.push(part.text);
    else {
      attachments.push(part);
      moved += 1;
    }
  }
  if (moved > 0) texts.push(`[${moved} attachment${moved === 1 ? "" : "s"} of this tool result follow${moved === 1 ? "s" : ""} in the next user message]`);
  const output = block.is_error === true ? `${TOOL_ERROR_PREFIX}${texts.join("\n")}` : texts.join("\n");
  const message: OpenAIMessage = { role: "tool", tool_call_id: block.tool_use_id, content: block.cache_control === undefined ? output : [{ type: "text", text: output, cache_control: block.cache_control }] };
  if (block.is_error === true) message.is_error = true;
  return message;
}

/**
 * Text blocks are joined without a separator: they are pieces of one reply (Anthropic splits text
 * at citations, mid-sentence). Thinking blocks are separate thoughts and keep a blank line between.
 * `redacted_thinking` is dropped: its encrypted payload is readable by Anthropic only.
 */
function assistantMessages(content: string | AnthropicContentBlock[]): OpenAIMessage[] {
  if (typeof content === "string") return [{ role: "assistant", content }];
  let text = "";
  const toolCalls: ToolCall[] = [];
  const thoughts: string[] = [];
  let signature = "";
  for (const block of content) {
    if (block.type === "text") text += block.text;
    else if (block.type === "tool_use") toolCalls.push(toolCall(block));
    else if (block.type === "thinking") {
      thoughts.push(block.thinking);
      // One field holds one signature; with several thinking blocks it is the last one's.
      if (block.signature !== "") signature = block.signature;
    }
  }
  if (text === "" && toolCalls.length === 0 && thoughts.length === 0) return [];
  // OpenAI's canonical empty content next to tool calls is null; alone, an empty string.
  const message: OpenAIMessage = { role: "assistant", content: text === "" && toolCalls.length > 0 ? null : text };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (thoughts.length > 0) message.reasoning_content = thoughts.join("\n\n");
  if (signature !== "") message.reasoning_signature = signature;
  return [message];
}

function toolCall(block: AnthropicToolUseBlock): ToolCall {
  return { id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(block.input) } };
}

/**
 * Server tools (web search, code execution, …; they have a `type` and no `input_schema`) run on
 * Anthropic's servers. Offered as functions, the model would call tools nobody executes, so they
 * are dropped. With no function left, `tool_choice` goes too: OpenAI rejects it without tools.
 */
function toolFields(tools: AnthropicTool[] | undefined, choice: AnthropicToolChoice | undefined): Record<string, unknown> {
  const functions = (tools ?? []).flatMap(functionTool);
  if (functions.length === 0) return {};
  const fields: Record<string, unknown> = { tools: functions };
  if (choice !== undefined) fields.tool_choice = openAIToolChoice(choice);
  if (choice !== undefined && choice.type !== "none" && choice.disable_parallel_tool_use === true) fields.parallel_tool_calls = false;
  return fields;
}

/**
 * Only the name, description and schema are copied, so Anthropic's tool fields (`cache_control`,
 * `eager_input_streaming`, `strict`…) never reach a host that would reject them. A tool marked
 * `defer_loading` is left out: Anthropic keeps such tools out of the model's sight until its tool
 * search loads them, and other providers cannot load tools later. Claude Code's only one when it
 * talks to other models is a placeholder the model must never call.
 */
function functionTool(tool: AnthropicTool): Record<string, unknown>[] {
  if (tool.input_schema === undefined || tool.defer_loading === true) return [];
  const fn: Record<string, unknown> = { name: tool.name };
  if (tool.description !== undefined) fn.description = tool.description;
  fn.parameters = withProperties(tool.input_schema);
  return [{ type: "function", function: fn }];
}

/** OpenAI and several compatible hosts reject an object schema without `properties` (a no-argument tool). */
function withProperties(schema: Record<string, unknown>): Record<string, unknown> {
  return schema.type === "object" && schema.properties === undefined ? { ...schema, properties: {} } : schema;
}

function openAIToolChoice(choice: AnthropicToolChoice): unknown {
  switch (choice.type) {
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "tool":
      return { type: "function", function: { name: choice.name } };
    case "none":
      return "none";
  }
}

/**
 * `thinking` and `output_config.effort` → `reasoning_effort`, which is what OpenAI-shaped hosts
 * understand, plus the original `thinking` object for the adapters that can honour a token budget
 * (Gemini, Anthropic). The effort counts without `thinking` too: Claude Code sends it either way,
 * and it is the only reasoning control such a request has.
 */
function reasoningFields(thinking: AnthropicThinking | undefined, effort: string | undefined): Record<string, unknown> {
  const reasoning_effort = reasoningEffort(thinking, effort);
  return { ...(reasoning_effort === undefined ? {} : { reasoning_effort }), ...(thinking === undefined ? {} : { thinking }) };
}

/**
 * Disabled thinking wins over any effort; a budget picks its bucket. Adaptive thinking (Claude
 * Code's default) without an effort leaves `reasoning_effort` out, so the provider thinks at its
 * own default effort (Gemini its dynamic budget) rather than one this proxy would invent.
 */
function reasoningEffort(thinking: AnthropicThinking | undefined, effort: string | undefined): ReasoningEffort | undefined {
  switch (thinking?.type) {
    case "disabled":
      return "none";
    case "enabled":
      return effortForBudget(thinking.budget_tokens);
    default:
      return openAIEffort(effort);
  }
}

/**
 * Budget buckets. Anthropic's minimum budget is 1024, so budgets near it (≤2048) are "low"; ≤8192
 * is "medium", matching the 8192-token budget Google gives "medium"; anything bigger (the 10k and
 * 32k budgets of Claude Code's "think hard" and "ultrathink") is "high".
 */
export function effortForBudget(budgetTokens: number): ReasoningEffort {
  if (budgetTokens <= 2048) return "low";
  if (budgetTokens <= 8192) return "medium";
  return "high";
}

/**
 * Anthropic's effort levels in OpenAI's words. "xhigh" and "max" have no OpenAI counterpart every
 * host accepts, so they become the highest one that is, "high"; an unknown level is dropped.
 */
function openAIEffort(effort: string | undefined): ReasoningEffort | undefined {
  switch (effort) {
    case "low":
    case "medium":
    case "high":
      return effort;
    case "xhigh":
    case "max":
      return "high";
    default:
      return undefined;
  }
}
