/**
 * The incremental SSE parser against recorded streams: however the bytes are cut, the same events
 * come out, with their original text, CRLF framing normalised and comment keep-alives kept.
 */

import { describe, expect, test } from "bun:test";
import { createSseParser, type SseEvent } from "../../../src/formats/sse.ts";
import { readFixtureText } from "../../support/fixtures.ts";

function parseInPieces(text: string, pieceSize: number): SseEvent[] {
  const parser = createSseParser();
  const events: SseEvent[] = [];
  for (let at = 0; at < text.length; at += pieceSize) events.push(...parser.push(text.slice(at, at + pieceSize)));
  events.push(...parser.end());
  return events;
}

describe("SSE parser", () => {
  const openai = readFixtureText("openai/chat-stream-parallel-tool-calls.sse.txt");

  test("splits a recorded OpenAI stream into its data events, ending with [DONE]", () => {
    const events = parseInPieces(openai, openai.length);
    const data = events.map((event) => event.data);
    expect(data.at(-1)).toBe("[DONE]");
    expect(data.slice(0, -1).every((payload) => JSON.parse(payload!).object === "chat.completion.chunk")).toBe(true);
    expect(events[0]!.raw.startsWith("data: {")).toBe(true);
  });

  test("gives identical events whatever the piece size", () => {
    const whole = parseInPieces(openai, openai.length);
    for (const size of [1, 7, 64, 1000]) expect(parseInPieces(openai, size)).toEqual(whole);
  });

  test("normalises Gemini's CRLF framing", () => {
    const gemini = readFixtureText("google/stream-basic.sse.txt");
    expect(gemini).toContain("\r\n\r\n");
    const events = parseInPieces(gemini, 5);
    expect(events.length).toBeGreaterThan(1);
    for (const event of events) {
      expect(event.raw).not.toContain("\r");
      expect(() => JSON.parse(event.data!)).not.toThrow();
    }
  });

  test("a CRLF split across two pieces is one line break, not two", () => {
    const parser = createSseParser();
    const events = [...parser.push("data: a\r"), ...parser.push("\ndata: b\r"), ...parser.push("\n\r"), ...parser.push("\n"), ...parser.end()];
    expect(events.map((event) => event.data)).toEqual(["a\nb"]);
  });

  test("keeps OpenRouter's comment keep-alives as data-less events", () => {
    const openrouter = readFixtureText("openrouter/stream-midstream-error.sse.txt");
    const events = parseInPieces(openrouter, 13);
    const comments = events.filter((event) => event.data === undefined);
    expect(comments.length).toBeGreaterThan(0);
    expect(comments[0]!.raw).toBe(": OPENROUTER PROCESSING");
  });

  test("reads event names and multi-line data from Anthropic's framing", () => {
    const anthropic = readFixtureText("anthropic/stream-text.sse.txt");
    const events = parseInPieces(anthropic, 17);
    expect(events[0]!.event).toBe("message_start");
    expect(JSON.parse(events[0]!.data!).type).toBe("message_start");
    const joined = createSseParser().push("data: a\ndata: b\n\n");
    expect(joined[0]!.data).toBe("a\nb");
  });
});
