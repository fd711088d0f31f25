/** Gemini finish reasons → OpenAI finish_reason, on the recorded answers and streams. */

import { expect, test } from "bun:test";
import type { GeminiResponse } from "../../../src/providers/gemini/gemini-types.ts";
import { mapGeminiFinishReason, type OpenAIFinishReason } from "../../../src/providers/gemini/map-gemini-finish-reason.ts";
import { readChunksJson, readFixtureJson } from "../../support/fixtures.ts";

test("a reason newer than the known ones still ends the answer, even after a call", () => {
  expect(mapGeminiFinishReason("SOME_FUTURE_REASON", false)).toBe("stop");
  expect(mapGeminiFinishReason("SOME_FUTURE_REASON", true)).toBe("stop");
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
  const events = readChunksJson<GeminiResponse>("google/stream-thought-parts-gemma4.chunks.txt");
  const mapped = events.map((event) => mapGeminiFinishReason(event.candidates![0]!.finishReason, false));
  expect(mapped).toEqual([null, null, null, null, null, "stop"]);
});
