/** Anthropic stop_reason → OpenAI finish_reason. */

import { expect, test } from "bun:test";
import { mapAnthropicStopReason } from "../../../src/providers/anthropic/map-anthropic-stop-reason.ts";

test.each([
  ["end_turn", "stop"],
  ["stop_sequence", "stop"],
  ["pause_turn", "stop"],
  ["max_tokens", "length"],
  ["model_context_window_exceeded", "length"],
  ["tool_use", "tool_calls"],
  ["refusal", "content_filter"],
])("%s → %s", (reason, finish) => {
  expect(mapAnthropicStopReason(reason)).toBe(finish as ReturnType<typeof mapAnthropicStopReason>);
});

test("no reason yet (message_start) is no finish", () => {
  expect(mapAnthropicStopReason(null)).toBeNull();
  expect(mapAnthropicStopReason(undefined)).toBeNull();
});

test("a reason newer than the table still ends the answer", () => {
  expect(mapAnthropicStopReason("some_future_reason")).toBe("stop");
});
