/**
 * The stream translator (Gemini → OpenAI SSE here): the same bytes out however the upstream body
 * is cut into reads, and a read that brings a whole answer at once still yields its first events
 * without translating all the others first. Fed with the recorded Gemini stream, its middle event
 * repeated to make a long answer.
 */

import { describe, expect, test } from "bun:test";
import { geminiStreamTranslator } from "../../../src/providers/gemini/translate-gemini-stream.ts";
import { parseSse, readFixtureText } from "../../support/fixtures.ts";
import { piecewiseBody } from "../../support/piecewise-body.ts";

const CONTEXT = { id: "chatcmpl-translate", model: "gemini-test", created: 1_760_000_000 };
const recorded = readFixtureText("google/stream-basic.sse.txt");
const [first, middle, last] = recorded.split("\r\n\r\n").filter((event) => event.trim().length > 0) as [string, string, string];
/** 1 + 60 + 1 events in the recorded framing. */
const longStream = [first, ...Array.from({ length: 60 }, () => middle), last].map((event) => `${event}\r\n\r\n`).join("");

async function reads(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const decoder = new TextDecoder();
  const out: string[] = [];
  for await (const chunk of stream) out.push(decoder.decode(chunk));
  return out;
}

describe("stream translation", () => {
  test("the output does not depend on how the upstream body is cut", async () => {
    const whole = (await reads(geminiStreamTranslator(CONTEXT)(piecewiseBody(longStream, longStream.length)))).join("");
    for (const pieceSize of [1, 7, 64, 1000]) {
      const pieces = (await reads(geminiStreamTranslator(CONTEXT)(piecewiseBody(longStream, pieceSize)))).join("");
      expect(pieces).toBe(whole);
    }
    const events = parseSse(whole);
    expect(events.at(-1)?.data).toBe("[DONE]");
    const text = events
      .filter((event) => event.data !== "[DONE]")
      .map((event) => JSON.parse(event.data!).choices?.[0]?.delta?.content ?? "")
      .join("");
    expect(text.startsWith("The capital of France")).toBe(true);
  });

  test("a whole answer in one read comes out in small batches, the first at once", async () => {
    const out = await reads(geminiStreamTranslator(CONTEXT)(piecewiseBody(longStream, longStream.length)));
    expect(out.length).toBeGreaterThan(3);
    const eventsIn = (piece: string) => parseSse(piece).length;
    // 16 upstream events at most; the first of them also yields the role chunk.
    expect(eventsIn(out[0]!)).toBeLessThanOrEqual(17);
    expect(eventsIn(out[0]!)).toBeGreaterThan(0);
    expect(out.reduce((sum, piece) => sum + eventsIn(piece), 0)).toBeGreaterThan(60);
  });
});
