/**
 * Gemini `generateContent` request → the canonical OpenAI chat request, so any provider can answer
 * a Gemini-native client.
 *
 * - `systemInstruction` → one system message; `model` turns → assistant messages, every other role
 *   → user messages (Gemini's old `function` role included).
 * - Parts: text; `inlineData` images → `image_url` data URLs, wav/mp3 → `input_audio`, other types
 *   → `file`; `fileData` images → `image_url` by URL. Thought parts are the model's own earlier
 *   thinking and are not sent back.
 * - `functionCall` parts → `tool_calls`; `functionResponse` parts → `tool` messages. Gemini clients
 *   match a response to its call by name (and by `id` when the call had one), while OpenAI-shaped
 *   hosts need the same id on both: a call without an id gets one from its position in the
 *   conversation (`call_g<content>_<part>`), which stays the same on every later turn, and each
 *   response takes the id of the earliest unanswered call of its name.
 * - `tools[].functionDeclarations` → function tools (`parametersJsonSchema` as is, `parameters`
 *   from Google's schema form); other Gemini tools (Google Search, code execution) have no
 *   counterpart elsewhere and are left out. `toolConfig` → `tool_choice`.
 * - `generationConfig` → sampling fields, `max_tokens`, `stop`, `n`, `response_format` and
 *   `reasoning_effort` (from `thinkingLevel`, or from a positive `thinkingBudget`).
 */

import type { ChatRequest } from "../openai-requests.ts";
import { effortForBudget } from "../anthropic/convert-messages-to-openai.ts";
import { convertGeminiSchemaToJsonSchema } from "./convert-gemini-schema-to-json-schema.ts";
import type { GeminiContent, GeminiGenerateRequest, GeminiGenerationConfig, GeminiPart, GeminiTool } from "./types.ts";

/** A part the canonical form cannot carry; answered as a 400 naming the field. */
export class UntranslatableGeminiRequest extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
    this.name = "UntranslatableGeminiRequest";
  }
}

type ChatMessage = ChatRequest["messages"][number];

const AUDIO_FORMATS: Record<string, string> = { "audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/mp3": "mp3" };
const LEVELS = new Set(["minimal", "low", "medium", "high"]);

/** `model` is the proxy model name the chat request will carry; `stream` comes from the route. */
export function convertGeminiToChat(request: GeminiGenerateRequest, model: string, stream: boolean): Record<string, unknown> {
  const chat: Record<string, unknown> = { model, messages: convertContents(request), ...generationFields(request.generationConfig) };
  if (stream) Object.assign(chat, { stream: true, stream_options: { include_usage: true } });
  const tools = functionTools(request.tools);
  if (tools.length > 0) {
    chat.tools = tools;
    const choice = toolChoice(request.toolConfig?.functionCallingConfig);
    if (choice !== undefined) chat.tool_choice = choice;
  }
  return chat;
}

function convertContents(request: GeminiGenerateRequest): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const system = systemText(request.systemInstruction);
  if (system) messages.push({ role: "system", content: system });
  const calls = createCallLedger();
  request.contents.forEach((content, index) => {
    if (content.role === "model") messages.push(assistantMessage(content, index, calls));
    else messages.push(...userMessages(content, index, calls));
  });
  return messages;
}

function systemText(instruction: GeminiGenerateRequest["systemInstruction"]): string {
  if (instruction === undefined) return "";
  if (typeof instruction === "string") return instruction;
  return instruction.parts.flatMap((part) => (typeof part.text === "string" ? [part.text] : [])).join("\n");
}

/** The calls made so far that still wait for their response, in order. */
interface CallLedger {
  open(id: string, name: string): void;
  /** The id of the call this response answers. */
  answer(name: string, id: string | undefined, fallbackId: string): string;
}

function createCallLedger(): CallLedger {
  const waiting: { id: string; name: string }[] = [];
  const take = (index: number): string => waiting.splice(index, 1)[0]!.id;
  return {
    open: (id, name) => void waiting.push({ id, name }),
    answer(name, id, fallbackId) {
      const byId = id === undefined ? -1 : waiting.findIndex((call) => call.id === id);
      if (byId !== -1) return take(byId);
      const byName = waiting.findIndex((call) => call.name === name);
      if (byName !== -1) return take(byName);
      return id ?? fallbackId;
    },
  };
}

function assistantMessage(content: GeminiContent, index: number, calls: CallLedger): ChatMessage {
  let text = "";
  const toolCalls: Record<string, unknown>[] = [];
  content.parts.forEach((part, position) => {
    if (part.functionCall) {
      const id = part.functionCall.id ?? `call_g${index}_${position}`;
      calls.open(id, part.functionCall.name);
      toolCalls.push({ id, type: "function", function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) } });
    } else if (part.thought !== true && typeof part.text === "string") {
      text += part.text;
    }
  });
  const message: ChatMessage = { role: "assistant", content: text || null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return message;
}

/** Tool results first (they must follow the assistant turn that called), then what the user said. */
function userMessages(content: GeminiContent, index: number, calls: CallLedger): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const parts: Record<string, unknown>[] = [];
  content.parts.forEach((part, position) => {
    const path = `contents[${index}].parts[${position}]`;
    if (part.functionResponse) {
      const { name, id, response } = part.functionResponse;
      tools.push({ role: "tool", tool_call_id: calls.answer(name, id, `call_g${index}_${position}`), content: JSON.stringify(response ?? {}) });
      return;
    }
    const converted = userPart(part, path);
    if (converted) parts.push(converted);
  });
  if (parts.length === 0) return tools;
  const allText = parts.every((part) => part.type === "text");
  // Plain text goes as a string: some OpenAI-compatible hosts accept nothing else.
  const text = allText ? parts.map((part) => part.text as string).join("\n\n") : parts;
  return [...tools, { role: "user", content: text }];
}

function userPart(part: GeminiPart, path: string): Record<string, unknown> | undefined {
  if (part.inlineData) return inlinePart(part.inlineData, path);
  if (part.fileData) {
    const mimeType = part.fileData.mimeType ?? "";
    if (mimeType === "" || mimeType.startsWith("image/")) return { type: "image_url", image_url: { url: part.fileData.fileUri } };
    throw new UntranslatableGeminiRequest(`${path}.fileData: only images can be passed by URL to this provider; send ${mimeType} as inlineData.`, `${path}.fileData`);
  }
  if (part.thought === true) return undefined;
  if (typeof part.text === "string") return { type: "text", text: part.text };
  return undefined;
}

function inlinePart(data: NonNullable<GeminiPart["inlineData"]>, path: string): Record<string, unknown> {
  const dataUrl = `data:${data.mimeType};base64,${data.data}`;
  if (data.mimeType.startsWith("image/")) return { type: "image_url", image_url: { url: dataUrl } };
  const audio = AUDIO_FORMATS[data.mimeType];
  if (audio) return { type: "input_audio", input_audio: { data: data.data, format: audio } };
  if (data.mimeType.startsWith("audio/") || data.mimeType.startsWith("video/")) {
    throw new UntranslatableGeminiRequest(`${path}.inlineData: ${data.mimeType} has no OpenAI-form counterpart (audio must be wav or mp3).`, `${path}.inlineData`);
  }
  return { type: "file", file: { file_data: dataUrl } };
}

function functionTools(tools: GeminiTool[] | undefined): Record<string, unknown>[] {
  return (tools ?? []).flatMap((tool) =>
    (tool.functionDeclarations ?? []).map((declaration) => {
      const schema = declaration.parametersJsonSchema ?? convertGeminiSchemaToJsonSchema(declaration.parameters);
      const fn: Record<string, unknown> = { name: declaration.name, parameters: withProperties(schema) };
      if (declaration.description !== undefined) fn.description = declaration.description;
      return { type: "function", function: fn };
    }),
  );
}

/** A declaration without parameters is a no-argument tool; OpenAI-shaped hosts want an object schema with `properties`. */
function withProperties(schema: unknown): Record<string, unknown> {
  if (typeof schema !== "object" || schema === null) return { type: "object", properties: {} };
  const object = schema as Record<string, unknown>;
  return object.type === "object" && object.properties === undefined ? { ...object, properties: {} } : object;
}

function toolChoice(config: { mode?: string; allowedFunctionNames?: string[] } | undefined): unknown {
  switch (config?.mode) {
    case "NONE":
      return "none";
    case "ANY": {
      const names = config.allowedFunctionNames ?? [];
      return names.length === 1 ? { type: "function", function: { name: names[0] } } : "required";
    }
    case "AUTO":
    case "VALIDATED":
      return "auto";
    default:
      return undefined;
  }
}

function generationFields(config: GeminiGenerationConfig | undefined): Record<string, unknown> {
  if (!config) return {};
  const fields: Record<string, unknown> = {};
  const copy = (value: unknown, name: string): void => {
    if (value !== undefined) fields[name] = value;
  };
  copy(config.temperature, "temperature");
  copy(config.topP, "top_p");
  // Only the Gemini and Anthropic adapters read `top_k`; the route removes it for other hosts.
  copy(config.topK, "top_k");
  copy(config.candidateCount, "n");
  copy(config.maxOutputTokens, "max_tokens");
  copy(config.presencePenalty, "presence_penalty");
  copy(config.frequencyPenalty, "frequency_penalty");
  copy(config.seed, "seed");
  if (config.stopSequences && config.stopSequences.length > 0) fields.stop = config.stopSequences;
  copy(responseFormat(config), "response_format");
  copy(reasoningEffort(config.thinkingConfig), "reasoning_effort");
  return fields;
}

function responseFormat(config: GeminiGenerationConfig): Record<string, unknown> | undefined {
  if (config.responseMimeType !== "application/json") return undefined;
  const schema = config.responseJsonSchema ?? (config.responseSchema === undefined ? undefined : convertGeminiSchemaToJsonSchema(config.responseSchema));
  if (schema === undefined) return { type: "json_object" };
  return { type: "json_schema", json_schema: { name: "response", schema } };
}

/**
 * A level maps by name; a positive budget by size. A zero budget (thinking off) and a dynamic one
 * (-1) send nothing: the host's default is the closest thing either has.
 */
function reasoningEffort(thinking: GeminiGenerationConfig["thinkingConfig"]): string | undefined {
  const level = thinking?.thinkingLevel?.toLowerCase();
  if (level && LEVELS.has(level)) return level;
  const budget = thinking?.thinkingBudget;
  return budget !== undefined && budget > 0 ? effortForBudget(budget) : undefined;
}
