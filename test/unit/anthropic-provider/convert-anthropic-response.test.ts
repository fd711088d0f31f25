/** Recorded Anthropic Messages answers → OpenAI chat.completion objects. */

import { describe, expect, test } from "bun:test";
import type { AnthropicMessage } from "../../../src/formats/anthropic/types.ts";
import { convertAnthropicResponse } from "../../../src/providers/anthropic/convert-anthropic-response.ts";
import { createThinkingMemory, type ThinkingBlock, type ThinkingMemory } from "../../../src/providers/anthropic/thinking-memory.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

const CONTEXT = { id: "chatcmpl-anthropic-test", model: "claude-test", created: 1_760_000_000 };

const fixture = (name: string): AnthropicMessage => readFixtureJson<AnthropicMessage>(`anthropic/${name}`);
const convert = (message: AnthropicMessage, memory: ThinkingMemory = createThinkingMemory()): any => convertAnthropicResponse(message, CONTEXT, memory);

const completion = (message: Record<string, unknown>, finishReason: string | null, usage: Record<string, unknown>) => ({
  id: "chatcmpl-anthropic-test",
  object: "chat.completion",
  created: 1_760_000_000,
  model: "claude-test",
  choices: [{ index: 0, message, finish_reason: finishReason }],
  usage,
});
const usage = (prompt: number, completionTokens: number, cached = 0) => ({
  prompt_tokens: prompt,
  completion_tokens: completionTokens,
  total_tokens: prompt + completionTokens,
  prompt_tokens_details: { cached_tokens: cached },
});

/** A hand-made answer for the cases no recording covers. */
const message = (content: unknown[], stopReason: string | null, extra: Record<string, unknown> = {}): AnthropicMessage =>
  ({
    id: "msg_test",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 20, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    ...extra,
  }) as AnthropicMessage;

describe("convertAnthropicResponse", () => {
  test("plain text", () => {
    expect(convert(fixture("text.json"))).toEqual(
      completion(
        { role: "assistant", content: "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?" },
        "stop",
        usage(12, 29),
      ),
    );
  });

  test("text and four parallel tool calls keep Anthropic's ids and order; arguments are the input as JSON", () => {
    const calls = [
      ["toolu_0167cfEnoQaPviGdVXA95zcu", "Alice"],
      ["toolu_01EEe2V5HD1Ac4rKiUR4HD2T", "Bob"],
      ["toolu_01XFyAjstT3966qvRynZyVPo", "Charlie"],
      ["toolu_013mnQZbgtK2oe3Mo3XKJsx3", "Daisy"],
    ];
    expect(convert(fixture("parallel-tool-use.json"))).toEqual(
      completion(
        {
          role: "assistant",
          content: "I'll help you find out who is the youngest by retrieving information about each family member. I'll retrieve their entity information to compare their ages.",
          tool_calls: calls.map(([id, name]) => ({ id, type: "function", function: { name: "retrieve_entity_info", arguments: `{"name":"${name}"}` } })),
        },
        "tool_calls",
        usage(423, 202),
      ),
    );
  });

  test("redacted thinking is not shown; without a tool call there is nothing to remember it by", () => {
    const memory = createThinkingMemory();
    const response = fixture("redacted-thinking.json");
    const converted = convert(response, memory);
    expect(converted).toEqual(completion({ role: "assistant", content: (response.content[1] as { text: string }).text }, "stop", usage(92, 196)));
    expect(converted.choices[0].message.reasoning_content).toBeUndefined();
  });

  test("usage counts cache reads and writes into prompt_tokens; reads are also cached_tokens", () => {
    expect(convert(fixture("usage-cache-read-and-write.json")).usage).toEqual(usage(3 + 418 + 1111, 33, 1111));
  });

  test("thinking → reasoning_content with its signature as reasoning_signature; the thinking blocks (redacted too) are remembered under every tool call id", () => {
    const memory = createThinkingMemory();
    const thinking: ThinkingBlock = { type: "thinking", thinking: "Two lookups.", signature: "EqQBsig==" };
    const redacted: ThinkingBlock = { type: "redacted_thinking", data: "ENCRYPTED" };
    const converted = convert(
      message(
        [thinking, redacted, { type: "tool_use", id: "toolu_1", name: "get_w", input: { city: "Paris" } }, { type: "tool_use", id: "toolu_2", name: "get_w", input: {} }],
        "tool_use",
      ),
      memory,
    );
    expect(converted.choices[0]).toEqual({
      index: 0,
      message: {
        role: "assistant",
        content: null,
        reasoning_content: "Two lookups.",
        reasoning_signature: "EqQBsig==",
        tool_calls: [
          { id: "toolu_1", type: "function", function: { name: "get_w", arguments: '{"city":"Paris"}' } },
          { id: "toolu_2", type: "function", function: { name: "get_w", arguments: "{}" } },
        ],
      },
      finish_reason: "tool_calls",
    });
    expect(memory.recall("toolu_1")).toEqual([thinking, redacted]);
    expect(memory.recall("toolu_2")).toEqual([thinking, redacted]);
  });

  test("several text blocks (as citations split them) join into one content", () => {
    const converted = convert(message([{ type: "text", text: "Paris is " }, { type: "text", text: "the capital.", citations: [] }], "end_turn"));
    expect(converted.choices[0].message).toEqual({ role: "assistant", content: "Paris is the capital." });
  });

  test("refusal: content_filter, with the stop_details explanation as refusal", () => {
    const converted = convert(
      message([], "refusal", { stop_details: { type: "refusal", category: "cyber", explanation: "Blocked under the Usage Policy." } }),
    );
    expect(converted.choices[0]).toEqual({
      index: 0,
      message: { role: "assistant", content: null, refusal: "Blocked under the Usage Policy." },
      finish_reason: "content_filter",
    });
  });

  test("refusal without stop_details keeps what was said and explains the stop", () => {
    const converted = convert(message([{ type: "text", text: "I can start, but" }], "refusal"));
    expect(converted.choices[0].message).toEqual({
      role: "assistant",
      content: "I can start, but",
      refusal: "Claude declined to continue this answer (stop_reason: refusal).",
    });
  });

  test("stop reasons map to OpenAI finish reasons", () => {
    expect(convert(message([{ type: "text", text: "x" }], "max_tokens")).choices[0].finish_reason).toBe("length");
    expect(convert(message([{ type: "text", text: "x" }], "stop_sequence")).choices[0].finish_reason).toBe("stop");
    expect(convert(message([{ type: "text", text: "x" }], "model_context_window_exceeded")).choices[0].finish_reason).toBe("length");
  });

  test("output_tokens_details.thinking_tokens becomes completion_tokens_details.reasoning_tokens", () => {
    const response = message([{ type: "text", text: "x" }], "end_turn");
    response.usage.output_tokens_details = { thinking_tokens: 7 };
    expect(convert(response).usage).toEqual({ ...usage(20, 10), completion_tokens_details: { reasoning_tokens: 7 } });
  });
});
