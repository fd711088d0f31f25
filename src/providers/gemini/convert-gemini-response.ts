/**
 * Gemini `generateContent` answer → OpenAI `chat.completion`.
 *
 * One choice per candidate. Thought summaries go to `reasoning_content` (the DeepSeek-style field
 * OpenAI clients that show reasoning already read) so they never leak into the answer, and function
 * calls become tool calls whose id carries the part's thought signature, because the id is the one
 * thing every client sends back verbatim. A prompt Google refused is still a 200 from Gemini, so it
 * stays an answer here too: a refused, content-filtered choice rather than an error.
 *
 * The part sorting and refusal texts are exported for the stream converter, so that a streamed and
 * a whole answer read the same.
 */

import { convertGeminiUsage } from "./convert-gemini-usage.ts";
import type { GeminiCandidate, GeminiPart, GeminiResponse } from "./gemini-types.ts";
import type { CompletionContext, OpenAIToolCall } from "../../formats/openai-chat-answers.ts";
import { mapGeminiFinishReason } from "./map-gemini-finish-reason.ts";
import { encodeToolCallId } from "./tool-call-id.ts";

/** The OpenAI envelope the caller decides: Gemini's own response id and model version are not it. */
export type GeminiConversionContext = CompletionContext;

/** A candidate's parts, sorted into the fields OpenAI keeps apart. */
export interface GeminiPartsSummary {
  /** The answer text, "" when there is none. */
  text: string;
  /** The thought summaries, "" when there are none. */
  reasoning: string;
  toolCalls: OpenAIToolCall[];
}

export function summarizeGeminiParts(parts: GeminiPart[] = []): GeminiPartsSummary {
  const summary: GeminiPartsSummary = { text: "", reasoning: "", toolCalls: [] };
  for (const part of parts) {
    if (part.functionCall) summary.toolCalls.push(convertGeminiFunctionCall(part.functionCall, part.thoughtSignature));
    else if (part.thought) summary.reasoning += part.text ?? "";
    else summary.text += part.text ?? "";
  }
  return summary;
}

/**
 * Gemini 3 puts the signature of parallel calls on the first call only; the others get a plain id,
 * and the request side restores the signature on exactly the call that had it.
 */
export function convertGeminiFunctionCall(call: NonNullable<GeminiPart["functionCall"]>, thoughtSignature?: string): OpenAIToolCall {
  return {
    id: encodeToolCallId(thoughtSignature),
    type: "function",
    function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
  };
}

export function blockedPromptRefusal(feedback: { blockReason?: string; blockReasonMessage?: string }): string {
  return withDetail(`Gemini blocked the prompt: ${feedback.blockReason}`, feedback.blockReasonMessage);
}

export function filteredAnswerRefusal(candidate: GeminiCandidate): string {
  return withDetail(`Gemini withheld the answer: ${candidate.finishReason}`, candidate.finishMessage);
}

function withDetail(text: string, detail: string | undefined): string {
  return detail ? `${text} (${detail})` : text;
}

export function convertGeminiResponse(response: GeminiResponse, context: GeminiConversionContext): Record<string, unknown> {
  return {
    id: context.id,
    object: "chat.completion",
    created: context.created,
    model: context.model,
    choices: convertChoices(response),
    usage: convertGeminiUsage(response.usageMetadata ?? {}),
  };
}

function convertChoices(response: GeminiResponse): Record<string, unknown>[] {
  const candidates = response.candidates ?? [];
  if (candidates.length === 0 && response.promptFeedback?.blockReason !== undefined) return [blockedPromptChoice(response.promptFeedback)];
  return candidates.map(convertCandidate);
}

function blockedPromptChoice(feedback: NonNullable<GeminiResponse["promptFeedback"]>): Record<string, unknown> {
  return {
    index: 0,
    message: { role: "assistant", content: null, refusal: blockedPromptRefusal(feedback) },
    finish_reason: "content_filter",
  };
}

function convertCandidate(candidate: GeminiCandidate, position: number): Record<string, unknown> {
  const { text, reasoning, toolCalls } = summarizeGeminiParts(candidate.content?.parts);
  const finishReason = mapGeminiFinishReason(candidate.finishReason, toolCalls.length > 0);
  const message: Record<string, unknown> = { role: "assistant", content: text || null };
  if (reasoning) message.reasoning_content = reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  // A filtered answer with nothing in it would otherwise reach the client as a silent empty reply.
  if (finishReason === "content_filter" && !text && toolCalls.length === 0) message.refusal = filteredAnswerRefusal(candidate);
  return { index: candidate.index ?? position, message, finish_reason: finishReason };
}

/**
 * Gemini now and then answers 200 with no content and a plain STOP: a glitch worth another key,
 * not an answer. A MAX_TOKENS or filtered finish with no content is a real (if empty) answer, and
 * a blocked prompt is Google's verdict on the prompt, which another key would not change.
 */
export function isEmptyGeminiResponse(response: GeminiResponse): boolean {
  if (response.promptFeedback?.blockReason !== undefined) return false;
  return (response.candidates ?? []).every(isEmptyCandidate);
}

function isEmptyCandidate(candidate: GeminiCandidate): boolean {
  if (candidate.finishReason !== undefined && candidate.finishReason !== "STOP") return false;
  return !(candidate.content?.parts ?? []).some(hasContent);
}

function hasContent(part: GeminiPart): boolean {
  return part.functionCall !== undefined || (part.text ?? "") !== "";
}
