/**
 * The committed half of a stream: upstream events go to the client as they came, in the client's
 * dialect (OpenAI SSE, or Anthropic events for a native Anthropic pass-through). The hot path looks
 * inside only the rare event that mentions usage or an error. Whatever ends the stream — its
 * terminator, an error event, silence, a reset, or the client leaving — it ends exactly once, with
 * one error event when it was a failure, and settles the key lease.
 */

import { networkFailure } from "./classify-failure.ts";
import type { Settlement } from "../outcome.ts";
import type { Failure } from "../outcome.ts";
import type { TokenUsage } from "../outcome.ts";
import type { SseEvent } from "../formats/sse.ts";
import type { StreamStart } from "./attempts.ts";

/** How one stream format is relayed. A dialect instance holds the state of one stream. */
export interface RelayDialect {
  /** Append the outgoing text for `events`; returns "done" at the terminator or a failure. */
  render(events: SseEvent[], out: string[], headers: Headers): Failure | "done" | undefined;
  /**
   * Whether whole events in this text would be rendered exactly as they came, with nothing to note
   * (no usage, error or terminator) and nothing malformed: then their bytes go out untouched,
   * without parsing.
   */
  passesUnchanged?(text: string): boolean;
  /** The text that ends a failed stream (one error event, plus a terminator where the format has one). */
  failureText(failure: Failure): string;
  /** The upstream closed without its terminator: text to finish well, or the failure it means. */
  cleanEnd(): { text: string } | { failure: Failure };
  usage(): TokenUsage | undefined;
}

/** What a dialect answers for bytes that are not a well-formed event of its format: they are not forwarded. */
export function corruptStreamFailure(): Failure {
  return { ...networkFailure("the upstream sent a stream event that is not well-formed"), status: 200 };
}

export interface RelayOptions {
  start: StreamStart;
  dialect: RelayDialect;
  idleTimeoutMs: number;
  /** Mask the serving key wherever an upstream message echoes it. */
  redact(failure: Failure): Failure;
  /** Called exactly once when the stream is over, however it ended. */
  onEnd(settlement: Settlement): void;
}

export function relayStream(options: RelayOptions): ReadableStream<Uint8Array> {
  const { reader, parser, held, headers } = options.start;
  let rest = options.start.rest;
  const { dialect } = options;
  const encoder = new TextEncoder();
  let finished = false;

  const finish = (settlement: Settlement): void => {
    if (finished) return;
    finished = true;
    options.onEnd(settlement);
  };

  const close = (controller: ReadableStreamDefaultController<Uint8Array>, out: string[], settlement: Settlement): void => {
    controller.enqueue(encoder.encode(out.join("")));
    controller.close();
    reader.cancel();
    finish(settlement);
  };

  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, out: string[], upstreamFailure: Failure): void => {
    const failure = options.redact(upstreamFailure);
    out.push(dialect.failureText(failure));
    close(controller, out, { kind: "failure", failure });
  };

  /** Act on a rendered batch; returns true when the stream is over. */
  const settleBatch = (controller: ReadableStreamDefaultController<Uint8Array>, out: string[], outcome: Failure | "done" | undefined, ended: boolean): boolean => {
    if (outcome && outcome !== "done") {
      fail(controller, out, outcome);
      return true;
    }
    if (outcome === "done") {
      close(controller, out, { kind: "success", usage: dialect.usage() });
      return true;
    }
    if (ended) {
      const ending = dialect.cleanEnd();
      if ("failure" in ending) fail(controller, out, ending.failure);
      else close(controller, [...out, ending.text], { kind: "success", usage: dialect.usage() });
      return true;
    }
    if (out.length > 0) controller.enqueue(encoder.encode(out.join("")));
    return false;
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const out: string[] = [];
      settleBatch(controller, out, dialect.render(held, out, headers), false);
    },
    async pull(controller) {
      if (rest.length > 0) {
        const out: string[] = [];
        const events = rest;
        rest = [];
        if (settleBatch(controller, out, dialect.render(events, out, headers), false) || out.length > 0) return;
      }
      while (!finished) {
        const read = await reader.next(options.idleTimeoutMs);
        if (finished) return;
        const out: string[] = [];
        if ("failed" in read) return fail(controller, out, read.failure);
        if (!read.done && read.startsClean && endsAtEvent(read.bytes) && parser.idle() && dialect.passesUnchanged?.(read.text)) {
          controller.enqueue(read.bytes);
          return;
        }
        const events = read.done ? parser.end() : parser.push(read.text);
        if (settleBatch(controller, out, dialect.render(events, out, headers), read.done)) return;
        if (out.length > 0) return;
      }
    },
    cancel() {
      // The client left: stop the upstream call at once and give the key back.
      reader.cancel();
      finish({ kind: "success", usage: dialect.usage() });
    },
  });
}

/** The piece ends with a blank line, so it holds whole events only (given nothing was pending). */
function endsAtEvent(bytes: Uint8Array): boolean {
  const length = bytes.length;
  return length >= 2 && bytes[length - 1] === NEWLINE && bytes[length - 2] === NEWLINE;
}

const NEWLINE = 10;
