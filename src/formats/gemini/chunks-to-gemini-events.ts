/**
 * OpenAI `chat.completion.chunk` stream → Gemini `streamGenerateContent` events, for a Gemini-native
 * client served by another provider. Every event is a whole `GenerateContentResponse` holding only
 * what is new: text and reasoning (`thought: true`) go out as they come. Gemini sends function
 * calls whole, never in fragments, so tool call deltas are collected and go out complete in the
 * final event, with the finish reason and `usageMetadata` (the usage chunk comes after the finish
 * chunk, so the finish is held until the end). The caller frames the payloads as `data:` events.
 */

import { functionCallPart, geminiFinishReason, geminiUsageMetadata, type GeminiAnswerContext } from "./convert-completion-to-gemini.ts";
import type { GeminiCandidate, GeminiGenerateResponse, GeminiPart, GeminiUsageMetadata } from "./types.ts";

export interface GeminiEventWriter {
  /** The event payloads one OpenAI chunk becomes (none for a role-only or usage-only chunk). */
  push(chunk: Record<string, unknown>): string[];
  /** The final event: collected function calls, finish reasons and usage. */
  finish(): string[];
}

interface ToolCallDraft {
  id?: string;
  name: string;
  arguments: string;
}

interface ChoiceState {
  calls: Map<number, ToolCallDraft>;
  finishReason?: string;
}

export function createGeminiEventWriter(context: GeminiAnswerContext): GeminiEventWriter {
  const choices = new Map<number, ChoiceState>();
  let usage: GeminiUsageMetadata | undefined;
  let finished = false;

  const stateOf = (index: number): ChoiceState => {
    let state = choices.get(index);
    if (!state) choices.set(index, (state = { calls: new Map() }));
    return state;
  };

  const event = (candidates: GeminiCandidate[], withUsage: boolean): string => {
    const response: GeminiGenerateResponse = { candidates, modelVersion: context.modelVersion, responseId: context.responseId };
    if (withUsage && usage) response.usageMetadata = usage;
    return JSON.stringify(response);
  };

  return {
    push(chunk) {
      usage = geminiUsageMetadata(chunk.usage) ?? usage;
      const candidates: GeminiCandidate[] = [];
      for (const choice of Array.isArray(chunk.choices) ? (chunk.choices as Record<string, any>[]) : []) {
        const index = typeof choice.index === "number" ? choice.index : 0;
        const state = stateOf(index);
        const parts = deltaParts(choice.delta ?? {}, state);
        state.finishReason = geminiFinishReason(choice.finish_reason) ?? state.finishReason;
        if (parts.length > 0) candidates.push({ content: { role: "model", parts }, index });
      }
      return candidates.length > 0 ? [event(candidates, false)] : [];
    },
    finish() {
      if (finished) return [];
      finished = true;
      if (choices.size === 0) stateOf(0);
      const candidates = [...choices.entries()].map(([index, state]): GeminiCandidate => ({
        content: { role: "model", parts: [...state.calls.values()].map((call) => functionCallPart({ id: call.id, function: call })) },
        finishReason: state.finishReason ?? "STOP",
        index,
      }));
      return [event(candidates, true)];
    },
  };
}

/** Text and reasoning of one delta as parts; tool call fragments are collected into the choice's drafts. */
function deltaParts(delta: Record<string, any>, state: ChoiceState): GeminiPart[] {
  const parts: GeminiPart[] = [];
  const reasoning = delta.reasoning_content ?? delta.reasoning;
  if (typeof reasoning === "string" && reasoning !== "") parts.push({ text: reasoning, thought: true });
  if (typeof delta.content === "string" && delta.content !== "") parts.push({ text: delta.content });
  if (typeof delta.refusal === "string" && delta.refusal !== "") parts.push({ text: delta.refusal });
  for (const fragment of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
    const position = typeof fragment.index === "number" ? fragment.index : state.calls.size;
    let draft = state.calls.get(position);
    if (!draft) state.calls.set(position, (draft = { name: "", arguments: "" }));
    if (typeof fragment.id === "string") draft.id = fragment.id;
    if (typeof fragment.function?.name === "string") draft.name += fragment.function.name;
    if (typeof fragment.function?.arguments === "string") draft.arguments += fragment.function.arguments;
  }
  return parts;
}
