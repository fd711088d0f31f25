/**
 * Gemini `streamGenerateContent?alt=sse` events passed through untranslated, for Gemini-native
 * clients of `gemini/` models. Before commit, an error (a `data:` event or the bare JSON error
 * object Google sometimes ends a stream with) rotates, and so does a plain STOP with nothing in it
 * (Gemini's empty-candidate glitch); events without content are held back; the stream commits at
 * the first text, thought, function call, block or non-STOP finish. After commit every event goes
 * out as it came, framed as Google frames it; usage is read from `usageMetadata`. Gemini streams
 * have no terminator, so a stream is complete when the upstream closes after a finish reason, and
 * a failure — or bytes that are not events, which are never forwarded — ends it with one
 * Google-shaped error event.
 */

import { classifyEmbeddedError, networkFailure } from "../classify-failure.ts";
import type { Failure } from "../../outcome.ts";
import type { TokenUsage } from "../../outcome.ts";
import { googleErrorBody } from "../../formats/gemini/google-error.ts";
import type { SseEvent } from "../../formats/sse.ts";
import type { EventVerdict } from "../attempts.ts";
import { readOpenAIUsage } from "../openai/read-usage.ts";
import { corruptStreamFailure, type RelayDialect } from "../relay-stream.ts";
import { convertGeminiUsage } from "./convert-gemini-usage.ts";
import type { GeminiResponse } from "./gemini-types.ts";

/** The JSON of an event: its `data:`, or a bare JSON object Google wrote outside the SSE framing. */
function payloadOf(event: SseEvent): string | undefined {
  return event.data ?? (event.raw.trimStart().startsWith("{") ? event.raw : undefined);
}

function parse(text: string): GeminiResponse | undefined {
  try {
    const parsed = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const INVALID_JSON = "Gemini sent a stream event that is not valid JSON";

function hasContent(response: GeminiResponse): boolean {
  if (response.promptFeedback?.blockReason !== undefined) return true;
  return (response.candidates ?? []).some(
    (candidate) =>
      (candidate.finishReason !== undefined && candidate.finishReason !== "STOP") ||
      (candidate.content?.parts ?? []).some((part) => part.functionCall !== undefined || (part.text ?? "") !== ""),
  );
}

function finishes(response: GeminiResponse): boolean {
  return response.promptFeedback?.blockReason !== undefined || (response.candidates ?? []).some((candidate) => candidate.finishReason !== undefined);
}

export function inspectGeminiEvent(event: SseEvent, headers: Headers): EventVerdict {
  const payload = payloadOf(event);
  if (payload === undefined) return { kind: "skip" };
  const response = parse(payload);
  if (!response) return { kind: "failure", failure: { ...networkFailure(INVALID_JSON), status: 200 } };
  if (response.error) return { kind: "failure", failure: classifyEmbeddedError(response, headers, Date.now()) };
  if (hasContent(response)) return { kind: "substantive" };
  // Nothing came before this event (the stream is not committed yet), so a finish now is an empty answer.
  if (finishes(response)) return { kind: "failure", failure: { ...networkFailure("Gemini answered with an empty candidate"), status: 200 } };
  return { kind: "preamble" };
}

/** A failure as Google's error object; one without an HTTP error status is the upstream's fault, a 502. */
export function geminiErrorPayload(failure: Failure): string {
  const status = failure.status >= 400 ? failure.status : 502;
  return JSON.stringify(googleErrorBody(status, failure.message));
}

export function geminiErrorEvent(failure: Failure): string {
  return geminiEvent(geminiErrorPayload(failure));
}

/** Google's own framing. */
export function geminiEvent(payload: string): string {
  return `data: ${payload}\r\n\r\n`;
}

export function geminiRelayDialect(): RelayDialect {
  let usage: TokenUsage | undefined;
  let finished = false;
  return {
    render(events, out, headers) {
      for (const event of events) {
        const payload = payloadOf(event);
        // Google's bare JSON object is not SSE, but it is Google's; any other stray line is garbage.
        if (event.malformed && (payload === undefined || event.data !== undefined)) return corruptStreamFailure();
        if (payload === undefined) continue;
        const response = parse(payload);
        if (!response) return { ...networkFailure(INVALID_JSON), status: 200 };
        if (response.error) return classifyEmbeddedError(response, headers, Date.now());
        if (response.usageMetadata) usage = readOpenAIUsage(convertGeminiUsage(response.usageMetadata)) ?? usage;
        finished ||= finishes(response);
        out.push(geminiEvent(payload));
      }
      return undefined;
    },
    failureText: geminiErrorEvent,
    cleanEnd: () => (finished ? { text: "" } : { failure: networkFailure("Gemini closed the stream before its final event") }),
    usage: () => usage,
  };
}
