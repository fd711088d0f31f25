/**
 * OpenAI `chat.completion` → Gemini `GenerateContentResponse`, for a Gemini-native client served by
 * another provider. One candidate per choice: reasoning as a `thought: true` part first, then the
 * text, then each tool call as a whole `functionCall` part carrying the tool call id, which Gemini
 * clients send back on the `functionResponse` so the next turn matches it exactly. The finish
 * reason and usage helpers are shared with the stream converter.
 */

import type { GeminiCandidate, GeminiGenerateResponse, GeminiPart, GeminiUsageMetadata } from "./types.ts";

/** What the proxy decides for the answer: the model name the client asked for, and the response id. */
export interface GeminiAnswerContext {
  modelVersion: string;
  responseId: string;
}

const FINISH_REASONS: Record<string, string> = {
  stop: "STOP",
  tool_calls: "STOP",
  function_call: "STOP",
  length: "MAX_TOKENS",
  content_filter: "SAFETY",
};

/** OpenAI finish reason → Gemini's; Gemini has no tool-call reason (a calling turn ends with STOP). */
export function geminiFinishReason(reason: unknown): string | undefined {
  if (typeof reason !== "string") return undefined;
  return FINISH_REASONS[reason] ?? "OTHER";
}

/**
 * OpenAI usage → `usageMetadata`. OpenAI counts reasoning inside `completion_tokens`; Gemini keeps
 * thoughts apart from `candidatesTokenCount`.
 */
export function geminiUsageMetadata(usage: unknown): GeminiUsageMetadata | undefined {
  if (typeof usage !== "object" || usage === null) return undefined;
  const { prompt_tokens, completion_tokens, total_tokens, prompt_tokens_details, completion_tokens_details } = usage as Record<string, any>;
  const prompt = typeof prompt_tokens === "number" ? prompt_tokens : 0;
  const completion = typeof completion_tokens === "number" ? completion_tokens : 0;
  const thoughts = typeof completion_tokens_details?.reasoning_tokens === "number" ? completion_tokens_details.reasoning_tokens : 0;
  const cached = typeof prompt_tokens_details?.cached_tokens === "number" ? prompt_tokens_details.cached_tokens : 0;
  const metadata: GeminiUsageMetadata = {
    promptTokenCount: prompt,
    candidatesTokenCount: Math.max(0, completion - thoughts),
    totalTokenCount: typeof total_tokens === "number" ? total_tokens : prompt + completion,
  };
  if (thoughts > 0) metadata.thoughtsTokenCount = thoughts;
  if (cached > 0) metadata.cachedContentTokenCount = cached;
  return metadata;
}

/** One OpenAI tool call as a Gemini `functionCall` part; arguments that are not a JSON object are kept under `arguments`. */
export function functionCallPart(call: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }): GeminiPart {
  const name = typeof call.function?.name === "string" ? call.function.name : "";
  const args = parseArguments(call.function?.arguments);
  return { functionCall: { name, args, ...(typeof call.id === "string" ? { id: call.id } : {}) } };
}

function parseArguments(text: unknown): Record<string, unknown> {
  if (typeof text !== "string" || text.trim() === "") return {};
  try {
    const parsed = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? parsed : { arguments: parsed };
  } catch {
    return { arguments: text };
  }
}

export function convertCompletionToGemini(completion: Record<string, any>, context: GeminiAnswerContext): GeminiGenerateResponse {
  const choices: any[] = Array.isArray(completion.choices) ? completion.choices : [];
  const response: GeminiGenerateResponse = {
    candidates: choices.map((choice, position) => candidateOf(choice, position)),
    modelVersion: context.modelVersion,
    responseId: context.responseId,
  };
  const usage = geminiUsageMetadata(completion.usage);
  if (usage) response.usageMetadata = usage;
  return response;
}

function candidateOf(choice: Record<string, any>, position: number): GeminiCandidate {
  const message = choice.message ?? {};
  const parts: GeminiPart[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === "string" && reasoning !== "") parts.push({ text: reasoning, thought: true });
  const text = typeof message.content === "string" ? message.content : typeof message.refusal === "string" ? message.refusal : "";
  if (text !== "") parts.push({ text });
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) parts.push(functionCallPart(call));
  const candidate: GeminiCandidate = { content: { role: "model", parts }, index: typeof choice.index === "number" ? choice.index : position };
  const finishReason = geminiFinishReason(choice.finish_reason);
  if (finishReason) candidate.finishReason = finishReason;
  return candidate;
}
