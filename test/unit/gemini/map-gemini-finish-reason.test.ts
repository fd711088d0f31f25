/** Gemini finish reasons → OpenAI finish_reason: every documented reason, then the recorded answers. */

import { expect, test } from "bun:test";
import type { GeminiResponse } from "../../../src/providers/gemini/gemini-types.ts";
import { mapGeminiFinishReason, type OpenAIFinishReason } from "../../../src/providers/gemini/map-gemini-finish-reason.ts";
import { readFixtureJson, readFixtureText } from "../../support/fixtures.ts";

const FILTERED = [
  "SAFETY",
  "RECITATION",
  "PROHIBITED_CONTENT",
  "BLOCKLIST",
  "SPII",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
  "LANGUAGE",
];
const PLAIN_STOP = ["OTHER", "MALFORMED_FUNCTION_CALL", "FINISH_REASON_UNSPECIFIED", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "NO_IMAGE", "IMAGE_OTHER"];

test("STOP is stop, or tool_calls when the turn called a function", () => {
  expect(mapGeminiFinishReason("STOP", false)).toBe("stop");
  expect(mapGeminiFinishReason("STOP", true)).toBe("tool_calls");
});

test("MAX_TOKENS is length, with or without calls", () => {
  expect(mapGeminiFinishReason("MAX_TOKENS", false)).toBe("length");
  expect(mapGeminiFinishReason("MAX_TOKENS", true)).toBe("length");
});

test.each(FILTERED)("%s is content_filter, with or without calls", (reason) => {
  expect(mapGeminiFinishReason(reason, false)).toBe("content_filter");
  expect(mapGeminiFinishReason(reason, true)).toBe("content_filter");
});

test.each(PLAIN_STOP)("%s is a plain stop, even after a call", (reason) => {
  expect(mapGeminiFinishReason(reason, false)).toBe("stop");
  expect(mapGeminiFinishReason(reason, true)).toBe("stop");
});

test("no reason yet is null", () => {
  expect(mapGeminiFinishReason(undefined, false)).toBeNull();
  expect(mapGeminiFinishReason(undefined, true)).toBeNull();
});

test.each<[string, OpenAIFinishReason]>([
  ["google/text-gemini3.json", "stop"],
  ["google/thinking-parts-include-thoughts.json", "stop"],
  ["google/tool-call-gemini3.json", "tool_calls"],
  ["google/vertex-parallel-function-calls.json", "tool_calls"],
  ["google/safety-finish-reason-safety.json", "content_filter"],
  ["google/max-tokens-empty-content.json", "length"],
  ["google/usage-cached-content.json", "stop"],
])("recorded %s finishes with %s", (fixture, expected) => {
  const candidate = readFixtureJson<GeminiResponse>(fixture).candidates![0]!;
  const hasToolCalls = (candidate.content?.parts ?? []).some((part) => part.functionCall !== undefined);
  expect(mapGeminiFinishReason(candidate.finishReason, hasToolCalls)).toBe(expected);
});

test("recorded stream events without a finishReason map to null until the last one", () => {
  const events = readFixtureText("google/stream-thought-parts-gemma4.chunks.txt")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as GeminiResponse);
  const mapped = events.map((event) => mapGeminiFinishReason(event.candidates![0]!.finishReason, false));
  expect(mapped).toEqual([null, null, null, null, null, "stop"]);
});
