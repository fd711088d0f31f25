/**
 * OpenAI Chat Completions body → Gemini `generateContent` body (providers.md §3.1).
 *
 * Messages become `contents` with roles `user`/`model`; system and developer messages become
 * `systemInstruction`; tool results become `functionResponse` parts in a user turn; tools, tool
 * choice, sampling, structured output, reasoning and safety settings go to their Gemini fields.
 * Only fields the client gave are set. Fields Gemini has no use for (`user`, `logit_bias`, `store`,
 * `metadata`, `service_tier`, `parallel_tool_calls`, `stream`, `stream_options`, …) are not read, so
 * they are dropped; whether to stream is the caller's choice of endpoint.
 *
 * Input that has no Gemini form throws `UnsupportedRequestError`, naming the offending field the way
 * OpenAI does (`messages[3].tool_call_id`), so the client gets a 400 instead of a vaguer upstream one.
 */

import type { ChatRequest } from "../../formats/openai-requests.ts";
import { UnsupportedRequestError } from "../adapter.ts";
import { cleanJsonSchemaForGemini } from "./clean-json-schema.ts";
import type { GeminiContent, GeminiFunctionDeclaration, GeminiPart, GeminiRequest } from "./gemini-types.ts";
import { mapSafetySettings, type GeminiSafetySetting } from "./map-safety-settings.ts";
import { isGemini3OrLater, thinkingConfigFor } from "./map-thinking.ts";
import { signatureFromToolCallId } from "./tool-call-id.ts";
import { isRecord } from "../../formats/is-record.ts";
import { parseToolArguments, requireString } from "../read-message-fields.ts";

type Message = ChatRequest["messages"][number];
type GenerationConfig = NonNullable<GeminiRequest["generationConfig"]>;
type ToolConfig = NonNullable<GeminiRequest["toolConfig"]>;
type FunctionCallingMode = ToolConfig["functionCallingConfig"]["mode"];

/** Where an earlier assistant message made a tool call: its function name, and its place for ordering results. */
interface ToolCallOrigin {
  name: string;
  messageIndex: number;
  callIndex: number;
}

interface PendingResponse {
  origin: ToolCallOrigin;
  part: GeminiPart;
}

/**
 * Google's documented stand-in for a lost thought signature. Gemini 3 answers 400 to a history
 * whose function call carries no signature, and a signature is lost whenever the call did not come
 * from this proxy's Gemini route (another model earlier in the chat, a client that rewrote ids).
 */
const SKIP_SIGNATURE_VALIDATOR = "skip_thought_signature_validator";

/** Types Gemini reads, by the extension of an image URL or a file part's `filename`. */
const MIME_BY_EXTENSION = new Map([
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["png", "image/png"],
  ["webp", "image/webp"],
  ["gif", "image/gif"],
  ["heic", "image/heic"],
  ["heif", "image/heif"],
  ["pdf", "application/pdf"],
  ["txt", "text/plain"],
  ["md", "text/markdown"],
  ["csv", "text/csv"],
  ["html", "text/html"],
  ["json", "application/json"],
  ["mp3", "audio/mp3"],
  ["wav", "audio/wav"],
  ["mp4", "video/mp4"],
]);

/** An image URL without a telling extension is most likely a photo. */
const DEFAULT_IMAGE_MIME = "image/jpeg";
/** OpenAI accepts only PDFs in `file` parts, so a nameless base64 file is one. */
const DEFAULT_FILE_MIME = "application/pdf";

const MODE_BY_TOOL_CHOICE = new Map<string, FunctionCallingMode>([
  ["auto", "AUTO"],
  ["none", "NONE"],
  ["required", "ANY"],
]);

export function convertToGeminiRequest(body: ChatRequest, model: string): GeminiRequest {
  const { system, contents } = convertMessages(body.messages);
  const request: GeminiRequest = { contents };
  if (system.length > 0) {
    if (model.includes("gemma")) foldSystemIntoFirstUserTurn(system, contents);
    else request.systemInstruction = { parts: system };
  }
  if (contents.length === 0) throw new UnsupportedRequestError("Gemini needs at least one user or assistant message besides the system prompt.", "messages");
  if (isGemini3OrLater(model)) signFirstFunctionCalls(contents);

  const declarations = convertTools(body.tools);
  if (declarations.length > 0) request.tools = [{ functionDeclarations: declarations }];
  if (body.tool_choice != null) request.toolConfig = convertToolChoice(body.tool_choice);
  const safetySettings = convertSafetySettings(body.safety_settings);
  if (safetySettings.length > 0) request.safetySettings = safetySettings;
  const generationConfig = convertGenerationConfig(body, model);
  if (Object.keys(generationConfig).length > 0) request.generationConfig = generationConfig;
  return request;
}

function convertMessages(messages: Message[]): { system: GeminiPart[]; contents: GeminiContent[] } {
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  const calls = new Map<string, ToolCallOrigin>();
  let responses: PendingResponse[] = [];

  // Tool results wait until their run ends, so a run becomes one user turn in the order of the calls.
  const flushResponses = () => {
    if (responses.length === 0) return;
    const ordered = responses.toSorted((a, b) => a.origin.messageIndex - b.origin.messageIndex || a.origin.callIndex - b.origin.callIndex);
    appendTurn(contents, "user", ordered.map((response) => response.part));
    responses = [];
  };

  messages.forEach((message, index) => {
    const at = `messages[${index}]`;
    if (message.role === "tool") {
      responses.push(toolResponse(message, at, calls));
      return;
    }
    flushResponses();
    switch (message.role) {
      case "system":
      case "developer":
        system.push(...textOnlyParts(message.content, `${at}.content`));
        break;
      case "user":
        appendTurn(contents, "user", userParts(message.content, `${at}.content`));
        break;
      case "assistant":
        appendTurn(contents, "model", assistantParts(message, index, calls));
        break;
      default:
        throw new UnsupportedRequestError(`${at}.role "${message.role}" is not one of system, developer, user, assistant, tool.`, `${at}.role`);
    }
  });
  flushResponses();
  return { system, contents };
}

/** Gemini requires user and model turns to alternate, so a turn with the same role as the last one joins it. */
function appendTurn(contents: GeminiContent[], role: "user" | "model", parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents.at(-1);
  if (last?.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

/**
 * Gemma on the Gemini API rejects `systemInstruction`. The system text goes first in the first user
 * turn instead, as one text part ending in a blank line so it does not run into the user's words.
 */
function foldSystemIntoFirstUserTurn(system: GeminiPart[], contents: GeminiContent[]): void {
  const preamble: GeminiPart = { text: `${system.map((part) => part.text).join("\n\n")}\n\n` };
  const first = contents[0];
  if (first?.role === "user") first.parts.unshift(preamble);
  else contents.unshift({ role: "user", parts: [preamble] });
}

/** System/developer content: a string or text parts, nothing else. */
function textOnlyParts(content: Message["content"], path: string): GeminiPart[] {
  if (typeof content === "string") return textPart(content);
  if (content == null) return [];
  return content.flatMap((part, index) => {
    const at = `${path}[${index}]`;
    if (isRecord(part) && part.type === "text") return textPart(requireString(part.text, `${at}.text`));
    throw new UnsupportedRequestError(`${at} must be a text part here.`, `${at}.type`);
  });
}

/** Gemini rejects empty text parts ("empty text parameter"), and an empty one carries nothing anyway. */
function textPart(text: string): GeminiPart[] {
  return text === "" ? [] : [{ text }];
}

function userParts(content: Message["content"], path: string): GeminiPart[] {
  if (typeof content === "string") return textPart(content);
  if (content == null) return [];
  return content.flatMap((part, index) => userPart(part, `${path}[${index}]`));
}

function userPart(part: unknown, path: string): GeminiPart[] {
  if (!isRecord(part)) throw new UnsupportedRequestError(`${path} must be a content part object.`, path);
  switch (part.type) {
    case "text":
      return textPart(requireString(part.text, `${path}.text`));
    case "image_url":
      return [imagePart(part.image_url, `${path}.image_url`)];
    case "input_audio":
      return [audioPart(part.input_audio, `${path}.input_audio`)];
    case "file":
      return [filePart(part.file, `${path}.file`)];
    default:
      throw new UnsupportedRequestError(`${path}.type "${String(part.type)}" cannot be sent to Gemini.`, `${path}.type`);
  }
}

/** `image_url` is `{url}` per the spec; a bare string is accepted too, as several clients send it. */
function imagePart(imageUrl: unknown, path: string): GeminiPart {
  const url = typeof imageUrl === "string" ? imageUrl : isRecord(imageUrl) ? imageUrl.url : undefined;
  const urlPath = `${path}.url`;
  if (typeof url !== "string") throw new UnsupportedRequestError(`${urlPath} is required.`, urlPath);
  if (url.startsWith("data:")) return { inlineData: parseDataUrl(url, urlPath) };
  if (/^(?:https?|gs):\/\//i.test(url)) return { fileData: { fileUri: url, mimeType: mimeFromName(url) ?? DEFAULT_IMAGE_MIME } };
  throw new UnsupportedRequestError(`${urlPath} must be a base64 data URL or an http(s):// or gs:// URL.`, urlPath);
}

function audioPart(audio: unknown, path: string): GeminiPart {
  if (!isRecord(audio)) throw new UnsupportedRequestError(`${path} must be {data, format}.`, path);
  const data = requireString(audio.data, `${path}.data`);
  const format = requireString(audio.format, `${path}.format`).toLowerCase();
  return { inlineData: { mimeType: `audio/${format}`, data } };
}

/** `file_data` is a data URL or bare base64; bare base64 takes its type from `filename`. */
function filePart(file: unknown, path: string): GeminiPart {
  if (!isRecord(file)) throw new UnsupportedRequestError(`${path} must be {file_data, filename}.`, path);
  const data = file.file_data;
  if (typeof data !== "string") {
    if (file.file_id !== undefined) throw new UnsupportedRequestError(`${path}.file_id refers to an OpenAI upload Gemini cannot read; send file_data instead.`, `${path}.file_id`);
    throw new UnsupportedRequestError(`${path}.file_data is required.`, `${path}.file_data`);
  }
  if (data.startsWith("data:")) return { inlineData: parseDataUrl(data, `${path}.file_data`) };
  const mimeType = (typeof file.filename === "string" ? mimeFromName(file.filename) : undefined) ?? DEFAULT_FILE_MIME;
  return { inlineData: { mimeType, data } };
}

/** `data:<mime>[;param…];base64,<data>`. Percent-encoded data URLs would need re-encoding; none are seen in practice. */
function parseDataUrl(url: string, path: string): { mimeType: string; data: string } {
  const match = /^data:([^;,]+)[^,]*;base64,(.*)$/is.exec(url);
  if (!match) throw new UnsupportedRequestError(`${path} must be a base64 data URL (data:<mime>;base64,<data>).`, path);
  return { mimeType: match[1]!.toLowerCase(), data: match[2]! };
}

/** The type a URL or file name's extension implies (query and fragment ignored), if it is one Gemini reads. */
function mimeFromName(name: string): string | undefined {
  const lastSegment = name.split(/[?#]/, 1)[0]!.split("/").at(-1)!;
  const dot = lastSegment.lastIndexOf(".");
  return dot === -1 ? undefined : MIME_BY_EXTENSION.get(lastSegment.slice(dot + 1).toLowerCase());
}

/** Text and tool calls. `reasoning_content` is not sent back: Gemini keeps its reasoning in the signatures. */
function assistantParts(message: Message, index: number, calls: Map<string, ToolCallOrigin>): GeminiPart[] {
  const at = `messages[${index}]`;
  const parts = assistantTextParts(message.content, `${at}.content`);
  const toolCalls = message.tool_calls;
  if (toolCalls == null) return parts;
  if (!Array.isArray(toolCalls)) throw new UnsupportedRequestError(`${at}.tool_calls must be an array.`, `${at}.tool_calls`);
  toolCalls.forEach((call, callIndex) => parts.push(functionCallPart(call, `${at}.tool_calls[${callIndex}]`, { messageIndex: index, callIndex }, calls)));
  return parts;
}

/** Assistant content: a string, or text and refusal parts (a refusal is still what the model said). */
function assistantTextParts(content: Message["content"], path: string): GeminiPart[] {
  if (typeof content === "string") return textPart(content);
  if (content == null) return [];
  return content.flatMap((part, index) => {
    const at = `${path}[${index}]`;
    if (isRecord(part) && part.type === "text") return textPart(requireString(part.text, `${at}.text`));
    if (isRecord(part) && part.type === "refusal") return textPart(requireString(part.refusal, `${at}.refusal`));
    throw new UnsupportedRequestError(`${at} must be a text or refusal part in an assistant message.`, `${at}.type`);
  });
}

/**
 * One OpenAI tool call → one `functionCall` part, with the thought signature this proxy packed into
 * the id when Gemini made the call. `type` may be missing (Mistral-style histories omit it).
 */
function functionCallPart(call: unknown, path: string, place: { messageIndex: number; callIndex: number }, calls: Map<string, ToolCallOrigin>): GeminiPart {
  if (!isRecord(call)) throw new UnsupportedRequestError(`${path} must be a tool call object.`, path);
  if (call.type !== undefined && call.type !== "function") throw new UnsupportedRequestError(`${path}.type "${String(call.type)}" cannot be sent to Gemini; only function calls can.`, `${path}.type`);
  const fn = isRecord(call.function) ? call.function : {};
  const name = requireString(fn.name, `${path}.function.name`);
  const part: GeminiPart = { functionCall: { name, args: parseToolArguments(fn.arguments, `${path}.function.arguments`) } };
  if (typeof call.id === "string") {
    calls.set(call.id, { name, ...place });
    const signature = signatureFromToolCallId(call.id);
    if (signature !== undefined) part.thoughtSignature = signature;
  }
  return part;
}

/**
 * Gemini 3 validates the signature of the first function call in each model turn (parallel calls
 * carry one signature, on the first). Where that call has none, the documented sentinel stands in;
 * later calls in the turn need nothing.
 */
function signFirstFunctionCalls(contents: GeminiContent[]): void {
  for (const content of contents) {
    if (content.role !== "model") continue;
    const firstCall = content.parts.find((part) => part.functionCall !== undefined);
    if (firstCall !== undefined && firstCall.thoughtSignature === undefined) firstCall.thoughtSignature = SKIP_SIGNATURE_VALIDATOR;
  }
}

/** A tool message answers an earlier call by id; Gemini answers by function name, found from that call. */
function toolResponse(message: Message, at: string, calls: Map<string, ToolCallOrigin>): PendingResponse {
  const id = requireString(message.tool_call_id, `${at}.tool_call_id`);
  const origin = calls.get(id);
  if (origin === undefined) throw new UnsupportedRequestError(`${at}.tool_call_id "${id}" matches no tool call of an earlier assistant message.`, `${at}.tool_call_id`);
  const output = toolOutput(textOnlyParts(message.content, `${at}.content`).map((part) => part.text).join(""));
  return { origin, part: { functionResponse: { name: origin.name, response: { output } } } };
}

/** A JSON object result is passed as structure (Gemini reads it better than escaped text); anything else as the string. */
function toolOutput(text: string): unknown {
  if (!text.trimStart().startsWith("{")) return text;
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : text;
  } catch {
    return text;
  }
}

/** All functions go in one tool entry, as Gemini's examples do; `strict` has no Gemini counterpart. */
function convertTools(tools: ChatRequest["tools"]): GeminiFunctionDeclaration[] {
  return (tools ?? []).map((tool, index) => functionDeclaration(tool, `tools[${index}]`));
}

function functionDeclaration(tool: NonNullable<ChatRequest["tools"]>[number], path: string): GeminiFunctionDeclaration {
  if (tool.type !== "function") throw new UnsupportedRequestError(`${path}.type "${tool.type}" cannot be sent to Gemini; only function tools can.`, `${path}.type`);
  const fn = isRecord(tool.function) ? tool.function : {};
  const declaration: GeminiFunctionDeclaration = { name: requireString(fn.name, `${path}.function.name`) };
  if (typeof fn.description === "string") declaration.description = fn.description;
  if (fn.parameters != null) declaration.parametersJsonSchema = cleanJsonSchemaForGemini(fn.parameters);
  return declaration;
}

function convertToolChoice(choice: NonNullable<ChatRequest["tool_choice"]>): ToolConfig {
  if (typeof choice === "string") {
    const mode = MODE_BY_TOOL_CHOICE.get(choice);
    if (mode === undefined) throw new UnsupportedRequestError(`tool_choice "${choice}" is not one of auto, none, required.`, "tool_choice");
    return { functionCallingConfig: { mode } };
  }
  const name = choice.type === "function" && isRecord(choice.function) ? choice.function.name : undefined;
  if (typeof name !== "string") throw new UnsupportedRequestError('tool_choice must be "auto", "none", "required" or {"type": "function", "function": {"name": …}}.', "tool_choice");
  return { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [name] } };
}

function convertSafetySettings(settings: unknown): GeminiSafetySetting[] {
  if (settings == null) return [];
  const mapped = mapSafetySettings(settings);
  if (mapped === undefined) throw new UnsupportedRequestError('safety_settings must be a dict like {"harassment": "block_none"} or a list of {category, threshold}.', "safety_settings");
  return mapped;
}

function convertGenerationConfig(body: ChatRequest, model: string): GenerationConfig {
  const config: GenerationConfig = {};
  if (body.temperature != null) config.temperature = body.temperature;
  if (body.top_p != null) config.topP = body.top_p;
  // Not OpenAI, but a common extension (OpenRouter, vLLM) with an exact Gemini counterpart.
  if (typeof body.top_k === "number") config.topK = body.top_k;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens != null) config.maxOutputTokens = maxTokens;
  const stop = (typeof body.stop === "string" ? [body.stop] : (body.stop ?? [])).filter((sequence) => sequence !== "");
  if (stop.length > 0) config.stopSequences = stop;
  if (body.n != null) config.candidateCount = body.n;
  if (body.seed != null) config.seed = body.seed;
  if (body.presence_penalty != null) config.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty != null) config.frequencyPenalty = body.frequency_penalty;
  if (typeof body.logprobs === "boolean") config.responseLogprobs = body.logprobs;
  // OpenAI's 0 means "no alternatives", which is Gemini's behaviour with `logprobs` unset.
  if (typeof body.top_logprobs === "number" && body.top_logprobs > 0) config.logprobs = body.top_logprobs;
  Object.assign(config, responseFormat(body.response_format));
  const thinkingConfig = thinkingConfigFor(body, model);
  if (thinkingConfig !== undefined) config.thinkingConfig = thinkingConfig;
  return config;
}

function responseFormat(format: ChatRequest["response_format"]): Pick<GenerationConfig, "responseMimeType" | "responseJsonSchema"> {
  if (format == null || format.type === "text") return {};
  if (format.type === "json_object") return { responseMimeType: "application/json" };
  if (format.type === "json_schema") {
    const schema = isRecord(format.json_schema) ? format.json_schema.schema : undefined;
    if (schema == null) return { responseMimeType: "application/json" };
    return { responseMimeType: "application/json", responseJsonSchema: cleanJsonSchemaForGemini(schema) };
  }
  throw new UnsupportedRequestError(`response_format.type "${format.type}" is not one of text, json_object, json_schema.`, "response_format.type");
}

