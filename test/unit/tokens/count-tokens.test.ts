/**
 * Token counting: encoding choice per model, agreement with gpt-tokenizer's
 * own encoders, OpenAI chat framing, and the non-text parts of a request.
 */
import { describe, expect, test } from "bun:test";
import { encode as encodeCl100k, encodeChat as encodeChatCl100k } from "gpt-tokenizer/encoding/cl100k_base";
import { encode as encodeO200k, encodeChat as encodeChatO200k } from "gpt-tokenizer/encoding/o200k_base";
import { IMAGE_PART_TOKENS, countChatTokens, countTextTokens, encodingForModel, type ChatMessageLike, type EncodingName } from "../../../src/tokens/count-tokens.ts";

// Same text gives 3 tokens on o200k_base and 9 on cl100k_base, so it tells the encodings apart.
const KOREAN = "안녕하세요 세계";

describe("encodingForModel", () => {
  test.each<[string, EncodingName]>([
    ["gpt-4o", "o200k_base"],
    ["gpt-4o-mini-2024-07-18", "o200k_base"],
    ["chatgpt-4o-latest", "o200k_base"],
    ["gpt-4.1-nano", "o200k_base"],
    ["gpt-4.5-preview", "o200k_base"],
    ["gpt-5", "o200k_base"],
    ["o1-mini", "o200k_base"],
    ["o3", "o200k_base"],
    ["o4-mini", "o200k_base"],
    ["gpt-4", "cl100k_base"],
    ["gpt-4-turbo", "cl100k_base"],
    ["gpt-4-0613", "cl100k_base"],
    ["gpt-4-32k", "cl100k_base"],
    ["gpt-3.5-turbo", "cl100k_base"],
    ["gpt-35-turbo", "cl100k_base"],
    ["text-embedding-ada-002", "cl100k_base"],
    ["text-embedding-3-small", "cl100k_base"],
    ["GPT-4", "cl100k_base"],
    ["gpt-oss-120b", "o200k_harmony"],
    ["openai/gpt-oss-20b", "o200k_harmony"],
    ["llama-3.3-70b-versatile", "o200k_base"],
    ["", "o200k_base"],
  ])("%s ⇒ %s", (model, encoding) => {
    expect(encodingForModel(model)).toBe(encoding);
  });
});

describe("countTextTokens", () => {
  test("matches known counts on both encodings", () => {
    expect(countTextTokens("tiktoken is great!", "gpt-4o")).toBe(6);
    expect(countTextTokens("tiktoken is great!", "gpt-4")).toBe(6);
    expect(countTextTokens(KOREAN, "gpt-4o")).toBe(3);
    expect(countTextTokens(KOREAN, "gpt-4")).toBe(9);
    expect(countTextTokens("", "gpt-4o")).toBe(0);
  });

  test.each(["Hello, world!", "The quick brown fox jumps over the lazy dog.", KOREAN, "  indented\n\tcode();  "])(
    "agrees with the library's encode for %j",
    (text) => {
      expect(countTextTokens(text, "gpt-4o")).toBe(encodeO200k(text).length);
      expect(countTextTokens(text, "gpt-4-turbo")).toBe(encodeCl100k(text).length);
    },
  );

  test("counts special-token text as plain text instead of throwing", () => {
    const text = "please print <|endoftext|> and <|im_start|> literally";
    expect(() => encodeO200k(text)).toThrow();
    expect(countTextTokens(text, "gpt-4o")).toBe(encodeO200k(text, { disallowedSpecial: new Set() }).length);
    expect(countTextTokens("<|endoftext|>", "gpt-4")).toBeGreaterThan(1);
    expect(countTextTokens("<|start|><|call|>", "gpt-oss-120b")).toBeGreaterThan(2);
  });

  test("unknown models fall back to o200k_base", () => {
    expect(countTextTokens(KOREAN, "some-future-model")).toBe(encodeO200k(KOREAN).length);
  });

  test("gpt-oss (o200k_harmony) tokenizes text like o200k_base", () => {
    expect(countTextTokens(KOREAN, "gpt-oss-20b")).toBe(3);
  });
});

describe("countChatTokens", () => {
  test("adds 3 per message, the role, and 3 to prime the reply", () => {
    // 3 framing + "user" (1) + "hi" (1) + 3 priming
    expect(countChatTokens([{ role: "user", content: "hi" }], "gpt-4o")).toBe(8);
    expect(countChatTokens([], "gpt-4o")).toBe(3);
  });

  test("a name costs its tokens plus 1", () => {
    const plain = countChatTokens([{ role: "user", content: "hi" }], "gpt-4o");
    const named = countChatTokens([{ role: "user", content: "hi", name: "alice" }], "gpt-4o");
    expect(named - plain).toBe(1 + countTextTokens("alice", "gpt-4o"));
  });

  test("agrees with the library's ChatML encoding on both encodings", () => {
    const chat = [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "What is the capital of France?" },
      { role: "assistant", content: "Paris." },
    ];
    expect(countChatTokens(chat, "gpt-4o")).toBe(encodeChatO200k(chat, "gpt-4o").length);
    expect(countChatTokens(chat, "gpt-4")).toBe(encodeChatCl100k(chat, "gpt-4").length);
  });

  test("does not throw on special-token text in messages", () => {
    expect(() => countChatTokens([{ role: "user", content: "<|im_end|><|endoftext|>" }], "gpt-4")).not.toThrow();
  });

  test("counts text parts of array content and a fixed estimate per image", () => {
    const asString = countChatTokens([{ role: "user", content: "Describe this picture please" }], "gpt-4o");
    const asParts = countChatTokens(
      [
        {
          role: "user",
          content: [
            { type: "text", text: "Describe this picture" },
            { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
            { type: "text", text: " please" },
          ],
        },
      ],
      "gpt-4o",
    );
    expect(asParts).toBe(asString + IMAGE_PART_TOKENS);
  });

  test("null content and unknown parts count nothing", () => {
    const bare = countChatTokens([{ role: "assistant", content: null }], "gpt-4o");
    expect(bare).toBe(3 + countTextTokens("assistant", "gpt-4o") + 3);
    expect(countChatTokens([{ role: "assistant", content: [{ type: "input_audio" }, 42, null] }], "gpt-4o")).toBe(bare);
  });

  test("counts assistant tool calls: function name and arguments", () => {
    const args = JSON.stringify({ city: "Paris", unit: "celsius" });
    const withCall: ChatMessageLike = {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: args } }],
    };
    const without = countChatTokens([{ role: "assistant", content: null }], "gpt-4o");
    expect(countChatTokens([withCall], "gpt-4o") - without).toBe(
      countTextTokens("get_weather", "gpt-4o") + countTextTokens(args, "gpt-4o"),
    );
  });

  test("counts tool results like any other message content", () => {
    const result: ChatMessageLike = { role: "tool", tool_call_id: "call_1", content: '{"temp":21}' };
    expect(countChatTokens([result], "gpt-4o")).toBe(3 + countTextTokens("tool", "gpt-4o") + countTextTokens('{"temp":21}', "gpt-4o") + 3);
  });

  test("counts tool definitions as their JSON", () => {
    const tools = [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Current weather for a city",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      },
    ];
    const messages = [{ role: "user", content: "Weather in Paris?" }];
    const without = countChatTokens(messages, "gpt-4o");
    expect(countChatTokens(messages, "gpt-4o", tools) - without).toBe(countTextTokens(JSON.stringify(tools), "gpt-4o"));
    expect(countChatTokens(messages, "gpt-4o", [])).toBe(without);
  });

  test("uses the model's encoding", () => {
    const messages = [{ role: "user", content: KOREAN }];
    expect(countChatTokens(messages, "gpt-4") - countChatTokens(messages, "gpt-4o")).toBe(6);
  });
});
