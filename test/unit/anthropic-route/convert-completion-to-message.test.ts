/** Recorded OpenAI-shaped `chat.completion` answers → Anthropic `Message`. */

import { describe, expect, test } from "bun:test";
import { convertCompletionToMessage, messageIdFor, stopReasonFor, thinkingOmitted } from "../../../src/formats/anthropic/convert-completion-to-message.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

const MODEL = "claude-sonnet-4-5";

describe("recorded answers", () => {
  test("openai/chat-text.json: one text block, end_turn, usage", () => {
    const completion = readFixtureJson("openai/chat-text.json");
    expect(convertCompletionToMessage(completion, MODEL)).toStrictEqual({
      id: "msg_D8Z5f52zQqikDBEKQMQoYcWMcWPeU",
      type: "message",
      role: "assistant",
      model: MODEL,
      content: [{ type: "text", text: completion.choices[0].message.content }],
      stop_reason: "end_turn",
      stop_sequence: null,
      stop_details: null,
      usage: { input_tokens: 16, output_tokens: 363, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
  });

  test("openai/chat-parallel-tool-calls.json: null content, two tool_use blocks with parsed input, tool_use", () => {
    expect(convertCompletionToMessage(readFixtureJson("openai/chat-parallel-tool-calls.json"), MODEL)).toStrictEqual({
      id: "msg_C9f7f1SbHRzcwlJwrYKdSonTRWPvV",
      type: "message",
      role: "assistant",
      model: MODEL,
      content: [
        { type: "tool_use", id: "call_jYdIdRZHxZTn5bWCq5jlMrJi", name: "delete_file", input: { path: ".env" } },
        { type: "tool_use", id: "call_TmlTVWQbzrXCZ4jNsCVNbNqu", name: "create_file", input: { path: "test.txt" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      stop_details: null,
      usage: { input_tokens: 71, output_tokens: 46, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
  });

  test("deepseek/tool-call-with-reasoning.json: thinking (empty signature) then tool_use; empty content gives no text block; cached tokens split out", () => {
    const completion = readFixtureJson("deepseek/tool-call-with-reasoning.json");
    expect(convertCompletionToMessage(completion, "deepseek-reasoner")).toStrictEqual({
      id: "msg_7a630f5b-b7e6-4878-82f8-d77db164d42b",
      type: "message",
      role: "assistant",
      model: "deepseek-reasoner",
      content: [
        { type: "thinking", thinking: completion.choices[0].message.reasoning_content, signature: "" },
        { type: "tool_use", id: "call_00_9V0vrf86Pc9aelHCJMZqnJBo", name: "weather", input: { location: "San Francisco" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      stop_details: null,
      usage: { input_tokens: 19, output_tokens: 92, cache_read_input_tokens: 320, cache_creation_input_tokens: 0 },
    });
  });

  test("deepseek/tool-call-with-reasoning.json with omitThinking (display \"omitted\"): no thinking block, the tool call alone", () => {
    const completion = readFixtureJson("deepseek/tool-call-with-reasoning.json");
    const message = convertCompletionToMessage(completion, "deepseek-reasoner", { omitThinking: true });
    expect(message.content).toStrictEqual([{ type: "tool_use", id: "call_00_9V0vrf86Pc9aelHCJMZqnJBo", name: "weather", input: { location: "San Francisco" } }]);
    expect(message.stop_reason).toBe("tool_use");
    expect(JSON.stringify(message)).not.toContain(completion.choices[0].message.reasoning_content.slice(0, 40));
  });

  test("thinkingOmitted: display \"omitted\" on adaptive or enabled thinking, nothing else", () => {
    expect(thinkingOmitted({ thinking: { type: "adaptive", display: "omitted" } })).toBe(true);
    expect(thinkingOmitted({ thinking: { type: "enabled", budget_tokens: 2048, display: "omitted" } })).toBe(true);
    expect(thinkingOmitted({ thinking: { type: "adaptive", display: "summarized" } })).toBe(false);
    expect(thinkingOmitted({ thinking: { type: "adaptive" } })).toBe(false);
    expect(thinkingOmitted({ thinking: { type: "disabled" } })).toBe(false);
    expect(thinkingOmitted({})).toBe(false);
  });

  test("groq/reasoning-parsed.json: `reasoning` (Groq's spelling) becomes the thinking block", () => {
    const completion = readFixtureJson("groq/reasoning-parsed.json");
    const message = convertCompletionToMessage(completion, MODEL);
    expect(message.content).toEqual([
      { type: "thinking", thinking: completion.choices[0].message.reasoning, signature: "" },
      { type: "text", text: completion.choices[0].message.content },
    ]);
  });
});

describe("content edge cases", () => {
  const completion = (message: Record<string, unknown>, finishReason: string | null = "stop") => ({ id: "chatcmpl-x", choices: [{ index: 0, message, finish_reason: finishReason }] });
  const contentOf = (message: Record<string, unknown>) => convertCompletionToMessage(completion(message), MODEL).content;

  test("order is thinking, text, tool_use", () => {
    expect(contentOf({ content: "Calling.", reasoning_content: "Plan.", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: '{"a":1}' } }] })).toEqual([
      { type: "thinking", thinking: "Plan.", signature: "" },
      { type: "text", text: "Calling." },
      { type: "tool_use", id: "c1", name: "f", input: { a: 1 } },
    ]);
  });

  test("tool arguments: empty is {}, broken JSON and non-objects are kept under _raw, an object passes", () => {
    const call = (id: string, args: unknown) => ({ id, type: "function", function: { name: "f", arguments: args } });
    expect(contentOf({ content: null, tool_calls: [call("a", ""), call("b", '{"path": "x"'), call("c", "[1,2]"), call("d", { k: "v" })] })).toEqual([
      { type: "tool_use", id: "a", name: "f", input: {} },
      { type: "tool_use", id: "b", name: "f", input: { _raw: '{"path": "x"' } },
      { type: "tool_use", id: "c", name: "f", input: { _raw: "[1,2]" } },
      { type: "tool_use", id: "d", name: "f", input: { k: "v" } },
    ]);
  });

  test("a call without id gets a toolu_ id", () => {
    const [block] = contentOf({ content: null, tool_calls: [{ type: "function", function: { name: "f", arguments: "{}" } }] });
    expect(block).toEqual({ type: "tool_use", id: expect.stringMatching(/^toolu_[0-9a-f]{24}$/), name: "f", input: {} });
  });

  test("a refusal with no content becomes the text, and content_filter the refusal stop reason", () => {
    const message = convertCompletionToMessage(completion({ content: null, refusal: "I can't help with that." }, "content_filter"), MODEL);
    expect(message.content).toEqual([{ type: "text", text: "I can't help with that." }]);
    expect(message.stop_reason).toBe("refusal");
  });

  test("no choices and no usage: an empty end_turn message with zero usage and a random id", () => {
    const message = convertCompletionToMessage({ choices: [] }, MODEL);
    expect(message.id).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(message.content).toEqual([]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage).toEqual({ input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  });

  test("DeepSeek's older prompt_cache_hit_tokens counts as cache read when the details are missing", () => {
    const message = convertCompletionToMessage({ choices: [], usage: { prompt_tokens: 100, completion_tokens: 5, prompt_cache_hit_tokens: 64 } }, MODEL);
    expect(message.usage).toEqual({ input_tokens: 36, output_tokens: 5, cache_read_input_tokens: 64, cache_creation_input_tokens: 0 });
  });
});

describe("stop reasons and ids", () => {
  test("finish_reason map; tool calls turn a plain stop into tool_use", () => {
    expect(stopReasonFor("stop", false)).toBe("end_turn");
    expect(stopReasonFor("stop", true)).toBe("tool_use");
    expect(stopReasonFor("length", false)).toBe("max_tokens");
    expect(stopReasonFor("length", true)).toBe("max_tokens");
    expect(stopReasonFor("model_length", false)).toBe("max_tokens");
    expect(stopReasonFor("tool_calls", true)).toBe("tool_use");
    expect(stopReasonFor("function_call", true)).toBe("tool_use");
    expect(stopReasonFor("content_filter", false)).toBe("refusal");
    expect(stopReasonFor(null, false)).toBe("end_turn");
    expect(stopReasonFor("eos", false)).toBe("end_turn");
  });

  test("message ids derive from the upstream id", () => {
    expect(messageIdFor("chatcmpl-abc123")).toBe("msg_abc123");
    expect(messageIdFor("gen-1765226419-AGrw")).toBe("msg_gen-1765226419-AGrw");
    expect(messageIdFor("")).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(messageIdFor(undefined)).toMatch(/^msg_[0-9a-f]{24}$/);
  });
});
