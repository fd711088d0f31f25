/**
 * Gemini `streamGenerateContent?alt=sse` events → OpenAI `chat.completion.chunk` payloads.
 *
 * Every Gemini event is a whole response object holding only the new parts, and function calls
 * arrive complete, never in fragments. So one event becomes at most one chunk (after the role chunk
 * OpenAI clients expect first), and each tool call goes out whole in a single delta. The converter
 * only translates: the caller parses the SSE, frames each payload as `data: …` and appends `[DONE]`.
 */

import { blockedPromptRefusal, filteredAnswerRefusal, summarizeGeminiParts, type GeminiConversionContext } from "./convert-gemini-response.ts";
import { convertGeminiUsage } from "./convert-gemini-usage.ts";
import type { GeminiCandidate, GeminiResponse, GeminiUsage } from "./gemini-types.ts";
import { mapGeminiFinishReason, type OpenAIFinishReason } from "./map-gemini-finish-reason.ts";
import { chunkPayload } from "../../formats/openai-chat-answers.ts";

export interface GeminiStreamConverter {
  /** The payloads one upstream event becomes; often one, none for an event with nothing new. */
  push(event: GeminiResponse): string[];
  /** The payloads that close the stream: the usage chunk, or the error of a stream that said nothing. */
  finish(): string[];
}

/** What the stream has said so far for one choice (one Gemini candidate). */
interface ChoiceState {
  announced: boolean;
  /** Tool call indexes count across the whole stream: calls of later events must not reuse 0. */
  toolCalls: number;
  /** Text or a tool call went out, so a filtered finish needs no refusal to explain itself. */
  answered: boolean;
  /** Thought text went out. */
  reasoned: boolean;
}

interface ChunkChoice {
  index: number;
  delta: Record<string, unknown>;
  finish_reason: OpenAIFinishReason | null;
}

/**
 * A 200 stream that closes having said nothing is a Gemini glitch, not an answer. The error is
 * Google-shaped (as Gemini's own errors are) so the engine classifies it as transient and rotates.
 */
const EMPTY_STREAM_ERROR = JSON.stringify({
  error: { code: 502, status: "UNAVAILABLE", message: "Gemini ended the stream without any content" },
});

/** Content, then the end of the stream with no candidate's finishReason: cut short, not an answer. */
const TRUNCATED_STREAM_ERROR = JSON.stringify({
  error: { code: 502, status: "UNAVAILABLE", message: "Gemini closed the stream before its final event" },
});

export function createGeminiStreamConverter(context: GeminiConversionContext): GeminiStreamConverter {
  const choices = new Map<number, ChoiceState>();
  let usage: GeminiUsage | undefined;
  let produced = false;
  let failed = false;
  /** A candidate gave its finishReason (or the prompt was blocked): the stream said it was over. */
  let finished = false;

  const envelope = (fields: Record<string, unknown>): string => chunkPayload(context, fields);

  const stateOf = (index: number): ChoiceState => {
    let state = choices.get(index);
    if (!state) {
      state = { announced: false, toolCalls: 0, answered: false, reasoned: false };
      choices.set(index, state);
    }
    return state;
  };

  return {
    push(event) {
      // Nothing after an error belongs to the answer: the caller ends the stream with it.
      if (failed) return [];
      if (event.error) {
        failed = true;
        return [JSON.stringify({ error: event.error })];
      }
      if (event.usageMetadata) usage = event.usageMetadata;
      if (event.promptFeedback?.blockReason !== undefined || (event.candidates ?? []).some((candidate) => candidate?.finishReason !== undefined)) finished = true;
      const said = convertEvent(event, stateOf);
      if (said.length === 0) return [];
      produced = true;
      const out: string[] = [];
      const unannounced = said.filter((choice) => !stateOf(choice.index).announced);
      if (unannounced.length > 0) {
        for (const choice of unannounced) stateOf(choice.index).announced = true;
        out.push(envelope({ choices: unannounced.map((choice) => roleChoice(choice.index)) }));
      }
      out.push(envelope({ choices: said }));
      return out;
    },
    finish() {
      if (failed) return [];
      if (!produced) return [EMPTY_STREAM_ERROR];
      if (!finished) return [TRUNCATED_STREAM_ERROR];
      return [envelope({ choices: [], usage: convertGeminiUsage(usage ?? {}) })];
    },
  };
}

function roleChoice(index: number): ChunkChoice {
  return { index, delta: { role: "assistant", content: "" }, finish_reason: null };
}

function convertEvent(event: GeminiResponse, stateOf: (index: number) => ChoiceState): ChunkChoice[] {
  const candidates = event.candidates ?? [];
  if (candidates.length === 0 && event.promptFeedback?.blockReason !== undefined) {
    return [{ index: 0, delta: { refusal: blockedPromptRefusal(event.promptFeedback) }, finish_reason: "content_filter" }];
  }
  const said: ChunkChoice[] = [];
  for (const [position, candidate] of candidates.entries()) {
    const index = candidate.index ?? position;
    const choice = convertCandidate(candidate, index, stateOf(index));
    if (choice) said.push(choice);
  }
  return said;
}

/** The candidate's new parts as one delta, or undefined when the event brings nothing for it. */
function convertCandidate(candidate: GeminiCandidate, index: number, state: ChoiceState): ChunkChoice | undefined {
  const { text, reasoning, toolCalls } = summarizeGeminiParts(candidate.content?.parts);
  const delta: Record<string, unknown> = {};
  if (reasoning) delta.reasoning_content = reasoning;
  if (text) delta.content = text;
  if (toolCalls.length > 0) delta.tool_calls = toolCalls.map((call) => ({ index: state.toolCalls++, ...call }));
  if (text || toolCalls.length > 0) state.answered = true;
  // The call that decides the finish reason may have come events earlier.
  const finishReason = mapGeminiFinishReason(candidate.finishReason, state.toolCalls > 0);
  if (finishReason === "content_filter" && !state.answered) delta.refusal = filteredAnswerRefusal(candidate);
  if (reasoning) state.reasoned = true;
  if (Object.keys(delta).length === 0 && finishReason === null) return undefined;
  // A plain stop with nothing said before it is an empty answer, not an answer: say nothing, so
  // the stream ends in the empty-stream error and the engine rotates before the client sees it.
  if (Object.keys(delta).length === 0 && finishReason === "stop" && !state.answered && !state.reasoned) return undefined;
  return { index, delta, finish_reason: finishReason };
}
