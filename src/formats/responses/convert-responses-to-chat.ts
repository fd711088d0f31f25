/**
 * Responses request → the proxy's canonical OpenAI Chat Completions request, so that a
 * `/v1/responses` client (Codex, the OpenAI SDK, the AI SDK) can run on any configured provider.
 *
 * The conversion never fails: the schema has already checked the body, and whatever a chat provider
 * cannot take is dropped or spelled out as text, each case explained where it happens. Built-in tools
 * (web search, file search, code interpreter, …) run on OpenAI's servers only; they are dropped and
 * reported in `droppedTools`, for the route to say so, rather than offered to a model that would call
 * tools nobody runs.
 *
 * The conversation is `history` (the earlier turns of a `previous_response_id` chain, oldest first)
 * followed by `input`. Items become messages in order: consecutive calls are one assistant message,
 * as chat wants them, and each output becomes a tool message. Reasoning items ride on the assistant
 * message that follows them, as the proxy's `reasoning_content` / `reasoning_signature` extension
 * fields (see convert-messages-to-openai.ts); the route strips them for hosts that reject them.
 */

import type { ChatRequest } from "../openai-requests.ts";
import { decodeReasoningCarrier, type CarriedReasoning } from "./reasoning-carrier.ts";
import { providerToolName, type ToolNameMap } from "./tool-names.ts";
import type { ContentPart, CustomTool, CustomToolCallItem, CustomToolCallOutputItem, FunctionCallItem, FunctionCallOutputItem, FunctionTool, ItemReference, MessageItem, NamespaceTool, ReasoningItem, ResponseInputItem, ResponsesRequest, ResponsesTool, ResponsesToolChoice, TextFormat } from "./types.ts";

export interface ChatFromResponses {
  chat: ChatRequest;
  /** The types of the tools left out because only OpenAI runs them, each once, in request order. */
  droppedTools: string[];
  /** What each provider-visible tool name stands for, to map calls back. */
  tools: ToolNameMap;
}

interface TextPart {
  type: "text";
  text: string;
}

interface ImagePart {
  type: "image_url";
  image_url: { url: string; detail?: string };
}

interface FilePart {
  type: "file";
  file: { file_data: string; filename: string };
}

type ChatPart = TextPart | ImagePart | FilePart;

interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A type alias, not an interface: chat messages are open records. */
type AssistantMessage = {
  role: "assistant";
  content: string | null;
  tool_calls?: ToolCall[];
  reasoning_content?: string;
  reasoning_signature?: string;
};

type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | ChatPart[] }
  | AssistantMessage
  | { role: "tool"; tool_call_id: string; content: string };

interface ChatTool {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown>; strict?: boolean };
}

/** OpenAI file parts need a name; Responses files may come without one. */
const DEFAULT_FILE_NAME = "file";

/** The image detail levels chat accepts; Responses has more ("original"), which fall back to the default. */
const IMAGE_DETAILS = new Set(["low", "high", "auto"]);

/**
 * Responses effort → chat `reasoning_effort`. "xhigh" has no chat counterpart every host accepts, so
 * it becomes the highest one that is; efforts this table lacks are left out (the provider's default).
 */
const REASONING_EFFORTS: Record<string, string> = { none: "none", minimal: "minimal", low: "low", medium: "medium", high: "high", xhigh: "high" };

export function convertResponsesToChat(request: ResponsesRequest, history: ResponseInputItem[]): ChatFromResponses {
  const offered = convertTools(request.tools ?? []);
  const items = [...history, ...inputItems(request.input)];
  const chat: ChatRequest = {
    model: request.model,
    messages: [...instructionMessages(request.instructions), ...new MessageBuilder(items).build()],
  };
  // Not `max_completion_tokens`: OpenAI itself is served natively, and of the hosts behind this
  // conversion several (DeepSeek, Mistral, NIM) read only `max_tokens`; the adapters read both.
  if (request.max_output_tokens != null) chat.max_tokens = request.max_output_tokens;
  if (request.temperature != null) chat.temperature = request.temperature;
  if (request.top_p != null) chat.top_p = request.top_p;
  Object.assign(chat, toolFields(offered.functions, offered.names, request.tool_choice, request.parallel_tool_calls));
  const responseFormat = responseFormatFor(request.text?.format);
  if (responseFormat !== undefined) chat.response_format = responseFormat;
  const effort = REASONING_EFFORTS[request.reasoning?.effort ?? ""];
  if (effort !== undefined) chat.reasoning_effort = effort;
  if (request.stream === true) {
    chat.stream = true;
    // Without it OpenAI-shaped hosts send no usage, and response.completed could not report any.
    chat.stream_options = { include_usage: true };
  }
  return { chat, droppedTools: offered.dropped, tools: offered.names };
}

function inputItems(input: ResponsesRequest["input"]): ResponseInputItem[] {
  if (input === undefined) return [];
  return typeof input === "string" ? [{ role: "user", content: input }] : input;
}

function instructionMessages(instructions: string | null | undefined): ChatMessage[] {
  return instructions ? [{ role: "system", content: instructions }] : [];
}

/**
 * Items → chat messages, in one pass. Two things wait for a later item: reasoning, for the assistant
 * message it belongs to, and tool-output attachments (images, files), which a tool message cannot
 * hold and which follow the run of tool messages in one user message.
 */
class MessageBuilder {
  private readonly messages: ChatMessage[] = [];
  private reasoning: CarriedReasoning | undefined;
  private attachments: ChatPart[] = [];
  private readonly byId: Map<string, ResponseInputItem>;

  constructor(private readonly items: ResponseInputItem[]) {
    this.byId = new Map(items.flatMap((item) => (item.id !== undefined && item.type !== "item_reference" ? [[item.id, item] as const] : [])));
  }

  build(): ChatMessage[] {
    for (const item of this.items) this.add(item);
    this.flushAttachments();
    return this.messages;
  }

  private add(item: ResponseInputItem): void {
    switch (item.type ?? "message") {
      case "message":
        return this.message(item as MessageItem);
      case "function_call": {
        const call = item as FunctionCallItem;
        return this.call({ id: call.call_id, type: "function", function: { name: providerToolName(call.name, call.namespace), arguments: call.arguments } });
      }
      case "custom_tool_call": {
        // Offered as a function with one string argument (see customFunction), so called as one.
        const call = item as CustomToolCallItem;
        return this.call({ id: call.call_id, type: "function", function: { name: providerToolName(call.name, call.namespace), arguments: JSON.stringify({ input: call.input }) } });
      }
      case "function_call_output":
      case "custom_tool_call_output":
        return this.toolOutput(item as FunctionCallOutputItem | CustomToolCallOutputItem);
      case "reasoning":
        return this.addReasoning(item as ReasoningItem);
      case "item_reference": {
        // A reference names an earlier item of the conversation; one that is not there is dropped.
        const referenced = this.byId.get((item as ItemReference).id);
        return referenced === undefined ? undefined : this.add(referenced);
      }
      default:
      // Built-in tool calls and their results (web_search_call, …) mean nothing to other providers.
    }
  }

  private message(item: MessageItem): void {
    this.flushAttachments();
    switch (item.role) {
      case "system":
      case "developer": {
        // Chat's "developer" role is OpenAI's; DeepSeek, Mistral and others know only "system".
        const text = textOf(item.content, "\n\n");
        if (text !== "") this.messages.push({ role: "system", content: text });
        return;
      }
      case "user":
        this.messages.push({ role: "user", content: typeof item.content === "string" ? item.content : item.content.flatMap(userPart) });
        return;
      case "assistant": {
        // Output text parts are pieces of one reply: joined without a separator.
        const text = textOf(item.content, "");
        if (text !== "" || this.reasoning !== undefined) this.messages.push(this.assistant(text));
      }
    }
  }

  /** A call joins the assistant message just before it (the same answer), unless reasoning starts a new one. */
  private call(toolCall: ToolCall): void {
    this.flushAttachments();
    const last = this.messages.at(-1);
    if (last?.role === "assistant" && this.reasoning === undefined) {
      if (last.content === "") last.content = null;
      (last.tool_calls ??= []).push(toolCall);
      return;
    }
    this.messages.push({ ...this.assistant(null), tool_calls: [toolCall] });
  }

  private assistant(content: string | null): AssistantMessage {
    const message: AssistantMessage = { role: "assistant", content };
    if (this.reasoning !== undefined) {
      if (this.reasoning.text !== "") message.reasoning_content = this.reasoning.text;
      if (this.reasoning.signature !== undefined) message.reasoning_signature = this.reasoning.signature;
      this.reasoning = undefined;
    }
    return message;
  }

  /**
   * Tool messages carry text. Images and files of an output go to the attachments, with a note in
   * their place, so an image-only output (a screenshot) does not look like an empty one.
   */
  private toolOutput(item: FunctionCallOutputItem | CustomToolCallOutputItem): void {
    if (typeof item.output === "string") {
      this.messages.push({ role: "tool", tool_call_id: item.call_id, content: item.output });
      return;
    }
    const texts: string[] = [];
    let moved = 0;
    for (const part of item.output.flatMap(userPart)) {
      if (part.type === "text") texts.push(part.text);
      else {
        this.attachments.push(part);
        moved += 1;
      }
    }
    if (moved > 0) texts.push(`[${moved} attachment${moved === 1 ? "" : "s"} of this tool output follow${moved === 1 ? "s" : ""} in the next user message]`);
    this.messages.push({ role: "tool", tool_call_id: item.call_id, content: texts.join("\n") });
  }

  private flushAttachments(): void {
    if (this.attachments.length === 0) return;
    this.messages.push({ role: "user", content: this.attachments });
    this.attachments = [];
  }

  /**
   * Our own carrier holds the whole reasoning and its signature; OpenAI's encrypted content is
   * readable by OpenAI only, so of its items the summary is what is left. Several reasoning items
   * before one answer are separate thoughts: joined by a blank line, the last signature kept.
   */
  private addReasoning(item: ReasoningItem): void {
    const carried = typeof item.encrypted_content === "string" ? decodeReasoningCarrier(item.encrypted_content) : undefined;
    const text = carried?.text ?? (item.summary ?? []).map((part) => part.text).join("\n\n");
    const signature = carried?.signature ?? this.reasoning?.signature;
    if (text === "" && signature === undefined) return;
    const joined = [this.reasoning?.text ?? "", text].filter((piece) => piece !== "").join("\n\n");
    this.reasoning = signature === undefined ? { text: joined } : { text: joined, signature };
  }
}

/** The text of a content string or of its text-bearing parts. */
function textOf(content: string | ContentPart[], separator: string): string {
  if (typeof content === "string") return content;
  return content.flatMap((part) => {
    if (part.type === "input_text" || part.type === "output_text") return [part.text];
    return part.type === "refusal" ? [part.refusal] : [];
  }).join(separator);
}

function userPart(part: ContentPart): ChatPart[] {
  switch (part.type) {
    case "input_text":
    case "output_text":
      return [{ type: "text", text: part.text }];
    case "refusal":
      return [{ type: "text", text: part.refusal }];
    case "input_image": {
      if (typeof part.image_url !== "string") return [unforwardableFile(part.file_id ?? "")];
      const detail = part.detail ?? "";
      return [{ type: "image_url", image_url: IMAGE_DETAILS.has(detail) ? { url: part.image_url, detail } : { url: part.image_url } }];
    }
    case "input_file":
      if (typeof part.file_data === "string") return [{ type: "file", file: { file_data: part.file_data, filename: part.filename ?? DEFAULT_FILE_NAME } }];
      return [unforwardableFile(part.file_id ?? part.file_url ?? part.filename ?? "")];
    default:
      return [];
  }
}

/**
 * Files API ids are OpenAI's, and chat file parts take no URLs; said in words so the model and the
 * user know something is missing.
 */
function unforwardableFile(reference: string): TextPart {
  return { type: "text", text: `[file ${reference} was not forwarded: OpenAI file ids and file URLs cannot be read by this provider]` };
}

interface OfferedTools {
  functions: ChatTool[];
  names: ToolNameMap;
  dropped: string[];
}

function convertTools(tools: ResponsesTool[]): OfferedTools {
  const offered: OfferedTools = { functions: [], names: new Map(), dropped: [] };
  const drop = (type: string) => {
    if (!offered.dropped.includes(type)) offered.dropped.push(type);
  };
  const offer = (tool: ResponsesTool, namespace: string | undefined) => {
    if (tool.type !== "function" && tool.type !== "custom") return drop(tool.type);
    const clientName = (tool as FunctionTool | CustomTool).name;
    const name = providerToolName(clientName, namespace);
    offered.names.set(name, namespace === undefined ? { name: clientName, kind: tool.type } : { name: clientName, namespace, kind: tool.type });
    offered.functions.push(tool.type === "function" ? chatFunction(tool as FunctionTool, name) : customFunction(tool as CustomTool, name));
  };
  for (const tool of tools) {
    if (tool.type === "namespace") for (const inner of (tool as NamespaceTool).tools) offer(inner, (tool as NamespaceTool).name);
    else offer(tool, undefined);
  }
  return offered;
}

function chatFunction(tool: FunctionTool, name: string): ChatTool {
  const fn: ChatTool["function"] = { name, parameters: withProperties(tool.parameters ?? { type: "object" }) };
  if (tool.description) fn.description = tool.description;
  if (typeof tool.strict === "boolean") fn.strict = tool.strict;
  return { type: "function", function: fn };
}

/** OpenAI and several compatible hosts reject an object schema without `properties` (a no-argument tool). */
function withProperties(schema: Record<string, unknown>): Record<string, unknown> {
  return schema.type === "object" && schema.properties === undefined ? { ...schema, properties: {} } : schema;
}

/**
 * A custom tool takes raw text, which chat cannot ask for: it becomes a function whose one string
 * argument `input` is that text. A grammar the text must follow (Codex's apply_patch has one) goes
 * into the argument's description, the only place the model will read it.
 */
function customFunction(tool: CustomTool, name: string): ChatTool {
  const format = tool.format;
  const grammar = format?.type === "grammar" && format.definition ? ` It must follow this ${format.syntax ?? ""} grammar:\n${format.definition}` : "";
  const parameters = {
    type: "object",
    properties: { input: { type: "string", description: `The raw text input of the tool.${grammar}` } },
    required: ["input"],
    additionalProperties: false,
  };
  return { type: "function", function: tool.description ? { name, description: tool.description, parameters } : { name, parameters } };
}

/**
 * `tools`, `tool_choice` and `parallel_tool_calls`. With no function left, all three go: OpenAI
 * rejects a choice or the parallel flag without tools. `parallel_tool_calls: true` is every host's
 * default, so only `false` is sent, and a host that lacks the flag only meets it when it matters.
 */
function toolFields(functions: ChatTool[], names: ToolNameMap, choice: ResponsesToolChoice | null | undefined, parallel: boolean | null | undefined): Record<string, unknown> {
  let offered = functions;
  let toolChoice: unknown;
  if (typeof choice === "string") toolChoice = choice;
  else if (choice?.type === "allowed_tools") {
    // Chat's allowed_tools is OpenAI's alone; offering only the allowed tools says the same everywhere.
    const allowed = choice as Extract<ResponsesToolChoice, { type: "allowed_tools" }>;
    const allowedNames = new Set(allowed.tools.flatMap((tool) => (tool.name === undefined ? [] : providerNamesOf(names, tool.name))));
    offered = functions.filter((tool) => allowedNames.has(tool.function.name));
    toolChoice = allowed.mode;
  } else if (choice?.type === "function" || choice?.type === "custom") {
    const [name] = providerNamesOf(names, (choice as { name: string }).name);
    if (name !== undefined) toolChoice = { type: "function", function: { name } };
  }
  // Any other choice names a built-in tool, dropped with it: the provider's default choice stands.
  if (offered.length === 0) return {};
  const fields: Record<string, unknown> = { tools: offered };
  if (toolChoice !== undefined) fields.tool_choice = toolChoice;
  if (parallel === false) fields.parallel_tool_calls = false;
  return fields;
}

/** The provider names a client's tool name stands for; a top-level tool comes before namespaced ones. */
function providerNamesOf(names: ToolNameMap, clientName: string): string[] {
  const matches = [...names].filter(([, identity]) => identity.name === clientName);
  return matches.sort(([, a], [, b]) => Number(a.namespace !== undefined) - Number(b.namespace !== undefined)).map(([name]) => name);
}

function responseFormatFor(format: TextFormat | null | undefined): { type: string; json_schema?: Record<string, unknown> } | undefined {
  switch (format?.type) {
    case "json_schema": {
      const schema = format as Extract<TextFormat, { type: "json_schema" }>;
      const jsonSchema: Record<string, unknown> = { name: schema.name, schema: schema.schema };
      if (schema.description) jsonSchema.description = schema.description;
      if (typeof schema.strict === "boolean") jsonSchema.strict = schema.strict;
      return { type: "json_schema", json_schema: jsonSchema };
    }
    case "json_object":
      return { type: "json_object" };
    default:
      // "text" is chat's default.
      return undefined;
  }
}
