/**
 * The committed half of a stream (OpenAI SSE, as sent or as translated from another family): upstream events go to the client as they came
 * (the hot path parses nothing but the rare event that mentions usage or an error). Whatever ends
 * the stream — `[DONE]`, an error event, silence, a reset, or the client leaving — it ends exactly
 * once, with one error event and `[DONE]` when it was a failure, and settles the key lease.
 */

import { classifyEmbeddedError } from "../engine/classify-failure.ts";
import type { Settlement } from "../engine/rotate.ts";
import type { Failure } from "../engine/types.ts";
import type { TokenUsage } from "../engine/usage.ts";
import { SSE_DONE, sseData, type SseEvent } from "../formats/sse.ts";
import type { StreamStart } from "./attempts.ts";
import { readOpenAIUsage } from "./openai/read-usage.ts";

export interface RelayOptions {
  start: StreamStart;
  /** Drop the usage-only chunk the proxy asked for on the client's behalf. */
  stripUsageChunk: boolean;
  idleTimeoutMs: number;
  /** Mask the serving key wherever an upstream message echoes it. */
  redact(failure: Failure): Failure;
  /** Called exactly once when the stream is over, however it ended. */
  onEnd(settlement: Settlement): void;
}

const USAGE_OBJECT = /"usage"\s*:\s*\{/;
const ERROR_OBJECT = /"error"\s*:\s*\{/;

export function relayStream(options: RelayOptions): ReadableStream<Uint8Array> {
  const { reader, parser, held, headers } = options.start;
  const encoder = new TextEncoder();
  let usage: TokenUsage | undefined;
  let finished = false;

  const finish = (settlement: Settlement): void => {
    if (finished) return;
    finished = true;
    options.onEnd(settlement);
  };

  /** Turn events into outgoing text; returns the failure or true at the end of the stream. */
  const render = (events: SseEvent[], out: string[]): Failure | "done" | undefined => {
    for (const event of events) {
      const data = event.data;
      if (data === undefined) {
        out.push(`${event.raw}\n\n`);
        continue;
      }
      if (data === "[DONE]") {
        out.push(SSE_DONE);
        return "done";
      }
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
  };

  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, out: string[], upstreamFailure: Failure): void => {
    const failure = options.redact(upstreamFailure);
    out.push(sseData(JSON.stringify({ error: { message: failure.message, type: "upstream_error", code: failure.code ?? failure.class, param: null } })));
    out.push(SSE_DONE);
    controller.enqueue(encoder.encode(out.join("")));
    controller.close();
    reader.cancel();
    finish({ kind: "failure", failure });
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const out: string[] = [];
      const outcome = render(held, out);
      if (outcome === "done") {
        controller.enqueue(encoder.encode(out.join("")));
        controller.close();
        reader.cancel();
        finish({ kind: "success", usage });
      } else if (outcome) {
        fail(controller, out, outcome);
      } else if (out.length > 0) {
        controller.enqueue(encoder.encode(out.join("")));
      }
    },
    async pull(controller) {
      while (!finished) {
        const read = await reader.next(options.idleTimeoutMs);
        if (finished) return;
        const out: string[] = [];
        if ("failed" in read) return fail(controller, out, read.failure);
        const outcome = render(read.done ? parser.end() : parser.push(read.text), out);
        if (outcome && outcome !== "done") return fail(controller, out, outcome);
        if (outcome === "done" || read.done) {
          // An upstream that closes cleanly without `[DONE]` still gets a well-formed ending.
          if (outcome !== "done") out.push(SSE_DONE);
          controller.enqueue(encoder.encode(out.join("")));
          controller.close();
          reader.cancel();
          finish({ kind: "success", usage });
          return;
        }
        if (out.length > 0) {
          controller.enqueue(encoder.encode(out.join("")));
          return;
        }
      }
    },
    cancel() {
      // The client left: stop the upstream call at once and give the key back.
      reader.cancel();
      finish({ kind: "success", usage });
    },
  });
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
