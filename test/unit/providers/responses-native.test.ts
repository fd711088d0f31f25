/** The native Responses pass-through, fed with the recorded Responses answers and streams. */

import { describe, expect, test } from "bun:test";
import { createSseParser, type SseEvent } from "../../../src/formats/sse.ts";
import type { UpstreamAnswer } from "../../../src/providers/attempts.ts";
import { decodeNativeResponse, inspectResponsesEvent, responsesRelayDialect } from "../../../src/providers/openai/responses-native.ts";
import { readChunkLines, readFixtureJson, readFixtureText } from "../../support/fixtures.ts";

const HEADERS = new Headers();

function answer(text: string): UpstreamAnswer {
  return {
    text,
    get body() {
      return JSON.parse(text);
    },
  };
}

function events(text: string): SseEvent[] {
  const parser = createSseParser();
  return [...parser.push(text), ...parser.end()];
}

/** A `.chunks.txt` recording framed the way the host streams it. */
function framed(relative: string): string {
  return readChunkLines(relative)
    .map((line) => `event: ${JSON.parse(line).type}\ndata: ${line}\n\n`)
    .join("");
}

describe("decodeNativeResponse", () => {
  test("a recorded answer passes on as it came, its usage found in place", () => {
    for (const fixture of ["openai-responses/text.json", "openai-responses/function-call.json", "openai-responses/web-search-call.json"]) {
      const text = readFixtureText(fixture);
      const usage = readFixtureJson(fixture).usage;
      expect(decodeNativeResponse([answer(text)], HEADERS)).toEqual({
        ok: true,
        text,
        usage: { promptTokens: usage.input_tokens, completionTokens: usage.output_tokens, cachedTokens: usage.input_tokens_details.cached_tokens, reasoningTokens: usage.output_tokens_details.reasoning_tokens },
      });
    }
  });

  test("a 200 that failed, or that is an error object, is a classified failure; a cut-off body is not JSON", () => {
    const failed = { ...readFixtureJson("openai-responses/text.json"), status: "failed", error: { code: "rate_limit_exceeded", message: "Rate limit reached" } };
    const decodedFailed = decodeNativeResponse([answer(JSON.stringify(failed))], HEADERS);
    expect(decodedFailed.ok).toBe(false);
    if (!decodedFailed.ok) expect(decodedFailed.failure).toMatchObject({ class: "rate_limit", message: expect.stringContaining("Rate limit reached") });
    const error = decodeNativeResponse([answer(readFixtureText("openai-responses/error-400-model-not-found.json"))], HEADERS);
    expect(error.ok).toBe(false);
    const text = readFixtureText("openai-responses/text.json");
    expect(() => decodeNativeResponse([answer(text.slice(0, text.length / 2))], HEADERS)).toThrow(SyntaxError);
  });
});

describe("inspectResponsesEvent", () => {
  test("created and in_progress are held back, the first output commits", () => {
    const verdicts = events(readFixtureText("openai-responses/stream-text.sse.txt")).map((event) => inspectResponsesEvent(event, HEADERS).kind);
    expect(verdicts.slice(0, 3)).toEqual(["preamble", "preamble", "substantive"]);
  });

  test("an error event or response.failed before any output is a failure of its class", () => {
    const quota = events(framed("openai/responses-stream-error-insufficient-quota.chunks.txt")).map((event) => inspectResponsesEvent(event, HEADERS));
    expect(quota.map((verdict) => verdict.kind)).toEqual(["preamble", "preamble", "failure", "failure"]);
    expect(quota[2]).toMatchObject({ failure: { class: "billing" } });
    const failed = events(framed("openai-responses/stream-response-failed-rate-limit.chunks.txt")).map((event) => inspectResponsesEvent(event, HEADERS));
    expect(failed[1]).toMatchObject({ kind: "failure", failure: { class: "rate_limit" } });
  });
});

describe("responsesRelayDialect", () => {
  test("a recorded stream renders as it came and ends at response.completed with its usage and response", () => {
    const recorded = readFixtureText("openai-responses/stream-function-call.sse.txt");
    const dialect = responsesRelayDialect();
    const out: string[] = [];
    expect(dialect.render(events(recorded), out, HEADERS)).toBe("done");
    expect(out.join("")).toBe(recorded.endsWith("\n\n") ? recorded : `${recorded}\n\n`);
    const completed = readFixtureText("openai-responses/stream-function-call.sse.txt").split("\n\n").find((block) => block.includes("response.completed"))!;
    const response = JSON.parse(completed.split("data: ")[1]!).response;
    expect(dialect.finalResponse()).toEqual(response);
    expect(dialect.usage()).toMatchObject({ promptTokens: response.usage.input_tokens, completionTokens: response.usage.output_tokens });
  });

  test("pieces of deltas pass unchanged; terminal and error events are looked at", () => {
    const dialect = responsesRelayDialect();
    const blocks = readFixtureText("openai-responses/stream-text.sse.txt").split("\n\n").filter((block) => block !== "");
    const delta = blocks.find((block) => block.startsWith("event: response.output_text.delta"))!;
    expect(dialect.passesUnchanged!(`${delta}\n\n`)).toBe(true);
    for (const name of ["response.completed", "response.created", "response.failed"]) expect(dialect.passesUnchanged!(`${blocks.find((block) => block.includes(name)) ?? `event: ${name}`}\n\n`)).toBe(false);
  });

  test("a failure of ours continues the host's numbering; after the host's own response.failed, nothing more", () => {
    const blocks = readFixtureText("openai-responses/stream-text.sse.txt").split("\n\n").filter((block) => block !== "");
    const dialect = responsesRelayDialect();
    dialect.render(events(blocks.slice(0, 5).join("\n\n") + "\n\n"), [], HEADERS);
    const text = dialect.failureText({ class: "transient", status: 0, message: "upstream request failed: connection reset" });
    const ours = events(text).map((event) => JSON.parse(event.data!));
    expect(ours.map((event) => [event.type, event.sequence_number])).toEqual([["error", 5], ["response.failed", 6]]);
    expect(ours[1].response).toMatchObject({ status: "failed", error: { code: "transient", message: "upstream request failed: connection reset" } });

    const host = responsesRelayDialect();
    const failure = host.render(events(framed("openai/responses-stream-error-insufficient-quota.chunks.txt")), [], HEADERS);
    expect(failure).toMatchObject({ class: "billing" });
    expect(host.failureText(failure as any)).toBe("");
  });
});
