/**
 * Relaying OpenAI SSE: events pass as they came; only events that mention usage or an error are
 * parsed. The usage-only chunk the proxy asked for on the client's behalf is dropped, and a stream
 * that fails ends with one `data: {"error":…}` event and `data: [DONE]`. So does one that is cut
 * short (closed before any finish reason) or corrupt (bytes that are not JSON events): those bytes
 * never reach the client.
 */

import { classifyEmbeddedError, networkFailure } from "../classify-failure.ts";
import type { Failure } from "../../outcome.ts";
import type { TokenUsage } from "../../outcome.ts";
import { SSE_DONE, holdsOnlyJsonEvents, isJsonEvent, sseData } from "../../formats/sse.ts";
import { corruptStreamFailure, type RelayDialect } from "../relay-stream.ts";
import { readOpenAIUsage } from "./read-usage.ts";

const USAGE_OBJECT = /"usage"\s*:\s*\{/;
const ERROR_OBJECT = /"error"\s*:\s*\{/;
/** A finish reason with a value (`null`, and the empty string some hosts send, mean none yet). */
const FINISH_REASON = /"finish_reason"\s*:\s*"[^"]/;

export function openAIRelayDialect(options: { stripUsageChunk: boolean }): RelayDialect {
  let usage: TokenUsage | undefined;
  let finishSeen = false;
  return {
    render(events, out, headers) {
      for (const event of events) {
        const data = event.data;
        if (data === "[DONE]") {
          out.push(SSE_DONE);
          return "done";
        }
        if (!isJsonEvent(event)) return corruptStreamFailure();
        if (data === undefined) {
          out.push(`${event.raw}\n\n`);
          continue;
        }
        finishSeen ||= FINISH_REASON.test(data);
        if (ERROR_OBJECT.test(data)) {
          const failure = embeddedFailure(data, headers);
          if (failure) return failure;
        }
        if (USAGE_OBJECT.test(data)) {
          const chunk = safeParse(data);
          usage = readOpenAIUsage(chunk?.usage) ?? usage;
          if (options.stripUsageChunk && Array.isArray(chunk?.choices) && chunk.choices.length === 0) continue;
        }
        out.push(`${event.raw}\n\n`);
      }
      return undefined;
    },
    // Events pass as they came unless one may carry usage, an error, a finish reason or the
    // terminator, or is not a JSON event; CR line ends go through the parser, which normalises them.
    passesUnchanged: (text) =>
      !text.includes("\r") && !text.includes("[DONE]") && !text.includes('"usage"') && !text.includes('"error"') && !FINISH_REASON.test(text) && holdsOnlyJsonEvents(text),
    failureText: (failure) =>
      sseData(JSON.stringify({ error: { message: failure.message, type: "upstream_error", code: failure.code ?? failure.class, param: null } })) + SSE_DONE,
    // Several hosts close a finished answer without `[DONE]`: it still gets one. Without a finish
    // reason the answer was cut short.
    cleanEnd: () => (finishSeen ? { text: SSE_DONE } : { failure: networkFailure("the upstream closed the stream before the answer finished") }),
    usage: () => usage,
  };
}

function safeParse(data: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(data);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** An event that is (or carries) an upstream error object, as OpenRouter and OpenAI send mid-stream. */
function embeddedFailure(data: string, headers: Headers): Failure | undefined {
  const chunk = safeParse(data);
  if (!chunk || typeof chunk.error !== "object" || chunk.error === null) return undefined;
  return classifyEmbeddedError(chunk, headers, Date.now());
}
