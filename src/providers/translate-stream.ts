/**
 * Wraps a non-OpenAI event stream as an OpenAI SSE body: the upstream events are parsed, handed
 * to a family's pure converter, and its payloads framed as `data:` events ending in `[DONE]`. So
 * everything after it — commit at the first content, error events, usage, relay — is the same code
 * for every family.
 */

import { SSE_DONE, createSseParser, sseData, type SseEvent } from "../formats/sse.ts";
import type { StreamTranslator } from "./attempts.ts";

/**
 * Shaped as every family's classifier reads a transient upstream error (a numeric 5xx code), and
 * worded by us: the converter's exception text speaks of the proxy's code, not of the answer.
 */
const UNREADABLE_EVENT_ERROR = JSON.stringify({
  error: { code: 502, type: "api_error", message: "The upstream sent a stream event of a shape the proxy cannot read" },
});

/** Enough events per enqueue to keep per-chunk overhead low, few enough to show the first at once. */
const EVENTS_PER_PULL = 16;

export interface EventConverter {
  /** OpenAI payloads for one upstream event (its parsed JSON and the event itself). */
  push(data: unknown, event: SseEvent): string[];
  /** OpenAI payloads that close the stream (usage chunk, or the error of an empty stream). */
  finish(): string[];
}

export interface TranslatorOptions {
  /** A fresh converter for each stream. */
  converter(): EventConverter;
  /** The JSON text of an event, or undefined to skip it (comments, keep-alives; a malformed block is an error). */
  payloadOf?(event: SseEvent): string | undefined;
  /** The error payload sent when an event is not valid JSON (shaped so the classifier reads it). */
  invalidJsonError: string;
}

export function converterTranslator(options: TranslatorOptions): StreamTranslator {
  const payloadOf = options.payloadOf ?? ((event: SseEvent) => event.data);
  return (body) => {
    const converter = options.converter();
    const parser = createSseParser();
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    const translate = (events: SseEvent[]): string => {
      let out = "";
      for (const event of events) {
        const payload = payloadOf(event);
        if (payload === undefined) {
          // A comment or a keep-alive carries nothing; a block that is no event at all (garbage
          // between events) means the stream cannot be trusted, as an event that is not JSON.
          if (event.malformed) out += sseData(options.invalidJsonError);
          continue;
        }
        let data: unknown;
        try {
          data = JSON.parse(payload);
        } catch {
          out += sseData(options.invalidJsonError);
          continue;
        }
        try {
          out += converter.push(data, event).map(sseData).join("");
        } catch {
          return out + unreadable();
        }
      }
      return out;
    };
    /**
     * A converter that throws met an event shape it does not expect, and its state is no longer to
     * be trusted: the stream ends with one error event of our wording (transient, so an uncommitted
     * stream rotates), which the relay settles like any upstream error, instead of erroring the body.
     */
    let broken = false;
    const unreadable = (): string => {
      broken = true;
      reader.cancel().catch(() => {});
      return sseData(UNREADABLE_EVENT_ERROR) + SSE_DONE;
    };
    const finish = (): string => {
      try {
        return converter.finish().map(sseData).join("") + SSE_DONE;
      } catch {
        return unreadable();
      }
    };
    const endWith = (controller: ReadableStreamDefaultController<Uint8Array>, text: string): void => {
      controller.enqueue(encoder.encode(text));
      controller.close();
    };
    // Pulled by the reader downstream, at most EVENTS_PER_PULL events at a time: a read that
    // brings a whole answer at once (a fast host, a buffered proxy) still shows its first event
    // without waiting for the translation of all the others.
    const reader = body.getReader();
    let queued: SseEvent[] = [];
    let next = 0;
    let upstreamDone = false;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        for (;;) {
          if (next < queued.length) {
            const out = translate(queued.slice(next, next + EVENTS_PER_PULL));
            next += EVENTS_PER_PULL;
            if (broken) return endWith(controller, out);
            if (out) return controller.enqueue(encoder.encode(out));
            continue;
          }
          if (upstreamDone) {
            return endWith(controller, finish());
          }
          const { done, value } = await reader.read();
          next = 0;
          if (done) {
            upstreamDone = true;
            queued = [...parser.push(decoder.decode()), ...parser.end()];
          } else {
            queued = parser.push(decoder.decode(value, { stream: true }));
          }
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
  };
}
