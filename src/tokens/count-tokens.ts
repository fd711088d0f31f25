/**
 * Local token counts for OpenAI-style chat requests, for when an upstream
 * reports no usage and for budgeting a request before it is sent.
 *
 * Chat framing follows OpenAI's published recipe: 3 tokens per message, 1 more
 * per message name, 3 to prime the reply. The result is exact for plain-text
 * chats on OpenAI's gpt-4 / gpt-4o families and an estimate everywhere else:
 * images, tool schemas and other vendors' tokenizers are approximated.
 */

import { isRecord } from "../formats/is-record.ts";

export type EncodingName = "o200k_base" | "cl100k_base" | "o200k_harmony";

export interface ChatMessageLike {
  role: string;
  content?: unknown;
  name?: string;
  tool_calls?: unknown;
  tool_call_id?: string;
}

/**
 * Flat charge per image part: OpenAI's price for a low-detail image. The real
 * cost grows with resolution, which is unknown without fetching the image.
 */
export const IMAGE_PART_TOKENS = 85;

const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING_TOKENS = 3;

/** Content part types that carry an image rather than text (chat, Responses and Anthropic shapes). */
const IMAGE_PART_TYPES = new Set(["image_url", "input_image", "image"]);

/** gpt-4 and its dashed variants (gpt-4-turbo, gpt-4-0613, gpt-4-32k) but not gpt-4o / gpt-4.1 / gpt-4.5. */
const CL100K_MODEL = /^(?:gpt-4(?:-|$)|gpt-3\.?5|text-embedding-ada-002|text-embedding-3-)/;

// With nothing disallowed, "<|endoftext|>" typed by a user is tokenized as
// ordinary text instead of making the library throw.
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

type EncodingModule = typeof import("gpt-tokenizer/encoding/o200k_base");
type CountTokens = EncodingModule["countTokens"];

// require rather than a static import: each encoding parses megabytes of
// ranks, so it is loaded on first use and only if some model needs it, while
// counting stays synchronous.
const ENCODING_LOADERS: Record<"o200k_base" | "cl100k_base", () => EncodingModule> = {
  o200k_base: () => require("gpt-tokenizer/encoding/o200k_base"),
  cl100k_base: () => require("gpt-tokenizer/encoding/cl100k_base"),
};

const loadedCounters = new Map<keyof typeof ENCODING_LOADERS, CountTokens>();

/** Picks the tokenizer for a model id given without this proxy's provider prefix. */
export function encodingForModel(model: string): EncodingName {
  // Hosts such as Groq and OpenRouter namespace upstream models ("openai/gpt-oss-120b").
  const lower = model.toLowerCase();
  const name = lower.slice(lower.lastIndexOf("/") + 1);
  if (name.startsWith("gpt-oss")) return "o200k_harmony";
  if (CL100K_MODEL.test(name)) return "cl100k_base";
  return "o200k_base";
}

export function countTextTokens(text: string, model: string): number {
  return counterFor(encodingForModel(model))(text, PLAIN_TEXT);
}

/** Prompt tokens of a chat request: messages, their framing, assistant tool calls and tool definitions. */
export function countChatTokens(messages: ChatMessageLike[], model: string, tools?: unknown[]): number {
  const count = counterFor(encodingForModel(model));
  const text = (value: string) => count(value, PLAIN_TEXT);

  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + text(message.role) + countContent(message.content, text);
    if (message.name) total += TOKENS_PER_NAME + text(message.name);
    total += countToolCalls(message.tool_calls, text);
  }
  // OpenAI renders tool schemas into its own prompt syntax; their JSON is a
  // close stand-in of similar size.
  if (tools && tools.length > 0) total += text(JSON.stringify(tools));
  return total;
}

function counterFor(encoding: EncodingName): CountTokens {
  // o200k_harmony differs from o200k_base only in its special tokens, which
  // are counted as plain text here, so both share one set of tables.
  const base = encoding === "cl100k_base" ? "cl100k_base" : "o200k_base";
  let count = loadedCounters.get(base);
  if (!count) {
    count = ENCODING_LOADERS[base]().countTokens;
    loadedCounters.set(base, count);
  }
  return count;
}

function countContent(content: unknown, text: (value: string) => number): number {
  if (typeof content === "string") return text(content);
  if (!Array.isArray(content)) return 0;
  let total = 0;
  for (const part of content) {
    if (!isRecord(part)) continue;
    if (typeof part.text === "string") total += text(part.text);
    else if (typeof part.refusal === "string") total += text(part.refusal);
    else if (typeof part.type === "string" && IMAGE_PART_TYPES.has(part.type)) total += IMAGE_PART_TOKENS;
  }
  return total;
}

function countToolCalls(toolCalls: unknown, text: (value: string) => number): number {
  if (!Array.isArray(toolCalls)) return 0;
  let total = 0;
  for (const call of toolCalls) {
    if (!isRecord(call) || !isRecord(call.function)) continue;
    const { name, arguments: args } = call.function;
    if (typeof name === "string") total += text(name);
    // Arguments are a JSON string per the API, but some clients send the object itself.
    if (typeof args === "string") total += text(args);
    else if (isRecord(args)) total += text(JSON.stringify(args));
  }
  return total;
}
