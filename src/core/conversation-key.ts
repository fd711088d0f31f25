/**
 * Which conversation a request belongs to, for prompt-cache affinity (engine/affinity.ts): the id
 * the client gave (`x-session-id`, OpenAI's `prompt_cache_key`, Anthropic's `metadata.user_id`), or
 * else a hash of the request's stable prefix — the system prompt and the first turn, which every
 * later turn of the conversation repeats. A prefix shorter than providers cache (about 1,024
 * tokens) gives no key: pinning short prompts to one key would only undo the spreading.
 */

import { createHash } from "node:crypto";
import type { ChatRequest } from "../formats/openai-requests.ts";

/** About 1,024 tokens, the shortest prefix OpenAI and Anthropic cache. */
export const MIN_CACHED_PREFIX_CHARS = 4096;
/**
 * A longer prefix is identified by its start, its end (the first turn, after long tools and system
 * prompts) and its length, so hashing costs at most twice this whatever the prompt's size. Two
 * conversations alike in all three would only share a preferred key, which is harmless.
 */
const HASHED_END_CHARS = 1_024;

/** `explicit` when the client gave one; else the prefix's hash when it is long enough to be cached. */
export function conversationKey(explicit: unknown, prefix: readonly unknown[]): string | undefined {
  if (typeof explicit === "string" && explicit.trim() !== "") return `id:${explicit.slice(0, 256)}`;
  const text = JSON.stringify(prefix);
  if (text.length < MIN_CACHED_PREFIX_CHARS) return undefined;
  const hashed = text.length <= 2 * HASHED_END_CHARS ? text : text.slice(0, HASHED_END_CHARS) + text.slice(-HASHED_END_CHARS);
  return `prefix:${createHash("sha1").update(hashed).digest("hex")}:${text.length}`;
}

/** The system messages and the first other message of an OpenAI chat body: what later turns repeat. */
export function chatPrefix(messages: readonly { role?: unknown }[]): unknown[] {
  const system = messages.filter((message) => message.role === "system" || message.role === "developer");
  const first = messages.find((message) => message.role !== "system" && message.role !== "developer");
  return first === undefined ? system : [...system, first];
}

/** An OpenAI chat request's conversation: the session, its `prompt_cache_key`, or its tools, system and first turn. */
export function chatConversationKey(chat: ChatRequest, sessionId: string | undefined): string | undefined {
  const prefix = chatPrefix(chat.messages as { role?: unknown }[]);
  return conversationKey(sessionId ?? (chat as { prompt_cache_key?: unknown }).prompt_cache_key, chat.tools ? [chat.tools, ...prefix] : prefix);
}
