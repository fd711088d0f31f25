/** Bedrock Converse stopReason → OpenAI finish_reason. */

import { expect, test } from "bun:test";
import { mapConverseStopReason } from "../../../src/providers/bedrock/map-converse-stop-reason.ts";

test.each([
  ["end_turn", "stop"],
  ["stop_sequence", "stop"],
  ["max_tokens", "length"],
  ["model_context_window_exceeded", "length"],
  ["tool_use", "tool_calls"],
  ["content_filtered", "content_filter"],
  ["guardrail_intervened", "content_filter"],
  ["a_reason_from_next_year", "stop"],
])("%s → %s", (reason, finish) => {
  expect(mapConverseStopReason(reason)).toBe(finish as ReturnType<typeof mapConverseStopReason>);
});

test("no reason yet: the message is still going", () => {
  expect(mapConverseStopReason(undefined)).toBeNull();
});
