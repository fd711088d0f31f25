/**
 * `POST /v1/messages` and `POST /v1/messages/count_tokens` in front of every provider family, driven
 * with the real `@anthropic-ai/sdk` (raw fetch where the exact event stream matters). Each test
 * checks both sides: what the Anthropic client sees, and what reached the upstream — the native
 * Messages body (anthropic/…, passed through), the OpenAI chat body (openai/…) or the Gemini
 * `generateContent` body (gemini/…).
 *
 * - text, whole and streamed: the SDK's `messages.stream().finalMessage()` equals the non-stream
 *   answer for the same scripted reply, and the raw events follow Anthropic's grammar;
 * - tools: tool_use out, tool_result (with `is_error`) back, and the right tool result upstream;
 * - thinking, images, system blocks with `cache_control`;
 * - count_tokens: the provider's own count where it has one, a local estimate otherwise.
 *
 * Errors: anthropic-errors.test.ts; native pass-through proof: anthropic-passthrough.test.ts;
 * OpenAI clients on anthropic/…: anthropic-openai-clients.test.ts; rotation: anthropic-rotation.test.ts.
 */

import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { DEFAULT_SIGNATURE, DEFAULT_THINKING, estimateInputTokens } from "../support/mock-anthropic.ts";
import { ANTHROPIC_CASE, CLAUDE, CLAUDE_MODEL, FLASH, FLASH_MODEL, GEMINI_CASE, GEMINI_KEY, GPT, GPT_MODEL, MAX_TOKENS, OPENAI_CASE, PNG_BASE64, PROVIDERS, USER_TEXT, WEATHER_TOOL, anthropicCountCalls, comparableContent, expectMessageGrammar, jsonKeysDeep, messagesBody, onlyCall, postMessages, readMessageEvents, scriptAnthropic, streamedText, useAnthropicRig, type AnthropicRig } from "./anthropic-helpers.ts";

const start = useAnthropicRig();

const ANSWER = "The quick brown fox jumps over the lazy dog.";
const USER: Anthropic.MessageParam[] = [{ role: "user", content: USER_TEXT }];

// ---------------------------------------------------------------------------------------------
// Text, whole and streamed, on every provider
// ---------------------------------------------------------------------------------------------

for (const provider of PROVIDERS) {
  describe(`text via ${provider.model}`, () => {
    test("a non-stream answer reaches the SDK as an Anthropic message", async () => {
      const rig = await start();
      provider.scriptText(rig, ANSWER);
      const message = await rig.sdk.messages.create({ model: provider.model, max_tokens: MAX_TOKENS, messages: USER });

      expect(message.type).toBe("message");
      expect(message.role).toBe("assistant");
      expect(message.id).toMatch(/^msg_/);
      expect(comparableContent(message.content)).toEqual([{ type: "text", text: ANSWER }]);
      expect(message.stop_reason).toBe("end_turn");
      expect(message.usage.input_tokens).toBeGreaterThan(0);
      expect(message.usage.output_tokens).toBeGreaterThan(0);

      const call = onlyCall(rig, provider);
      expect(call.stream).toBe(false);
      expectUserTextUpstream(provider.name, call.body, USER_TEXT);
    });

    test("the SDK's streamed finalMessage equals the non-stream answer", async () => {
      const rig = await start();
      provider.scriptText(rig, ANSWER);
      const whole = await rig.sdk.messages.create({ model: provider.model, max_tokens: MAX_TOKENS, messages: USER });
      const streamed = await rig.sdk.messages.stream({ model: provider.model, max_tokens: MAX_TOKENS, messages: USER }).finalMessage();

      expect(comparableContent(streamed.content)).toEqual(comparableContent(whole.content));
      expect(streamed.stop_reason).toBe(whole.stop_reason);
      expect(streamed.usage.output_tokens).toBe(whole.usage.output_tokens);
      expect(streamed.usage.input_tokens).toBe(whole.usage.input_tokens);
      expect(streamed.role).toBe("assistant");

      const calls = provider.generateCalls(rig);
      expect(calls.map((call) => call.stream)).toEqual([false, true]);
    });

    test("the raw stream follows Anthropic's event grammar", async () => {
      const rig = await start();
      provider.scriptText(rig, ANSWER);
      const { events } = await readMessageEvents(await postMessages(rig.proxy, messagesBody(provider.model, { stream: true })));

      expect(expectMessageGrammar(events)).toEqual(["text"]);
      expect(streamedText(events)).toBe(ANSWER);
      const startMessage = events[0]!.data.message;
      expect(startMessage).toMatchObject({ type: "message", role: "assistant", content: [], stop_reason: null });
      expect(events.at(-2)!.data.delta.stop_reason).toBe("end_turn");
      expect(events.at(-2)!.data.usage.output_tokens).toBeGreaterThan(0);
      expect(onlyCall(rig, provider).stream).toBe(true);
    });
  });
}

/** The user's text in each upstream's own shape. */
function expectUserTextUpstream(provider: string, body: any, text: string): void {
  switch (provider) {
    case "anthropic":
      expect(body).toEqual({ model: CLAUDE, max_tokens: MAX_TOKENS, messages: [{ role: "user", content: text }] });
      return;
    case "openai":
      expect(body.model).toBe(GPT);
      expect(body.messages).toEqual([{ role: "user", content: text }]);
      expect(body.max_tokens).toBe(MAX_TOKENS);
      return;
    case "gemini":
      expect(body.contents).toEqual([{ role: "user", parts: [{ text }] }]);
      expect(body.generationConfig.maxOutputTokens).toBe(MAX_TOKENS);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Tools: tool_use out, tool_result back
// ---------------------------------------------------------------------------------------------

const TOOLS: Anthropic.Tool[] = [WEATHER_TOOL as unknown as Anthropic.Tool];
const THINKING = { type: "enabled", budget_tokens: 2048 } as const;
const AFTER_TOOL = "It is 18 °C in Paris.";

/** Turn 2 of a tool loop: the first answer's content as the assistant turn, then the results. */
function secondTurn(first: Anthropic.Message, results: Anthropic.ToolResultBlockParam[]): Anthropic.MessageParam[] {
  return [...USER, { role: "assistant", content: first.content as Anthropic.ContentBlockParam[] }, { role: "user", content: results }];
}

describe("tools round trip", () => {
  test("anthropic: tool_use comes back as sent, and the tool_result reaches Anthropic unchanged", async () => {
    const rig = await start();
    ANTHROPIC_CASE.scriptToolCall(rig, "get_weather", { city: "Paris" });
    const first = await rig.sdk.messages.create({ model: CLAUDE_MODEL, max_tokens: MAX_TOKENS, messages: USER, tools: TOOLS });

    expect(first.stop_reason).toBe("tool_use");
    expect(first.content).toHaveLength(1);
    const toolUse = first.content[0] as Anthropic.ToolUseBlock;
    expect(toolUse).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });
    expect(toolUse.id).toMatch(/^toolu_/);

    const results: Anthropic.ToolResultBlockParam[] = [{ type: "tool_result", tool_use_id: toolUse.id, content: "City service unavailable", is_error: true }];
    ANTHROPIC_CASE.scriptText(rig, AFTER_TOOL);
    const second = await rig.sdk.messages.create({ model: CLAUDE_MODEL, max_tokens: MAX_TOKENS, messages: secondTurn(first, results), tools: TOOLS });
    expect(comparableContent(second.content)).toEqual([{ type: "text", text: AFTER_TOOL }]);

    const calls = ANTHROPIC_CASE.generateCalls(rig);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.body.tools).toEqual(TOOLS);
    expect(calls[1]!.body.messages[1]).toEqual({ role: "assistant", content: first.content });
    expect(calls[1]!.body.messages[2]).toEqual({ role: "user", content: results });
  });

  test("openai: tool_calls become tool_use blocks, and each tool_result becomes the tool message answering its call", async () => {
    const rig = await start();
    OPENAI_CASE.scriptToolCall(rig, "", {});
    const first = await rig.sdk.messages.create({ model: GPT_MODEL, max_tokens: MAX_TOKENS, messages: USER, tools: TOOLS });

    // The mock answers with its recorded parallel calls.
    expect(first.stop_reason).toBe("tool_use");
    expect(comparableContent(first.content)).toEqual([
      { type: "tool_use", id: "call_jYdIdRZHxZTn5bWCq5jlMrJi", name: "delete_file", input: { path: ".env" } },
      { type: "tool_use", id: "call_TmlTVWQbzrXCZ4jNsCVNbNqu", name: "create_file", input: { path: "test.txt" } },
    ]);

    const results: Anthropic.ToolResultBlockParam[] = [
      { type: "tool_result", tool_use_id: "call_jYdIdRZHxZTn5bWCq5jlMrJi", content: "Permission denied", is_error: true },
      { type: "tool_result", tool_use_id: "call_TmlTVWQbzrXCZ4jNsCVNbNqu", content: [{ type: "text", text: "created" }] },
    ];
    OPENAI_CASE.scriptText(rig, AFTER_TOOL);
    const second = await rig.sdk.messages.create({ model: GPT_MODEL, max_tokens: MAX_TOKENS, messages: secondTurn(first, results), tools: TOOLS });
    expect(comparableContent(second.content)).toEqual([{ type: "text", text: AFTER_TOOL }]);

    const calls = OPENAI_CASE.generateCalls(rig);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.body.tools).toEqual([{ type: "function", function: { name: "get_weather", description: WEATHER_TOOL.description, parameters: WEATHER_TOOL.input_schema } }]);
    expect(calls[1]!.body.messages).toEqual([
      { role: "user", content: USER_TEXT },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_jYdIdRZHxZTn5bWCq5jlMrJi", type: "function", function: { name: "delete_file", arguments: JSON.stringify({ path: ".env" }) } },
          { id: "call_TmlTVWQbzrXCZ4jNsCVNbNqu", type: "function", function: { name: "create_file", arguments: JSON.stringify({ path: "test.txt" }) } },
        ],
      },
      // The error flag has no OpenAI field: it is spelled out in the text, and the proxy-only field is gone.
      { role: "tool", tool_call_id: "call_jYdIdRZHxZTn5bWCq5jlMrJi", content: "[error] Permission denied" },
      { role: "tool", tool_call_id: "call_TmlTVWQbzrXCZ4jNsCVNbNqu", content: "created" },
    ]);
  });

  test("gemini: functionCall becomes tool_use, and the tool_result reaches Gemini as a functionResponse naming the function", async () => {
    const rig = await start();
    GEMINI_CASE.scriptToolCall(rig, "get_weather", { city: "Paris" });
    const first = await rig.sdk.messages.create({ model: FLASH_MODEL, max_tokens: MAX_TOKENS, messages: USER, tools: TOOLS });

    expect(first.stop_reason).toBe("tool_use");
    expect(first.content).toHaveLength(1);
    const toolUse = first.content[0] as Anthropic.ToolUseBlock;
    expect(toolUse).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });

    const results: Anthropic.ToolResultBlockParam[] = [{ type: "tool_result", tool_use_id: toolUse.id, content: "City not found", is_error: true }];
    GEMINI_CASE.scriptText(rig, AFTER_TOOL);
    const second = await rig.sdk.messages.create({ model: FLASH_MODEL, max_tokens: MAX_TOKENS, messages: secondTurn(first, results), tools: TOOLS });
    expect(comparableContent(second.content)).toEqual([{ type: "text", text: AFTER_TOOL }]);

    const calls = GEMINI_CASE.generateCalls(rig);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.body.tools[0].functionDeclarations[0].name).toBe("get_weather");
    const contents = calls[1]!.body.contents;
    expect(contents).toHaveLength(3);
    expect(contents[1].role).toBe("model");
    expect(contents[1].parts[0].functionCall).toEqual({ name: "get_weather", args: { city: "Paris" } });
    expect(contents[2]).toEqual({ role: "user", parts: [{ functionResponse: { name: "get_weather", response: { output: "[error] City not found" } } }] });
  });

  test("openai: an image inside a tool_result follows as a user message, with a note in the tool message", async () => {
    const rig = await start();
    const messages: Anthropic.MessageParam[] = [
      ...USER,
      { role: "assistant", content: [{ type: "tool_use", id: "call_screenshot", name: "screenshot", input: {} }] },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "call_screenshot",
            content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: PNG_BASE64 } }],
          },
        ],
      },
    ];
    await rig.sdk.messages.create({ model: GPT_MODEL, max_tokens: MAX_TOKENS, messages });

    const sent = onlyCall(rig, OPENAI_CASE).body.messages;
    expect(sent.slice(2)).toEqual([
      { role: "tool", tool_call_id: "call_screenshot", content: "[1 attachment of this tool result follows in the next user message]" },
      { role: "user", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${PNG_BASE64}` } }] },
    ]);
  });

  for (const provider of PROVIDERS) {
    test(`${provider.name}: a streamed tool call ends in stop_reason tool_use with its input parsed`, async () => {
      const rig = await start();
      provider.scriptToolCall(rig, "get_weather", { city: "Paris" });
      const stream = rig.sdk.messages.stream({ model: provider.model, max_tokens: MAX_TOKENS, messages: USER, tools: TOOLS });
      const message = await stream.finalMessage();

      expect(message.stop_reason).toBe("tool_use");
      const toolUses = message.content.filter((block): block is Anthropic.ToolUseBlock => block.type === "tool_use");
      expect(toolUses.length).toBeGreaterThan(0);
      // The OpenAI mock streams its recorded get_weather({city:"Mexico City"}) call first.
      const expectedCity = provider.name === "openai" ? "Mexico City" : "Paris";
      expect(toolUses[0]).toMatchObject({ name: "get_weather", input: { city: expectedCity } });
      for (const block of toolUses) expect(block.id.length).toBeGreaterThan(0);
      expect(onlyCall(rig, provider).stream).toBe(true);
    });
  }

  test("openai: parallel streamed tool calls arrive as consecutive tool_use blocks with increasing indexes", async () => {
    const rig = await start();
    OPENAI_CASE.scriptToolCall(rig, "", {});
    const { events } = await readMessageEvents(await postMessages(rig.proxy, messagesBody(GPT_MODEL, { stream: true, tools: TOOLS })));

    expect(expectMessageGrammar(events)).toEqual(["tool_use", "tool_use"]);
    const starts = events.filter((e) => e.event === "content_block_start").map((e) => e.data.content_block);
    expect(starts.map((block) => block.name)).toEqual(["get_weather", "get_product_name"]);
    const json0 = events.filter((e) => e.event === "content_block_delta" && e.data.index === 0).map((e) => e.data.delta.partial_json).join("");
    expect(JSON.parse(json0)).toEqual({ city: "Mexico City" });
    expect(events.at(-2)!.data.delta.stop_reason).toBe("tool_use");
  });
});

// ---------------------------------------------------------------------------------------------
// Thinking
// ---------------------------------------------------------------------------------------------

describe("streamed and whole answers agree beyond plain text", () => {
  /** Tool ids are minted per answer, so only their presence is compared. */
  const withoutIds = (content: readonly any[]) => comparableContent(content).map((block) => (block.type === "tool_use" ? { ...block, id: typeof block.id } : block));

  async function expectStreamMatchesWhole(rig: AnthropicRig, body: Anthropic.MessageCreateParamsNonStreaming): Promise<Anthropic.Message> {
    const whole = await rig.sdk.messages.create(body);
    const streamed = await rig.sdk.messages.stream(body).finalMessage();
    expect(withoutIds(streamed.content)).toEqual(withoutIds(whole.content));
    expect(streamed.stop_reason).toBe(whole.stop_reason);
    expect(streamed.usage.output_tokens).toBe(whole.usage.output_tokens);
    return whole;
  }

  test("anthropic: signed thinking followed by parallel tool_use", async () => {
    const rig = await start();
    scriptAnthropic(rig, { kind: "tool_use", withThinking: true, calls: [{ name: "get_weather", input: { city: "Paris" } }, { name: "get_weather", input: { city: "Rome" } }] });
    const whole = await expectStreamMatchesWhole(rig, { model: CLAUDE_MODEL, max_tokens: 4096, thinking: THINKING, tools: TOOLS, messages: USER });
    expect(whole.content.map((block) => block.type)).toEqual(["thinking", "tool_use", "tool_use"]);
    expect(whole.stop_reason).toBe("tool_use");
  });

  test("gemini: thoughts then text", async () => {
    const rig = await start();
    rig.gemini.script(GEMINI_KEY, { kind: "text", text: ANSWER, thoughts: "Weighing the options." });
    const whole = await expectStreamMatchesWhole(rig, { model: FLASH_MODEL, max_tokens: 4096, thinking: THINKING, messages: USER });
    expect(whole.content.map((block) => block.type)).toEqual(["thinking", "text"]);
  });

  test("gemini: parallel function calls", async () => {
    const rig = await start();
    rig.gemini.script(GEMINI_KEY, { kind: "tool_call", calls: [{ name: "get_weather", args: { city: "Paris" } }, { name: "get_weather", args: { city: "Rome" } }] });
    const whole = await expectStreamMatchesWhole(rig, { model: FLASH_MODEL, max_tokens: MAX_TOKENS, tools: TOOLS, messages: USER });
    expect(comparableContent(whole.content).map((block) => block.input)).toEqual([{ city: "Paris" }, { city: "Rome" }]);
  });
});

describe("thinking", () => {
  test("anthropic: the thinking object passes through natively and the signed thinking block comes back", async () => {
    const rig = await start();
    rig.anthropic.setDefault({ kind: "thinking", text: ANSWER });
    const message = await rig.sdk.messages.create({ model: CLAUDE_MODEL, max_tokens: 4096, messages: USER, thinking: THINKING });

    expect(comparableContent(message.content)).toEqual([
      { type: "thinking", thinking: DEFAULT_THINKING, signature: DEFAULT_SIGNATURE },
      { type: "text", text: ANSWER },
    ]);
    const call = onlyCall(rig, ANTHROPIC_CASE);
    expect(call.body.thinking).toEqual(THINKING);
    expect(call.body.max_tokens).toBe(4096);
    expect(call.body).not.toHaveProperty("reasoning_effort");
  });

  test("anthropic: a streamed thinking answer keeps its signature_delta, and finalMessage carries the signature", async () => {
    const rig = await start();
    rig.anthropic.setDefault({ kind: "thinking", text: ANSWER });
    const { events } = await readMessageEvents(await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL, { stream: true, max_tokens: 4096, thinking: THINKING })));
    expect(expectMessageGrammar(events)).toEqual(["thinking", "text"]);
    const signatures = events.filter((e) => e.data.delta?.type === "signature_delta").map((e) => e.data.delta.signature);
    expect(signatures).toEqual([DEFAULT_SIGNATURE]);

    const final = await rig.sdk.messages.stream({ model: CLAUDE_MODEL, max_tokens: 4096, messages: USER, thinking: THINKING }).finalMessage();
    expect((final.content[0] as Anthropic.ThinkingBlock).signature).toBe(DEFAULT_SIGNATURE);
  });

  test("openai: thinking becomes reasoning_effort, and no thinking / top_k / cache_control / signed-thinking field reaches the host", async () => {
    const rig = await start();
    OPENAI_CASE.scriptText(rig, ANSWER);
    // top_k is a Messages API field this SDK version no longer types; it still sends what it is given.
    const params = {
      model: GPT_MODEL,
      max_tokens: 4096,
      thinking: THINKING,
      top_k: 5,
      system: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: [{ type: "text", text: "Earlier question.", cache_control: { type: "ephemeral" } }] },
        // A signed thinking block from an earlier Claude turn: only Anthropic can check it.
        { role: "assistant", content: [{ type: "thinking", thinking: "Earlier thought.", signature: "EqQBCkYIBxgCKkBsig" }, { type: "text", text: "Earlier answer." }] },
        { role: "user", content: [{ type: "text", text: USER_TEXT, cache_control: { type: "ephemeral" } }] },
      ],
    } as Anthropic.MessageCreateParamsNonStreaming;
    const message = await rig.sdk.messages.create(params);
    expect(comparableContent(message.content)).toEqual([{ type: "text", text: ANSWER }]);

    const body = onlyCall(rig, OPENAI_CASE).body;
    expect(body.reasoning_effort).toBe("low");
    const keys = jsonKeysDeep(body);
    for (const field of ["thinking", "top_k", "cache_control", "reasoning_signature", "reasoning_content"]) expect(keys.has(field)).toBe(false);
    expect(body.messages[2]).toEqual({ role: "assistant", content: "Earlier answer." });
  });

  test("gemini: thinking becomes thinkingConfig with its budget, and thoughts come back as a thinking block", async () => {
    const rig = await start();
    rig.gemini.setDefault({ kind: "text", text: ANSWER, thoughts: "Weighing the options." });
    const message = await rig.sdk.messages.create({ model: FLASH_MODEL, max_tokens: 4096, messages: USER, thinking: THINKING });

    expect(comparableContent(message.content)).toEqual([
      { type: "thinking", thinking: "Weighing the options.", signature: "" },
      { type: "text", text: ANSWER },
    ]);
    const body = onlyCall(rig, GEMINI_CASE).body;
    expect(body.generationConfig.thinkingConfig).toEqual({ thinkingBudget: 2048, includeThoughts: true });
    expect(body).not.toHaveProperty("thinking");
  });

  test("gemini: streamed thoughts open a thinking block before the text block", async () => {
    const rig = await start();
    rig.gemini.setDefault({ kind: "text", text: ANSWER, thoughts: "Weighing the options." });
    const { events } = await readMessageEvents(await postMessages(rig.proxy, messagesBody(FLASH_MODEL, { stream: true, max_tokens: 4096, thinking: THINKING })));

    expect(expectMessageGrammar(events)).toEqual(["thinking", "text"]);
    const thoughts = events.filter((e) => e.data.delta?.type === "thinking_delta").map((e) => e.data.delta.thinking).join("");
    expect(thoughts).toBe("Weighing the options.");
    expect(streamedText(events)).toBe(ANSWER);
  });
});

// ---------------------------------------------------------------------------------------------
// Images and system blocks
// ---------------------------------------------------------------------------------------------

const IMAGE_MESSAGE: Anthropic.MessageParam[] = [
  {
    role: "user",
    content: [
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_BASE64 } },
      { type: "text", text: "What is in this picture?" },
    ],
  },
];

describe("images", () => {
  test("anthropic: the base64 image block reaches Anthropic as sent", async () => {
    const rig = await start();
    await rig.sdk.messages.create({ model: CLAUDE_MODEL, max_tokens: MAX_TOKENS, messages: IMAGE_MESSAGE });
    expect(onlyCall(rig, ANTHROPIC_CASE).body.messages).toEqual(IMAGE_MESSAGE);
  });

  test("openai: the image becomes an image_url part with a data URL", async () => {
    const rig = await start();
    await rig.sdk.messages.create({ model: GPT_MODEL, max_tokens: MAX_TOKENS, messages: IMAGE_MESSAGE });
    expect(onlyCall(rig, OPENAI_CASE).body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
          { type: "text", text: "What is in this picture?" },
        ],
      },
    ]);
  });

  test("gemini: the image becomes inlineData", async () => {
    const rig = await start();
    await rig.sdk.messages.create({ model: FLASH_MODEL, max_tokens: MAX_TOKENS, messages: IMAGE_MESSAGE });
    expect(onlyCall(rig, GEMINI_CASE).body.contents).toEqual([
      { role: "user", parts: [{ inlineData: { mimeType: "image/png", data: PNG_BASE64 } }, { text: "What is in this picture?" }] },
    ]);
  });
});

const SYSTEM_BLOCKS: Anthropic.TextBlockParam[] = [
  { type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } },
  { type: "text", text: "Answer in English." },
];

describe("system as blocks with cache_control", () => {
  test("anthropic: the system blocks keep their cache_control", async () => {
    const rig = await start();
    await rig.sdk.messages.create({ model: CLAUDE_MODEL, max_tokens: MAX_TOKENS, system: SYSTEM_BLOCKS, messages: USER });
    expect(onlyCall(rig, ANTHROPIC_CASE).body.system).toEqual(SYSTEM_BLOCKS);
  });

  test("openai: the system blocks become one system message without cache_control", async () => {
    const rig = await start();
    await rig.sdk.messages.create({ model: GPT_MODEL, max_tokens: MAX_TOKENS, system: SYSTEM_BLOCKS, messages: USER });
    const body = onlyCall(rig, OPENAI_CASE).body;
    expect(body.messages).toEqual([
      { role: "system", content: [{ type: "text", text: "You are terse." }, { type: "text", text: "Answer in English." }] },
      { role: "user", content: USER_TEXT },
    ]);
    expect(jsonKeysDeep(body).has("cache_control")).toBe(false);
  });

  test("gemini: the system blocks become the systemInstruction", async () => {
    const rig = await start();
    await rig.sdk.messages.create({ model: FLASH_MODEL, max_tokens: MAX_TOKENS, system: SYSTEM_BLOCKS, messages: USER });
    const body = onlyCall(rig, GEMINI_CASE).body;
    const texts = body.systemInstruction.parts.map((part: any) => part.text).join("\n");
    expect(texts).toContain("You are terse.");
    expect(texts).toContain("Answer in English.");
    expect(jsonKeysDeep(body).has("cache_control")).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// count_tokens
// ---------------------------------------------------------------------------------------------

const COUNT_REQUEST = {
  system: "You are terse.",
  messages: [{ role: "user" as const, content: "How many tokens is this sentence, roughly?" }],
  tools: TOOLS,
};

async function countWithHeaders(rig: AnthropicRig, model: string) {
  const { data, response } = await rig.sdk.messages.countTokens({ model, ...COUNT_REQUEST }).withResponse();
  return { count: data.input_tokens, source: response.headers.get("x-proxy-token-count") };
}

describe("count_tokens", () => {
  test("anthropic: Anthropic's own count_tokens answers, on the rotated keys", async () => {
    const rig = await start();
    const first = await countWithHeaders(rig, CLAUDE_MODEL);
    const second = await countWithHeaders(rig, CLAUDE_MODEL);

    const calls = anthropicCountCalls(rig.anthropic);
    expect(calls).toHaveLength(2);
    const expected = estimateInputTokens(calls[0]!.body);
    expect(first).toEqual({ count: expected, source: "provider" });
    expect(second).toEqual({ count: expected, source: "provider" });
    // Provider keys, never the proxy key, and both keys of the pool take turns.
    expect(new Set(calls.map((call) => call.key))).toEqual(new Set(rig.anthropicKeys));
    expect(calls[0]!.body).toEqual({ model: CLAUDE, ...COUNT_REQUEST });
    expect(rig.anthropic.calls.filter((call) => call.path === "/v1/messages")).toHaveLength(0);
  });

  test("gemini: Gemini's :countTokens answers", async () => {
    const rig = await start();
    const counted = await countWithHeaders(rig, FLASH_MODEL);

    const calls = rig.gemini.calls.filter((call) => call.path.endsWith(":countTokens"));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.key).toBe(GEMINI_KEY);
    expect(calls[0]!.model).toBe(FLASH);
    expect(counted.source).toBe("provider");
    expect(counted.count).toBeGreaterThan(0);
    // The mock counts the texts it was given, so the proxy's number is Gemini's.
    const request = calls[0]!.body.generateContentRequest;
    const texts = [...request.contents, request.systemInstruction].flatMap((content: any) => content.parts).map((part: any) => part.text ?? "");
    expect(counted.count).toBe(texts.reduce((sum: number, text: string) => sum + Math.max(1, Math.ceil(text.length / 4)), 0));
  });

  test("openai: no provider count exists, so the proxy estimates locally and says so", async () => {
    const rig = await start();
    const counted = await countWithHeaders(rig, GPT_MODEL);

    expect(counted.source).toBe("estimate");
    expect(counted.count).toBeGreaterThan(0);
    expect(rig.openai.calls).toHaveLength(0);
  });

  test("anthropic: when Anthropic's count_tokens keeps failing, one round over the keys is tried before the estimate", async () => {
    const rig = await start();
    scriptAnthropic(rig, { kind: "overloaded" });
    const counted = await countWithHeaders(rig, CLAUDE_MODEL);

    expect(counted.source).toBe("estimate");
    expect(counted.count).toBeGreaterThan(0);
    // Each key once, the last one retried once (no other was left); a second round would only
    // double the load on an overloaded provider (and the wait) before the same local estimate.
    const [first, second] = rig.anthropicKeys as [string, string];
    expect(anthropicCountCalls(rig.anthropic).map((call) => call.key)).toEqual([first, second, second]);
  });

  test("count_tokens needs no max_tokens, and a longer prompt counts more", async () => {
    const rig = await start();
    const short = await rig.sdk.messages.countTokens({ model: GPT_MODEL, messages: [{ role: "user", content: "Hi." }] });
    const long = await rig.sdk.messages.countTokens({ model: GPT_MODEL, messages: [{ role: "user", content: "Hi. ".repeat(200) }] });
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens);
  });
});
