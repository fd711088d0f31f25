/** Recorded Anthropic Messages SSE streams → OpenAI chat.completion.chunk payloads. */

import { describe, expect, test } from "bun:test";
import { createAnthropicStreamConverter, type AnthropicStreamEvent } from "../../../src/providers/anthropic/convert-anthropic-stream.ts";
import { createThinkingMemory, type ThinkingBlock, type ThinkingMemory } from "../../../src/providers/anthropic/thinking-memory.ts";
import { readFixtureText, readSseFixture } from "../../support/fixtures.ts";

const CONTEXT = { id: "chatcmpl-anthropic-stream", model: "claude-test", created: 1_760_000_000 };
const ENVELOPE = { id: CONTEXT.id, object: "chat.completion.chunk", created: CONTEXT.created, model: CONTEXT.model };

/** A recorded `*.sse.txt` body as the caller hands it over: event name plus parsed data. */
const sse = (name: string): AnthropicStreamEvent[] =>
  readSseFixture(`anthropic/${name}`).map((event) => ({ event: event.event, data: JSON.parse(event.data) }));
/** A `*.chunks.txt` fixture: one data payload per line, no event names. */
const chunkLines = (name: string): AnthropicStreamEvent[] =>
  readFixtureText(`anthropic/${name}`)
    .trim()
    .split("\n")
    .map((line) => ({ data: JSON.parse(line) }));

/** Every payload of a whole stream, parsed; the converter's strings must be bare JSON, not SSE. */
function convert(events: AnthropicStreamEvent[], memory: ThinkingMemory = createThinkingMemory()): any[] {
  const converter = createAnthropicStreamConverter(CONTEXT, memory);
  const payloads = [...events.flatMap((event) => converter.push(event)), ...converter.finish()];
  for (const payload of payloads) expect(payload.startsWith("data:")).toBe(false);
  return payloads.map((payload) => JSON.parse(payload));
}

const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({ ...ENVELOPE, choices: [{ index: 0, delta, finish_reason: finishReason }] });
const ROLE = chunk({ role: "assistant", content: "" });
const usageChunk = (prompt: number, completion: number, cached = 0) => ({
  ...ENVELOPE,
  choices: [],
  usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } },
});

/** The text a client assembles from one delta field across the stream. */
const joined = (payloads: any[], field: string): string => payloads.map((payload) => payload.choices?.[0]?.delta?.[field] ?? "").join("");

/** The text deltas of a recorded stream, in order. */
const recordedDeltas = (events: AnthropicStreamEvent[], type: string, field: string): string[] =>
  events.map((event) => (event.data as any).delta).filter((delta) => delta?.type === type && delta[field] !== "").map((delta) => delta[field]);

describe("text", () => {
  test("recorded SSE text stream: role chunk at message_start, one chunk per delta, finish, usage (ping ignored)", () => {
    expect(convert(sse("stream-text.sse.txt"))).toEqual([ROLE, chunk({ content: "Hello" }), chunk({}, "stop"), usageChunk(10, 4)]);
  });

  test("recorded text chunks: the output count is message_delta's cumulative one, not message_start's", () => {
    const events = chunkLines("text.chunks.txt");
    const payloads = convert(events);
    expect(payloads).toEqual([ROLE, ...recordedDeltas(events, "text_delta", "text").map((text) => chunk({ content: text })), chunk({}, "stop"), usageChunk(12, 30)]);
    expect(joined(payloads, "content")).toBe("Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?");
  });
});

describe("thinking", () => {
  test("thinking deltas stream as reasoning_content, the signature as reasoning_signature, then the text; empty deltas say nothing", () => {
    const events = sse("stream-thinking.sse.txt");
    const payloads = convert(events);
    const thoughts = recordedDeltas(events, "thinking_delta", "thinking");
    const texts = recordedDeltas(events, "text_delta", "text");
    const [signature] = recordedDeltas(events, "signature_delta", "signature");
    expect(thoughts).toHaveLength(13);
    expect(payloads).toEqual([
      ROLE,
      ...thoughts.map((thinking) => chunk({ reasoning_content: thinking })),
      chunk({ reasoning_signature: signature }),
      ...texts.map((text) => chunk({ content: text })),
      chunk({}, "stop"),
      usageChunk(43, 282),
    ]);
    expect(joined(payloads, "reasoning_content")).toBe(
      "This is a straightforward question about pedestrian safety. I should provide clear, helpful advice about how to safely cross a street. This is basic safety information that could help prevent accidents.",
    );
  });

  test("signature_delta chunks: the reasoning, then the answer", () => {
    const memory = createThinkingMemory();
    const payloads = convert(chunkLines("thinking-signature-delta.chunks.txt"), memory);
    expect(joined(payloads, "reasoning_content")).toBe("The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185");
    expect(joined(payloads, "content")).toBe("925 ÷ 5 = 185");
    expect(payloads.at(-2)).toEqual(chunk({}, "stop"));
    expect(payloads.at(-1)).toEqual(usageChunk(69, 53));
  });

  test("thinking then two tool calls: every call's id recalls the whole thinking block with its exact signature", () => {
    const signature = "EqQBCkYIBxgCKkDsig+/==";
    const memory = createThinkingMemory();
    const payloads = convert(
      [
        { event: "message_start", data: { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", content: [], usage: { input_tokens: 42, output_tokens: 1 } } } },
        { event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } } },
        { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Weather for " } } },
        { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "two cities." } } },
        { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature } } },
        { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
        { event: "content_block_start", data: { type: "content_block_start", index: 1, content_block: { type: "redacted_thinking", data: "ENCRYPTED" } } },
        { event: "content_block_stop", data: { type: "content_block_stop", index: 1 } },
        { event: "content_block_start", data: { type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "toolu_A", name: "get_weather", input: {} } } },
        { event: "content_block_delta", data: { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '{"city":"Paris"}' } } },
        { event: "content_block_stop", data: { type: "content_block_stop", index: 2 } },
        { event: "content_block_start", data: { type: "content_block_start", index: 3, content_block: { type: "tool_use", id: "toolu_B", name: "get_weather", input: {} } } },
        { event: "content_block_delta", data: { type: "content_block_delta", index: 3, delta: { type: "input_json_delta", partial_json: '{"city":' } } },
        { event: "content_block_delta", data: { type: "content_block_delta", index: 3, delta: { type: "input_json_delta", partial_json: '"Rome"}' } } },
        { event: "content_block_stop", data: { type: "content_block_stop", index: 3 } },
        { event: "message_delta", data: { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 87 } } },
        { event: "message_stop", data: { type: "message_stop" } },
      ],
      memory,
    );
    expect(payloads).toEqual([
      ROLE,
      chunk({ reasoning_content: "Weather for " }),
      chunk({ reasoning_content: "two cities." }),
      chunk({ reasoning_signature: signature }),
      chunk({ tool_calls: [{ index: 0, id: "toolu_A", type: "function", function: { name: "get_weather", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: "toolu_B", type: "function", function: { name: "get_weather", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '"Rome"}' } }] }),
      chunk({}, "tool_calls"),
      usageChunk(42, 87),
    ]);
    const blocks: ThinkingBlock[] = [
      { type: "thinking", thinking: "Weather for two cities.", signature },
      { type: "redacted_thinking", data: "ENCRYPTED" },
    ];
    expect(memory.recall("toolu_A")).toEqual(blocks);
    expect(memory.recall("toolu_B")).toEqual(blocks);
  });
});

describe("tool calls", () => {
  test("input_json_delta fragments follow the call's start at the same index; the empty first fragment is skipped", () => {
    expect(convert(chunkLines("tool-use-input-json-delta.chunks.txt"))).toEqual([
      ROLE,
      chunk({ tool_calls: [{ index: 0, id: "toolu_01GjFujkZhVEfe2hDvhJLy1Q", type: "function", function: { name: "searchDocs", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"query": "alpha' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"}' } }] }),
      chunk({}, "tool_calls"),
      usageChunk(804, 29),
    ]);
  });

  test("a call with no argument fragments closes with {} so the client's arguments parse", () => {
    expect(convert(sse("stream-tool-use.sse.txt"))).toEqual([
      ROLE,
      chunk({ tool_calls: [{ index: 0, id: "toolu_01CzN6riCPqw4pVSuTd9Dwn7", type: "function", function: { name: "pelican_name_generator", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "{}" } }] }),
      chunk({}, "tool_calls"),
      usageChunk(543, 40),
    ]);
  });

  test("a tool call after text gets tool index 0 even though it is Anthropic block 1", () => {
    const payloads = convert([
      { data: { type: "message_start", message: { usage: { input_tokens: 5, output_tokens: 1 } } } },
      { data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } } },
      { data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Looking." } } },
      { data: { type: "content_block_stop", index: 0 } },
      { data: { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_X", name: "find", input: {} } } },
      { data: { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"q":1}' } } },
      { data: { type: "content_block_stop", index: 1 } },
      { data: { type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 9 } } },
    ]);
    expect(payloads).toEqual([
      ROLE,
      chunk({ content: "Looking." }),
      chunk({ tool_calls: [{ index: 0, id: "toolu_X", type: "function", function: { name: "find", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"q":1}' } }] }),
      chunk({}, "tool_calls"),
      usageChunk(5, 9),
    ]);
  });
});

describe("finish and usage", () => {
  test("cache write: prompt counts input + cache creation; max_tokens finishes as length", () => {
    expect(convert(chunkLines("cache-write.chunks.txt"))).toEqual([ROLE, chunk({ content: "OK" }), chunk({}, "length"), usageChunk(3 + 18639, 1, 0)]);
  });

  test("cache read: prompt counts input + cache read, which is also cached_tokens", () => {
    expect(convert(chunkLines("cache-read.chunks.txt"))).toEqual([ROLE, chunk({ content: "OK" }), chunk({}, "length"), usageChunk(3 + 18639, 1, 18639)]);
  });

  test("refusal with stop_details: the explanation goes out as refusal with content_filter", () => {
    expect(convert(chunkLines("refusal-stop-details.chunks.txt"))).toEqual([
      ROLE,
      chunk({ refusal: "This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy." }, "content_filter"),
      usageChunk(18, 5),
    ]);
  });

  test("refusal without stop_details still says it was refused", () => {
    const payloads = convert([
      { data: { type: "message_start", message: { usage: { input_tokens: 7, output_tokens: 1 } } } },
      { data: { type: "message_delta", delta: { stop_reason: "refusal", stop_sequence: null }, usage: { output_tokens: 2 } } },
    ]);
    expect(payloads[1]).toEqual(chunk({ refusal: "Claude declined to continue this answer (stop_reason: refusal)." }, "content_filter"));
  });

  test("output_tokens_details.thinking_tokens becomes reasoning_tokens", () => {
    const payloads = convert([
      { data: { type: "message_start", message: { usage: { input_tokens: 10, output_tokens: 1 } } } },
      { data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "Hi" } } },
      { data: { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 50, output_tokens_details: { thinking_tokens: 40 } } } },
    ]);
    expect(payloads).toEqual([
      ROLE,
      chunk({ content: "Hi" }),
      chunk({}, "stop"),
      { ...usageChunk(10, 50), usage: { ...usageChunk(10, 50).usage, completion_tokens_details: { reasoning_tokens: 40 } } },
    ]);
  });
});

describe("errors", () => {
  test("a mid-stream error event ends the stream with the Anthropic error object; nothing after it counts", () => {
    const converter = createAnthropicStreamConverter(CONTEXT, createThinkingMemory());
    const payloads = sse("stream-midstream-overloaded-error.sse.txt").flatMap((event) => converter.push(event));
    const later = converter.push({ data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "more" } } });
    expect([...payloads, ...later, ...converter.finish()].map((payload) => JSON.parse(payload))).toEqual([
      ROLE,
      chunk({ content: "Hello" }),
      { error: { details: null, type: "overloaded_error", message: "Overloaded" } },
    ]);
  });

  test("a stream that ends with neither content nor message_delta becomes one api_error so the engine rotates", () => {
    const events = sse("stream-text.sse.txt").slice(0, 3);
    expect(convert(events)).toEqual([ROLE, { error: { type: "api_error", message: "Anthropic ended the stream without any content" } }]);
  });

  test("a finished but empty answer is still an answer, not an error", () => {
    const payloads = convert([
      { data: { type: "message_start", message: { usage: { input_tokens: 4, output_tokens: 1 } } } },
      { data: { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 1 } } },
      { data: { type: "message_stop" } },
    ]);
    expect(payloads).toEqual([ROLE, chunk({}, "stop"), usageChunk(4, 1)]);
  });
});

describe("a stream cut short", () => {
  test("the recorded stream without message_delta and message_stop ends in an error, not in usage", () => {
    const events = sse("stream-text.sse.txt");
    const at = events.findIndex((event) => (event.data as { type?: string }).type === "message_delta");
    expect(at).toBeGreaterThan(0);
    expect(convert(events).at(-1).usage).toBeDefined();
    const cut = convert(events.slice(0, at));
    expect(cut.at(-1)).toEqual({ error: { type: "api_error", message: "Anthropic closed the stream before the message finished" } });
    expect(cut.some((payload) => payload.usage !== undefined)).toBe(false);
  });
});
