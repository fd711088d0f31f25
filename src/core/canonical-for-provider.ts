/**
 * A canonical chat request built from another client dialect (Anthropic Messages, Responses,
 * Gemini-native) may carry fields only the Gemini and Anthropic adapters read: `thinking`, `top_k`,
 * `cache_control`, `is_error`, reasoning with its signature. Those adapters get the request as it
 * is; OpenAI-compatible hosts forward bodies untouched and strict ones reject unknown fields, so
 * for them the extras are removed. One recipe for every dialect route.
 */

import { stripAnthropicExtras } from "../formats/anthropic/strip-anthropic-extras.ts";
import type { ChatRequest } from "../formats/openai-requests.ts";
import type { ProviderRuntime } from "./provider-runtime.ts";
import { speaksOpenAI } from "../providers/catalog.ts";

/** Hosts whose thinking models need their `reasoning_content` back on tool turns. */
const REASONING_ROUND_TRIP = new Set(["deepseek"]);

export function canonicalForProvider(chat: ChatRequest, runtime: ProviderRuntime): ChatRequest {
  if (!speaksOpenAI(runtime.settings.family)) return chat;
  return stripAnthropicExtras(chat, { keepReasoning: REASONING_ROUND_TRIP.has(runtime.settings.name) });
}
