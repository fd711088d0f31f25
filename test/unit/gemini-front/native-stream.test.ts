/**
 * The native Gemini relay dialect and its pre-commit inspector, fed with recorded Google streams
 * (test/fixtures/google): what commits, what rotates, what the client receives, usage.
 */

import { describe, expect, test } from "bun:test";
import { createSseParser } from "../../../src/formats/sse.ts";
import { geminiRelayDialect, inspectGeminiEvent } from "../../../src/providers/gemini/native-stream.ts";
import { readFixtureText } from "../../support/fixtures.ts";

const events = (file: string) => {
  const parser = createSseParser();
  return [...parser.push(readFixtureText(file)), ...parser.end()];
};
const headers = new Headers();

describe("before commit", () => {
  test("the first recorded text event commits", () => {
    expect(inspectGeminiEvent(events("google/stream-basic.sse.txt")[0]!, headers).kind).toBe("substantive");
  });

  test("a thought summary commits; a blocked prompt commits (it is Google's answer)", () => {
    expect(inspectGeminiEvent(events("google/stream-thought-summaries-include-thoughts.sse.txt")[0]!, headers).kind).toBe("substantive");
    expect(inspectGeminiEvent(events("google/stream-prompt-blocked-safety.sse.txt")[0]!, headers).kind).toBe("substantive");
  });

  test("the recorded bare error object rotates, classified from its body", () => {
    const all = events("google/vertex-stream-error-mid-stream.sse.txt");
    const verdict = inspectGeminiEvent(all.at(-1)!, headers);
    expect(verdict.kind).toBe("failure");
  });

  test("a plain STOP with nothing in it is the empty-candidate glitch and rotates", () => {
    const empty = { raw: "", event: undefined, data: JSON.stringify({ candidates: [{ content: { role: "model", parts: [{ text: "" }] }, finishReason: "STOP" }] }) };
    const verdict = inspectGeminiEvent(empty, headers);
    expect(verdict.kind).toBe("failure");
    if (verdict.kind === "failure") expect(verdict.failure.class).toBe("transient");
  });

  test("an event with neither content nor finish is held back", () => {
    const preamble = { raw: "", event: undefined, data: JSON.stringify({ candidates: [{ content: { role: "model", parts: [] } }] }) };
    expect(inspectGeminiEvent(preamble, headers).kind).toBe("preamble");
  });
});

describe("after commit", () => {
  test("events go out as they came, in Google's framing, and the last usageMetadata is the usage", () => {
    const dialect = geminiRelayDialect();
    const out: string[] = [];
    const all = events("google/stream-basic.sse.txt");
    expect(dialect.render(all, out, headers)).toBeUndefined();
    expect(out).toEqual(all.map((event) => `data: ${event.data}\r\n\r\n`));
    const last = JSON.parse(all.at(-1)!.data!);
    expect(dialect.usage()).toMatchObject({ promptTokens: last.usageMetadata.promptTokenCount });
    expect(dialect.cleanEnd()).toEqual({ text: "" });
  });

  test("a stream that closes before a finish reason ends with a failure", () => {
    const dialect = geminiRelayDialect();
    dialect.render(events("google/stream-basic.sse.txt").slice(0, 1), [], headers);
    expect("failure" in dialect.cleanEnd()).toBe(true);
  });

  test("a mid-stream error ends the stream with one Google-shaped error event", () => {
    const dialect = geminiRelayDialect();
    const failure = dialect.render(events("google/vertex-stream-error-mid-stream.sse.txt"), [], headers);
    expect(failure).toBeDefined();
    const text = dialect.failureText(failure as any);
    expect(text).toEndWith("\r\n\r\n");
    const body = JSON.parse(text.slice("data: ".length));
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "status"]);
  });
});
