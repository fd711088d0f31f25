/**
 * Anthropic stop_reason → OpenAI finish_reason, on the reasons recorded answers and streams end with
 * (a stream's is in its `message_delta`).
 */

import { expect, test } from "bun:test";
import { mapAnthropicStopReason } from "../../../src/providers/anthropic/map-anthropic-stop-reason.ts";
import { readChunksJson, readFixtureJson, readSseJson } from "../../support/fixtures.ts";

function streamStopReason(events: { type?: string; delta?: { stop_reason?: string } }[]): string | undefined {
  return events.find((event) => event.type === "message_delta")?.delta?.stop_reason;
}

test.each([
  ["anthropic/text.json", "stop"],
  ["anthropic/parallel-tool-use.json", "tool_calls"],
])("recorded %s finishes with %s", (fixture, finish) => {
  expect(mapAnthropicStopReason(readFixtureJson(fixture).stop_reason)).toBe(finish as ReturnType<typeof mapAnthropicStopReason>);
});

test.each([
  ["anthropic/stream-text.sse.txt", "stop"],
  ["anthropic/stream-tool-use.sse.txt", "tool_calls"],
])("recorded stream %s finishes with %s", (fixture, finish) => {
  expect(mapAnthropicStopReason(streamStopReason(readSseJson(fixture)))).toBe(finish as ReturnType<typeof mapAnthropicStopReason>);
});

test.each([
  ["anthropic/cache-write.chunks.txt", "length"],
  ["anthropic/refusal-stop-details.chunks.txt", "content_filter"],
  ["anthropic/tool-use-input-json-delta.chunks.txt", "tool_calls"],
])("recorded stream %s finishes with %s", (fixture, finish) => {
  expect(mapAnthropicStopReason(streamStopReason(readChunksJson(fixture)))).toBe(finish as ReturnType<typeof mapAnthropicStopReason>);
});

test("no reason yet (message_start) is no finish", () => {
  const start = readChunksJson("anthropic/text.chunks.txt").find((event) => event.type === "message_start");
  expect(mapAnthropicStopReason(start.message.stop_reason)).toBeNull();
  expect(mapAnthropicStopReason(undefined)).toBeNull();
});

test("a reason newer than the table still ends the answer", () => {
  expect(mapAnthropicStopReason("some_future_reason")).toBe("stop");
});
