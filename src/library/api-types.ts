/**
 * The library's request and result types, as callers see them. Requests are declared as the
 * fields the proxy reads, wide enough that what the official SDKs build — `OpenAI.ChatCompletionCreateParams`,
 * `OpenAI.EmbeddingCreateParams`, `OpenAI.Responses.ResponseCreateParams`,
 * `Anthropic.MessageCreateParams` — is accepted as it is (a test type-checks exactly that); every
 * other field of a request passes through to the provider untouched. The bodies are still checked
 * at run time by the same zod schemas as the proxy's routes. Results are the wire objects of each
 * dialect, typed with their main fields.
 */

import type { AnthropicMessage } from "../formats/anthropic/types.ts";
import type { ResponseObject as ResponseFields } from "../formats/responses/types.ts";

/** One chat message: a role, and content as text or parts (tool calls and the rest pass as sent). */
export interface ChatMessageParam {
  role: string;
  content?: string | readonly unknown[] | null;
}

/** A chat completion request (`/v1/chat/completions`), with `provider/model`. */
export interface ChatParams {
  model: string;
  messages: readonly ChatMessageParam[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  stop?: string | readonly string[] | null;
  tools?: readonly { type: string }[] | null;
  tool_choice?: string | object | null;
  response_format?: { type: string } | null;
  user?: string | null;
}

/** An embeddings request (`/v1/embeddings`). */
export interface EmbeddingsParams {
  model: string;
  input: string | readonly string[] | readonly number[] | readonly (readonly number[])[];
  dimensions?: number | null;
  encoding_format?: "float" | "base64" | null;
}

/** An Anthropic Messages request (`/v1/messages`), with `provider/model`. */
export interface MessagesParams {
  model: string;
  max_tokens: number;
  messages: readonly { role: string; content: string | readonly unknown[] }[];
  system?: string | readonly unknown[];
  stream?: boolean | null;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: readonly string[];
  tools?: readonly unknown[];
  tool_choice?: object;
  thinking?: object;
  metadata?: object;
}

/**
 * A Responses API request (`/v1/responses`), with `provider/model`. `model` is optional in the
 * type only because the OpenAI SDK's is (a stored prompt may name it); the call needs it.
 */
export interface ResponsesParams {
  model?: string;
  input?: string | readonly unknown[];
  instructions?: string | null;
  previous_response_id?: string | null;
  store?: boolean | null;
  stream?: boolean | null;
  tools?: readonly unknown[];
  tool_choice?: string | object;
  include?: readonly string[] | null;
  max_output_tokens?: number | null;
  reasoning?: object | null;
  text?: object;
  temperature?: number | null;
  top_p?: number | null;
  metadata?: object | null;
}

/** An OpenAI `chat.completion`, as the provider answered it (translated where its family is another). */
export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: "assistant"; content: string | null; tool_calls?: unknown[]; [field: string]: unknown };
    finish_reason: string | null;
    [field: string]: unknown;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; [field: string]: unknown };
  [field: string]: unknown;
}

/** One `chat.completion.chunk` of a stream. */
export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: { index: number; delta: { role?: string; content?: string | null; tool_calls?: unknown[]; [field: string]: unknown }; finish_reason: string | null; [field: string]: unknown }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; [field: string]: unknown } | null;
  [field: string]: unknown;
}

/** The embeddings list. */
export interface EmbeddingsResult {
  object: "list";
  data: { object: "embedding"; embedding: number[] | string; index: number }[];
  model: string;
  usage?: { prompt_tokens: number; total_tokens: number };
  [field: string]: unknown;
}

/** An Anthropic Message, as the Messages API answers it (translated from any other provider). */
export type Message = AnthropicMessage & Record<string, unknown>;
/** One Messages stream event: `message_start`, `content_block_delta`, …, `message_stop`. */
export type MessageStreamEvent = Record<string, unknown> & { type: string };
/** A Responses API response object (translated from chat completions where the provider has no `/responses`). */
export type ResponseObject = ResponseFields & Record<string, unknown>;
/** One Responses stream event: `response.created`, `response.output_text.delta`, …, `response.completed`. */
export type ResponseStreamEvent = Record<string, unknown> & { type: string };
