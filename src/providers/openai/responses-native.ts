/**
 * The Responses API passed through to a host that serves `/responses` itself (OpenAI, and hosts
 * configured with `<P>_RESPONSES=native`). Before commit, `response.created` / `in_progress` are
 * held back, and an `error` event or `response.failed` rotates to the next key invisibly; the
 * stream commits at the first output event. After commit events go out as they came: only the
 * terminal events and errors are parsed (usage and the final response come from them), and the
 * client gets the provider's own failure events. A failure of ours (silence, a reset) ends the
 * stream with an `error` event and `response.failed`, as the host itself would; so do bytes that
 * are not well-formed events, which never reach the client.
 */

import { classifyEmbeddedError, networkFailure } from "../classify-failure.ts";
import type { Failure } from "../../outcome.ts";
import type { TokenUsage } from "../../outcome.ts";
import { holdsOnlyJsonEvents, isJsonEvent, type SseEvent } from "../../formats/sse.ts";
import { isRecord } from "../../formats/is-record.ts";
import type { DecodeAnswers, EventVerdict } from "../attempts.ts";
import { corruptStreamFailure, type RelayDialect } from "../relay-stream.ts";
import { findUsage, isObjectText } from "./find-usage.ts";
import { readOpenAIUsage } from "./read-usage.ts";

const PREAMBLE = new Set(["response.created", "response.in_progress", "response.queued"]);
const TERMINAL = new Set(["response.completed", "response.incomplete"]);
/** Events the relay must look inside; every other event passes as it came. */
const NOTED = new Set(["response.created", "response.completed", "response.incomplete", "response.failed", "error"]);

function parse(data: string | undefined): Record<string, unknown> | undefined {
  if (data === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(data);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function nameOf(event: SseEvent, payload: Record<string, unknown> | undefined): string | undefined {
  return event.event ?? (typeof payload?.type === "string" ? payload.type : undefined);
}

/** `error` events carry the error at the top level, `response.failed` inside its response. */
function failureOf(name: string, payload: Record<string, unknown>, headers: Headers): Failure {
  const source = name === "response.failed" && isRecord(payload.response) ? payload.response : payload;
  return classifyEmbeddedError(source, headers, Date.now());
}

export function inspectResponsesEvent(event: SseEvent, headers: Headers): EventVerdict {
  if (event.data === undefined) return { kind: "skip" };
  const payload = parse(event.data);
  if (!payload) return { kind: "failure", failure: { ...networkFailure("the upstream sent a Responses event that is not valid JSON"), status: 200 } };
  const name = nameOf(event, payload) ?? "";
  if (name === "error" || name === "response.failed") return { kind: "failure", failure: failureOf(name, payload, headers) };
  return PREAMBLE.has(name) ? { kind: "preamble" } : { kind: "substantive" };
}

/** An error object as a value (`"error": {`), not the `"error": null` every response carries. */
const ERROR_OBJECT = /"error"\s*:\s*\{/;

/**
 * A non-stream answer: the response object as it came, with usage; a failed one rotates. An answer
 * that is a whole object, never says "failed" and holds no error object passes on its text alone,
 * its usage found in place, as chat answers do.
 */
export const decodeNativeResponse: DecodeAnswers = ([answer], headers) => {
  const { text } = answer!;
  if (!text.includes('"failed"') && !ERROR_OBJECT.test(text) && isObjectText(text)) {
    const usage = findUsage(text);
    if (usage.found) return { ok: true, text, usage: readOpenAIUsage(usage.value) };
  }
  const body = answer!.body;
  if (!isRecord(body) || (body.object !== "response" && body.error !== undefined && body.error !== null)) {
    return { ok: false, failure: classifyEmbeddedError(body, headers, Date.now()) };
  }
  if (body.status === "failed") return { ok: false, failure: classifyEmbeddedError(body, headers, Date.now()) };
  return { ok: true, text: answer!.text, usage: readOpenAIUsage(body.usage) };
};

export interface ResponsesRelayDialect extends RelayDialect {
  /** The final response object of the stream, once its terminal event has passed. */
  finalResponse(): Record<string, unknown> | undefined;
}

export function responsesRelayDialect(): ResponsesRelayDialect {
  let usage: TokenUsage | undefined;
  let skeleton: Record<string, unknown> = {};
  let final: Record<string, unknown> | undefined;
  let lastSequence = -1;
  /** The provider's own error event went out (response.failed may still follow), and what it said. */
  let errorSent: Failure | undefined;
  let failedSent = false;

  const noteSequence = (text: string): void => {
    const at = text.lastIndexOf('"sequence_number":');
    if (at === -1) return;
    const match = /^"sequence_number":\s*(\d+)/.exec(text.slice(at, at + 40));
    if (match) lastSequence = Math.max(lastSequence, Number(match[1]));
  };

  const frame = (type: string, payload: Record<string, unknown>): string => {
    lastSequence += 1;
    return `event: ${type}\ndata: ${JSON.stringify({ type, ...payload, sequence_number: lastSequence })}\n\n`;
  };

  return {
    render(events, out, headers) {
      for (const event of events) {
        if (!isJsonEvent(event)) return corruptStreamFailure();
        noteSequence(event.raw);
        let name = event.event;
        if (event.data !== undefined && (name === undefined || NOTED.has(name))) {
          const payload = parse(event.data) ?? {};
          name = nameOf(event, payload);
          out.push(`${event.raw}\n\n`);
          if (name === "response.created" && isRecord(payload.response)) skeleton = payload.response;
          if (name !== undefined && TERMINAL.has(name) && isRecord(payload.response)) {
            final = payload.response;
            usage = readOpenAIUsage(final.usage) ?? usage;
            return "done";
          }
          if (name === "error") errorSent = failureOf(name, payload, headers);
          if (name === "response.failed") {
            failedSent = true;
            return failureOf(name, payload, headers);
          }
          continue;
        }
        out.push(`${event.raw}\n\n`);
      }
      return undefined;
    },
    // Only the noted events need a look, and each has its name in the text. The sequence number
    // is noted here too, for a failure event of ours to continue the provider's numbering.
    passesUnchanged(text) {
      const plain = !text.includes("\r") && !text.includes("response.c") && !text.includes("response.in") && !text.includes("response.failed") && !text.includes("error") && holdsOnlyJsonEvents(text);
      if (plain) noteSequence(text);
      return plain;
    },
    failureText(failure) {
      if (failedSent) return "";
      const error = { code: failure.code ?? failure.class, message: failure.message };
      const errorEvent = errorSent ? "" : frame("error", { ...error, param: null });
      return errorEvent + frame("response.failed", { response: { ...skeleton, status: "failed", error } });
    },
    cleanEnd: () => ({ failure: errorSent ?? networkFailure("the upstream closed the Responses stream before its terminal event") }),
    usage: () => usage,
    finalResponse: () => final,
  };
}
