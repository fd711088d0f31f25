/**
 * Anthropic events passed through untranslated (`/v1/messages` with an `anthropic/` model). Before
 * commit, `message_start` and pings are held back and an `event: error` rotates; the stream
 * commits at the first content. After commit events go out as they came; usage is read from
 * `message_start` and `message_delta`, and a failure ends the stream with one `event: error` — so
 * do bytes that are not well-formed events, which are never forwarded.
 * Anthropic names every event in its `event:` line, so only those few events are parsed: the
 * deltas that make up nearly all of a stream pass as they came.
 */

import { classifyEmbeddedError, networkFailure } from "../classify-failure.ts";
import type { Failure } from "../../outcome.ts";
import type { TokenUsage } from "../../outcome.ts";
import { holdsOnlyJsonEvents, isJsonEvent, type SseEvent } from "../../formats/sse.ts";
import type { EventVerdict } from "../attempts.ts";
import { corruptStreamFailure, type RelayDialect } from "../relay-stream.ts";
import { readAnthropicUsage } from "./read-anthropic-usage.ts";

const PREAMBLE = new Set(["message_start", "ping"]);

function parse(data: string | undefined): Record<string, unknown> | undefined {
  if (data === undefined) return undefined;
  try {
    const parsed = JSON.parse(data);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function nameOf(event: SseEvent, payload: Record<string, unknown> | undefined): string | undefined {
  return event.event ?? (typeof payload?.type === "string" ? payload.type : undefined);
}

/** Events the relay must look inside: the two that carry usage, the error, and the terminator. */
const NOTED = new Set(["message_start", "message_delta", "message_stop", "error"]);

export function inspectAnthropicEvent(event: SseEvent, headers: Headers): EventVerdict {
  if (event.data === undefined) return { kind: "skip" };
  const payload = parse(event.data);
  if (!payload) return { kind: "failure", failure: { ...networkFailure("Anthropic sent a stream event that is not valid JSON"), status: 200 } };
  const name = nameOf(event, payload);
  if (name === "error") return { kind: "failure", failure: classifyEmbeddedError(payload, headers, Date.now()) };
  return PREAMBLE.has(name ?? "") ? { kind: "preamble" } : { kind: "substantive" };
}

/** One `event: error` in Anthropic's envelope. */
export function anthropicErrorEvent(type: string, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message } })}\n\n`;
}

export function anthropicRelayDialect(): RelayDialect {
  let usage: TokenUsage | undefined;
  return {
    render(events, out, headers) {
      for (const event of events) {
        if (!isJsonEvent(event)) return corruptStreamFailure();
        let name = event.event;
        // Only an event that may be a noted one is parsed; one without an `event:` line is named by its payload.
        if (event.data !== undefined && (name === undefined || NOTED.has(name))) {
          const payload = parse(event.data);
          name = nameOf(event, payload);
          if (name === "error") return classifyEmbeddedError(payload ?? {}, headers, Date.now());
          if (name === "message_start") usage = readAnthropicUsage((payload?.message as { usage?: unknown } | undefined)?.usage, usage);
          if (name === "message_delta") usage = readAnthropicUsage(payload?.usage, usage);
        }
        out.push(`${event.raw}\n\n`);
        if (name === "message_stop") return "done";
      }
      return undefined;
    },
    // Every noted event has its name in the text, so a piece without those names holds none.
    passesUnchanged: (text) => !text.includes("\r") && !text.includes("message_") && !text.includes("error") && holdsOnlyJsonEvents(text),
    failureText: (failure: Failure) => anthropicErrorEvent(anthropicErrorTypeOfFailure(failure), failure.message),
    cleanEnd: () => ({ failure: networkFailure("Anthropic closed the stream before message_stop") }),
    usage: () => usage,
  };
}

/** The Anthropic error type a client expects for a failure class. */
export function anthropicErrorTypeOfFailure(failure: Failure): string {
  if (failure.code && /_error$/.test(failure.code)) return failure.code;
  switch (failure.class) {
    case "rate_limit":
    case "quota":
      return "rate_limit_error";
    case "invalid_key":
      return "authentication_error";
    case "billing":
      return "billing_error";
    case "request":
      return "invalid_request_error";
    default:
      return failure.status === 529 || failure.status === 503 ? "overloaded_error" : "api_error";
  }
}
