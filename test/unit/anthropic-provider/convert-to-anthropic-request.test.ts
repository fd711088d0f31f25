/** OpenAI Chat Completions body → Anthropic Messages body. */

import { describe, expect, test } from "bun:test";
import type { ChatRequest } from "../../../src/formats/openai-requests.ts";
import { createAnthropicStreamConverter, type AnthropicStreamEvent } from "../../../src/providers/anthropic/convert-anthropic-stream.ts";
import { convertToAnthropicRequest } from "../../../src/providers/anthropic/convert-to-anthropic-request.ts";
import { createThinkingMemory, type ThinkingMemory } from "../../../src/providers/anthropic/thinking-memory.ts";
import { readSseFixture } from "../../support/fixtures.ts";
import { UnsupportedRequestError } from "../../../src/providers/adapter.ts";

const MODEL = "claude-sonnet-4-5";

function request(fields: Record<string, unknown>): ChatRequest {
  return { model: `anthropic/${MODEL}`, messages: [{ role: "user", content: "hi" }], ...fields } as ChatRequest;
}

function convert(fields: Record<string, unknown>, memory: ThinkingMemory = createThinkingMemory(), model = MODEL): any {
  return convertToAnthropicRequest(request(fields), model, memory);
}

/** The error the conversion throws, for asserting its message and param. */
function conversionError(fields: Record<string, unknown>): UnsupportedRequestError {
  try {
    convert(fields);
  } catch (error) {
    if (error instanceof UnsupportedRequestError) return error;
    throw error;
  }
  throw new Error("expected an UnsupportedRequestError");
}

const text = (value: string) => ({ type: "text", text: value });
const user = (...content: unknown[]) => ({ role: "user", content });
const toolCall = (id: string, name: string, args: string) => ({ id, type: "function", function: { name, arguments: args } });
const WEATHER_TOOL = { type: "function", function: { name: "get_weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };

describe("messages", () => {
  test("system and developer messages become system blocks in order; the rest alternate; defaults filled in", () => {
    expect(
      convert({
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hello" },
          { role: "developer", content: [{ type: "text", text: "Answer in French." }, { type: "text", text: "No emoji." }] },
          { role: "assistant", content: "Bonjour" },
          { role: "user", content: [{ type: "text", text: "Again" }] },
        ],
      }),
    ).toStrictEqual({
      model: MODEL,
      max_tokens: 8192,
      messages: [user(text("Hello")), { role: "assistant", content: [text("Bonjour")] }, user(text("Again"))],
      system: [text("Be brief."), text("Answer in French."), text("No emoji.")],
      stream: false,
    });
  });

  test("system messages amid the turns, and as the last message (Claude Code's environment block), join system in order; the turns still alternate", () => {
    const converted = convert({
      messages: [
        { role: "system", content: [{ type: "text", text: "Top.", cache_control: { type: "ephemeral" } }] },
        { role: "user", content: "First" },
        { role: "system", content: "Mid." },
        { role: "user", content: "Second" },
        { role: "assistant", content: "Reply" },
        { role: "developer", content: "Later." },
        { role: "user", content: "Third" },
        { role: "system", content: [{ type: "text", text: "# Environment" }] },
      ],
    });
    expect(converted.system).toStrictEqual([{ type: "text", text: "Top.", cache_control: { type: "ephemeral" } }, text("Mid."), text("Later."), text("# Environment")]);
    expect(converted.messages).toStrictEqual([user(text("First"), text("Second")), { role: "assistant", content: [text("Reply")] }, user(text("Third"))]);
  });

  test("consecutive same-role messages merge into one turn; empty text and empty assistant messages vanish", () => {
    expect(
      convert({
        messages: [
          { role: "user", content: "One" },
          { role: "user", content: [{ type: "text", text: "" }, { type: "text", text: "Two" }] },
          { role: "assistant", content: "" },
          { role: "user", content: "Three" },
        ],
      }).messages,
    ).toStrictEqual([user(text("One"), text("Two"), text("Three"))]);
  });

  test("cache_control on system and user parts is kept for prompt caching", () => {
    const converted = convert({
      messages: [
        { role: "system", content: [{ type: "text", text: "Long manual", cache_control: { type: "ephemeral" } }] },
        { role: "user", content: [{ type: "text", text: "Question", cache_control: { type: "ephemeral", ttl: "1h" } }] },
      ],
    });
    expect(converted.system).toStrictEqual([{ type: "text", text: "Long manual", cache_control: { type: "ephemeral" } }]);
    expect(converted.messages).toStrictEqual([user({ type: "text", text: "Question", cache_control: { type: "ephemeral", ttl: "1h" } })]);
  });

  test("images: data URLs become base64 sources (PDF as a document), http(s) URLs url sources", () => {
    const parts = [
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      { type: "image_url", image_url: { url: "data:image/jpg;base64,/9j/4AAQ", detail: "high" } },
      { type: "image_url", image_url: "https://example.com/cat.webp" },
      { type: "image_url", image_url: { url: "data:application/pdf;base64,JVBERi0x" } },
      { type: "image_url", image_url: { url: "https://example.com/paper.pdf?download=1" } },
    ];
    expect(convert({ messages: [{ role: "user", content: parts }] }).messages[0].content).toStrictEqual([
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQ" } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.webp" } },
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0x" } },
      { type: "document", source: { type: "url", url: "https://example.com/paper.pdf?download=1" } },
    ]);
  });

  test("file parts: PDFs become documents, plain text a text document, images images", () => {
    const parts = [
      { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0x", filename: "a.pdf" } },
      { type: "file", file: { file_data: "JVBERi0y" } },
      { type: "file", file: { file_data: Buffer.from("plain notes").toString("base64"), filename: "notes.txt" } },
      { type: "file", file: { file_data: "R0lGODlh", filename: "anim.GIF" } },
    ];
    expect(convert({ messages: [{ role: "user", content: parts }] }).messages[0].content).toStrictEqual([
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0x" } },
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0y" } },
      { type: "document", source: { type: "text", media_type: "text/plain", data: "plain notes" } },
      { type: "image", source: { type: "base64", media_type: "image/gif", data: "R0lGODlh" } },
    ]);
  });

  test("input Anthropic cannot take is refused with the OpenAI-style path of the field", () => {
    const cases: [unknown, string][] = [
      [{ type: "input_audio", input_audio: { data: "UklGR", format: "wav" } }, "messages[0].content[0].type"],
      [{ type: "image_url", image_url: { url: "data:image/bmp;base64,Qk0=" } }, "messages[0].content[0].image_url.url"],
      [{ type: "image_url", image_url: { url: "ftp://example.com/a.png" } }, "messages[0].content[0].image_url.url"],
      [{ type: "file", file: { file_id: "file-abc" } }, "messages[0].content[0].file.file_id"],
      [{ type: "video_url", video_url: { url: "https://example.com/v.mp4" } }, "messages[0].content[0].type"],
    ];
    for (const [part, param] of cases) expect(conversionError({ messages: [{ role: "user", content: [part] }] }).param).toBe(param);
    expect(conversionError({ messages: [{ role: "function", content: "x" }] }).param).toBe("messages[0].role");
    expect(conversionError({ messages: [{ role: "system", content: "only a system prompt" }] }).param).toBe("messages");
    expect(conversionError({ messages: [{ role: "system", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }] }).param).toBe(
      "messages[0].content[0].type",
    );
  });
});

describe("tool calls and results", () => {
  test("tool calls become tool_use blocks; consecutive results and a following user message form one user turn, results first", () => {
    const converted = convert({
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "Weather in Paris and Rome?" },
        {
          role: "assistant",
          content: "Checking both.",
          tool_calls: [toolCall("toolu_A", "get_weather", '{"city":"Paris"}'), toolCall("toolu_B", "get_weather", '{"city":"Rome"}')],
        },
        { role: "tool", tool_call_id: "toolu_A", content: "18°C" },
        { role: "tool", tool_call_id: "toolu_B", content: [{ type: "text", text: "upstream timeout" }], is_error: true },
        { role: "user", content: "Thanks" },
      ],
    });
    expect(converted.messages).toStrictEqual([
      user(text("Weather in Paris and Rome?")),
      {
        role: "assistant",
        content: [
          text("Checking both."),
          { type: "tool_use", id: "toolu_A", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_B", name: "get_weather", input: { city: "Rome" } },
        ],
      },
      user(
        { type: "tool_result", tool_use_id: "toolu_A", content: "18°C" },
        { type: "tool_result", tool_use_id: "toolu_B", content: [text("upstream timeout")], is_error: true },
        text("Thanks"),
      ),
    ]);
  });

  test("a user message sent between the call and its result still leaves the result first in the turn", () => {
    const converted = convert({
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: null, tool_calls: [toolCall("toolu_A", "get_weather", "")] },
        { role: "user", content: "In Paris." },
        { role: "tool", tool_call_id: "toolu_A", content: "" },
      ],
    });
    expect(converted.messages).toStrictEqual([
      user(text("Weather?")),
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_A", name: "get_weather", input: {} }] },
      user({ type: "tool_result", tool_use_id: "toolu_A" }, text("In Paris.")),
    ]);
  });

  test("ids from other providers with characters Anthropic refuses are mapped the same way on call and result", () => {
    const converted = convert({
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: null, tool_calls: [toolCall("functions.get_weather:0", "get_weather", "{}")] },
        { role: "tool", tool_call_id: "functions.get_weather:0", content: "sunny" },
      ],
    });
    expect(converted.messages[1].content[0].id).toBe("functions_get_weather_0");
    expect(converted.messages[2].content[0].tool_use_id).toBe("functions_get_weather_0");
  });

  test("a result for no earlier call, and arguments that are not a JSON object, are refused", () => {
    const orphan = conversionError({
      messages: [
        { role: "user", content: "Hi" },
        { role: "tool", tool_call_id: "toolu_missing", content: "x" },
      ],
    });
    expect(orphan.message).toBe('messages[1].tool_call_id "toolu_missing" matches no tool call of an earlier assistant message.');
    expect(orphan.param).toBe("messages[1].tool_call_id");
    const badArguments = (args: string) =>
      conversionError({ messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: null, tool_calls: [toolCall("t1", "f", args)] }] }).param;
    expect(badArguments("{oops")).toBe("messages[1].tool_calls[0].function.arguments");
    expect(badArguments("[1,2]")).toBe("messages[1].tool_calls[0].function.arguments");
  });
});

describe("tools and tool_choice", () => {
  test("function tools become Anthropic tools; no parameters is an empty object schema; strict is dropped", () => {
    const converted = convert({
      tools: [WEATHER_TOOL, { type: "function", function: { name: "now", strict: true } }],
    });
    expect(converted.tools).toStrictEqual([
      { name: "get_weather", description: "Weather by city", input_schema: WEATHER_TOOL.function.parameters },
      { name: "now", input_schema: { type: "object", properties: {} } },
    ]);
    expect(converted.tool_choice).toBeUndefined();
    expect(conversionError({ tools: [{ type: "web_search" }] }).param).toBe("tools[0].type");
  });

  test.each([
    ["auto", "auto", { type: "auto" }],
    ["required", "required", { type: "any" }],
    ["none", "none", { type: "none" }],
    ["a named function", { type: "function", function: { name: "get_weather" } }, { type: "tool", name: "get_weather" }],
  ])("tool_choice %s", (_label, choice, expected) => {
    expect(convert({ tools: [WEATHER_TOOL], tool_choice: choice }).tool_choice).toStrictEqual(expected);
  });

  test("parallel_tool_calls: false disables parallel use on the choice, or on an auto choice when none was given", () => {
    expect(convert({ tools: [WEATHER_TOOL], tool_choice: "required", parallel_tool_calls: false }).tool_choice).toStrictEqual({ type: "any", disable_parallel_tool_use: true });
    expect(convert({ tools: [WEATHER_TOOL], parallel_tool_calls: false }).tool_choice).toStrictEqual({ type: "auto", disable_parallel_tool_use: true });
    expect(convert({ tools: [WEATHER_TOOL], tool_choice: "none", parallel_tool_calls: false }).tool_choice).toStrictEqual({ type: "none" });
  });

  test("without tools a tool_choice means nothing and is left out; an unknown one is refused", () => {
    expect(convert({ tool_choice: "auto" }).tool_choice).toBeUndefined();
    expect(conversionError({ tools: [WEATHER_TOOL], tool_choice: "sometimes" }).param).toBe("tool_choice");
  });
});

describe("parameters", () => {
  test("max_tokens: max_completion_tokens wins, then max_tokens, then 8192 (4096 on Claude 3)", () => {
    expect(convert({ max_completion_tokens: 300, max_tokens: 500 }).max_tokens).toBe(300);
    expect(convert({ max_tokens: 500 }).max_tokens).toBe(500);
    expect(convert({}).max_tokens).toBe(8192);
    expect(convert({}, createThinkingMemory(), "claude-3-haiku-20240307").max_tokens).toBe(4096);
    expect(convert({}, createThinkingMemory(), "claude-3-5-haiku-20241022").max_tokens).toBe(8192);
  });

  test("temperature is clamped to 0–1; top_p only goes without temperature; top_k passes", () => {
    expect(convert({ temperature: 1.6, top_p: 0.9, top_k: 40 })).toMatchObject({ temperature: 1, top_k: 40 });
    expect(convert({ temperature: 1.6, top_p: 0.9 }).top_p).toBeUndefined();
    expect(convert({ temperature: -0.5 }).temperature).toBe(0);
    expect(convert({ top_p: 0.9 }).top_p).toBe(0.9);
  });

  test("stop → stop_sequences without blank ones; user → metadata.user_id; stream follows the body", () => {
    expect(convert({ stop: "END" }).stop_sequences).toStrictEqual(["END"]);
    expect(convert({ stop: ["###", " ", ""] }).stop_sequences).toStrictEqual(["###"]);
    expect(convert({ stop: [""] }).stop_sequences).toBeUndefined();
    expect(convert({ user: "user-42" }).metadata).toStrictEqual({ user_id: "user-42" });
    expect(convert({ stream: true }).stream).toBe(true);
  });

  test("fields Anthropic has no use for are dropped; n > 1 is refused", () => {
    const converted = convert({
      n: 1,
      logprobs: true,
      top_logprobs: 3,
      logit_bias: { "50256": -100 },
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: 0.5,
      store: true,
      service_tier: "default",
      stream_options: { include_usage: true },
    });
    expect(converted).toStrictEqual({ model: MODEL, max_tokens: 8192, messages: [user(text("hi"))], stream: false });
    const error = conversionError({ n: 2 });
    expect([error.message, error.param]).toEqual(["Anthropic gives one answer per request; n must be 1.", "n"]);
  });

  test("response_format json_schema → output_config.format", () => {
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false };
    const converted = convert({ response_format: { type: "json_schema", json_schema: { name: "reply", strict: true, schema } } });
    expect(converted.output_config).toStrictEqual({ format: { type: "json_schema", schema } });
    expect(converted.system).toBeUndefined();
  });

  test("response_format json_object (or json_schema without a schema) → a closing system note", () => {
    const note = text("Respond with a single valid JSON object and nothing else: no text before or after it, no Markdown code fence.");
    expect(convert({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }], response_format: { type: "json_object" } }).system).toStrictEqual([
      text("Be brief."),
      note,
    ]);
    expect(convert({ response_format: { type: "json_schema", json_schema: { name: "x" } } }).system).toStrictEqual([note]);
    expect(convert({ response_format: { type: "text" } }).system).toBeUndefined();
    expect(conversionError({ response_format: { type: "yaml" } }).param).toBe("response_format.type");
  });
});

describe("thinking", () => {
  test.each([
    ["minimal", 1024, 8192],
    ["low", 2048, 8192],
    ["medium", 8192, 8192 + 4096],
    ["high", 16384, 16384 + 4096],
  ])("reasoning_effort %s → budget %d, max_tokens %d; sampling is dropped", (effort, budget, maxTokens) => {
    const converted = convert({ reasoning_effort: effort, temperature: 0.2, top_p: 0.5, top_k: 10 });
    expect(converted).toStrictEqual({
      model: MODEL,
      max_tokens: maxTokens,
      messages: [user(text("hi"))],
      thinking: { type: "enabled", budget_tokens: budget },
      stream: false,
    });
  });

  test("a max_tokens above the budget is kept; one at or below it is raised to budget + 4096", () => {
    expect(convert({ reasoning_effort: "high", max_tokens: 30000 }).max_tokens).toBe(30000);
    expect(convert({ reasoning_effort: "low", max_completion_tokens: 2048 }).max_tokens).toBe(2048 + 4096);
  });

  test("reasoning_effort none (or the original's disable) asks for no thinking; an unknown effort is refused", () => {
    expect(convert({ reasoning_effort: "none", temperature: 0.3 })).toMatchObject({ temperature: 0.3 });
    expect(convert({ reasoning_effort: "disable" }).thinking).toBeUndefined();
    expect(conversionError({ reasoning_effort: "extreme" }).param).toBe("reasoning_effort");
  });

  test("an Anthropic-shaped thinking object passes through and wins over reasoning_effort", () => {
    const converted = convert({ thinking: { type: "enabled", budget_tokens: 3000 }, reasoning_effort: "high", max_tokens: 2000 });
    expect(converted.thinking).toStrictEqual({ type: "enabled", budget_tokens: 3000 });
    expect(converted.max_tokens).toBe(3000 + 4096);
    expect(convert({ thinking: { type: "disabled" }, temperature: 0.5 })).toMatchObject({ thinking: { type: "disabled" }, temperature: 0.5 });
    expect(conversionError({ thinking: "on" }).param).toBe("thinking");
  });

  test("a tool choice that forces a tool turns budgeted thinking off (Anthropic refuses the two together)", () => {
    const converted = convert({ tools: [WEATHER_TOOL], tool_choice: "required", reasoning_effort: "medium", temperature: 0.4 });
    expect(converted.thinking).toBeUndefined();
    expect(converted.temperature).toBe(0.4);
    expect(converted.max_tokens).toBe(8192);
  });

  test("remembered thinking goes first in the assistant turn that made the calls, once for parallel calls", () => {
    const memory = createThinkingMemory();
    const blocks = [
      { type: "thinking" as const, thinking: "Two cities.", signature: "EqQBsig==" },
      { type: "redacted_thinking" as const, data: "ENCRYPTED" },
    ];
    memory.remember("toolu_A", blocks);
    memory.remember("toolu_B", blocks);
    const converted = convert(
      {
        reasoning_effort: "low",
        tools: [WEATHER_TOOL],
        messages: [
          { role: "user", content: "Paris and Rome?" },
          { role: "assistant", content: null, reasoning_content: "Two cities.", tool_calls: [toolCall("toolu_A", "get_weather", '{"city":"Paris"}'), toolCall("toolu_B", "get_weather", '{"city":"Rome"}')] },
          { role: "tool", tool_call_id: "toolu_A", content: "18°C" },
          { role: "tool", tool_call_id: "toolu_B", content: "21°C" },
        ],
      },
      memory,
    );
    expect(converted.thinking).toStrictEqual({ type: "enabled", budget_tokens: 2048 });
    expect(converted.messages[1].content).toStrictEqual([
      ...blocks,
      { type: "tool_use", id: "toolu_A", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "toolu_B", name: "get_weather", input: { city: "Rome" } },
    ]);
  });

  test("a client's own reasoning_content with reasoning_signature or thinking_signature becomes the thinking block", () => {
    const messages = (signatureField: string) => [
      { role: "user", content: "Weather?" },
      { role: "assistant", content: "Checking.", reasoning_content: "Need the tool.", [signatureField]: "EqQBclient==", tool_calls: [toolCall("call_1", "get_weather", '{"city":"Oslo"}')] },
      { role: "tool", tool_call_id: "call_1", content: "-3°C" },
    ];
    for (const field of ["reasoning_signature", "thinking_signature"]) {
      const converted = convert({ reasoning_effort: "low", tools: [WEATHER_TOOL], messages: messages(field) });
      expect(converted.thinking).toStrictEqual({ type: "enabled", budget_tokens: 2048 });
      expect(converted.messages[1].content).toStrictEqual([
        { type: "thinking", thinking: "Need the tool.", signature: "EqQBclient==" },
        text("Checking."),
        { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Oslo" } },
      ]);
    }
  });

  test("thinking is turned off when the turn in progress opens with a tool call whose thinking is lost", () => {
    const converted = convert({
      reasoning_effort: "medium",
      temperature: 0.7,
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: null, reasoning_content: "Unsigned reasoning.", tool_calls: [toolCall("toolu_forgotten", "get_weather", '{"city":"Oslo"}')] },
        { role: "tool", tool_call_id: "toolu_forgotten", content: "-3°C" },
      ],
    });
    expect(converted.thinking).toBeUndefined();
    expect(converted.temperature).toBe(0.7);
    expect(converted.max_tokens).toBe(8192);
    expect(converted.messages[1].content).toStrictEqual([{ type: "tool_use", id: "toolu_forgotten", name: "get_weather", input: { city: "Oslo" } }]);
  });

  test("a final assistant prefill without thinking also turns thinking off", () => {
    const converted = convert({ reasoning_effort: "low", messages: [{ role: "user", content: "List three." }, { role: "assistant", content: "1." }] });
    expect(converted.thinking).toBeUndefined();
  });

  test("finished tool loops of earlier turns need no thinking: a new user message starts a new turn", () => {
    const converted = convert({
      reasoning_effort: "low",
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: null, tool_calls: [toolCall("toolu_old", "get_weather", '{"city":"Oslo"}')] },
        { role: "tool", tool_call_id: "toolu_old", content: "-3°C" },
        { role: "assistant", content: "It is -3°C." },
        { role: "user", content: "And tomorrow?" },
      ],
    });
    expect(converted.thinking).toStrictEqual({ type: "enabled", budget_tokens: 2048 });
  });

  test("without thinking on, no thinking blocks are sent, remembered or not", () => {
    const memory = createThinkingMemory();
    memory.remember("toolu_A", [{ type: "thinking", thinking: "x", signature: "sig" }]);
    const converted = convert(
      {
        tools: [WEATHER_TOOL],
        messages: [
          { role: "user", content: "Weather?" },
          { role: "assistant", content: null, reasoning_signature: "sig2", reasoning_content: "y", tool_calls: [toolCall("toolu_A", "get_weather", "{}")] },
          { role: "tool", tool_call_id: "toolu_A", content: "sunny" },
        ],
      },
      memory,
    );
    expect(converted.messages[1].content).toStrictEqual([{ type: "tool_use", id: "toolu_A", name: "get_weather", input: {} }]);
  });
});

describe("two-turn round trip", () => {
  /**
   * Turn 1 as Anthropic streams it: the recorded thinking block (with its recorded signature) of
   * stream-thinking, followed by the recorded tool_use block of stream-tool-use as block 1.
   */
  function thinkingThenToolUse(): AnthropicStreamEvent[] {
    const parse = (name: string) => readSseFixture(`anthropic/${name}`).map((event) => ({ event: event.event, data: JSON.parse(event.data) }));
    const thinking = parse("stream-thinking.sse.txt").filter((event) => event.data.type === "message_start" || event.data.index === 0);
    const toolUse = parse("stream-tool-use.sse.txt")
      .filter((event) => event.data.index === 0 || event.data.type === "message_delta" || event.data.type === "message_stop")
      .map((event) => (event.data.index === 0 ? { ...event, data: { ...event.data, index: 1 } } : event));
    return [...thinking, ...toolUse];
  }

  test("stream thinking + tool use → OpenAI tool call id → the follow-up carries the thinking block with the recorded signature", () => {
    const memory = createThinkingMemory();
    const events = thinkingThenToolUse();
    const recordedSignature = events.map((event) => (event.data as any).delta).find((delta) => delta?.type === "signature_delta").signature;
    expect(recordedSignature.startsWith("EvMCCkYICxgCKkCHP2cSuEdcJK")).toBe(true);

    // Turn 1: what the OpenAI client receives and assembles.
    const converter = createAnthropicStreamConverter({ id: "chatcmpl-1", model: MODEL, created: 1 }, memory);
    const chunks = [...events.flatMap((event) => converter.push(event)), ...converter.finish()].map((payload) => JSON.parse(payload));
    const deltas = chunks.map((payload) => payload.choices[0]?.delta ?? {});
    const reasoning = deltas.map((delta) => delta.reasoning_content ?? "").join("");
    const callStart = deltas.find((delta) => delta.tool_calls?.[0]?.id !== undefined).tool_calls[0];
    const args = deltas.flatMap((delta) => delta.tool_calls ?? []).map((call: any) => call.function.arguments).join("");
    expect(callStart).toEqual({ index: 0, id: "toolu_01CzN6riCPqw4pVSuTd9Dwn7", type: "function", function: { name: "pelican_name_generator", arguments: "" } });
    expect(chunks.at(-2).choices[0].finish_reason).toBe("tool_calls");

    // Turn 2: the client sends the call back (without any signature, as OpenAI clients do) with its result.
    const followUp: any = convertToAnthropicRequest(
      request({
        reasoning_effort: "low",
        tools: [{ type: "function", function: { name: "pelican_name_generator" } }],
        messages: [
          { role: "user", content: "Name a pelican." },
          { role: "assistant", content: null, reasoning_content: reasoning, tool_calls: [{ id: callStart.id, type: "function", function: { name: "pelican_name_generator", arguments: args } }] },
          { role: "tool", tool_call_id: callStart.id, content: "Percival" },
        ],
      }),
      MODEL,
      memory,
    );
    expect(followUp.thinking).toStrictEqual({ type: "enabled", budget_tokens: 2048 });
    expect(followUp.messages).toStrictEqual([
      user(text("Name a pelican.")),
      {
        role: "assistant",
        content: [
          {
            type: "thinking",
            thinking:
              "This is a straightforward question about pedestrian safety. I should provide clear, helpful advice about how to safely cross a street. This is basic safety information that could help prevent accidents.",
            signature: recordedSignature,
          },
          { type: "tool_use", id: "toolu_01CzN6riCPqw4pVSuTd9Dwn7", name: "pelican_name_generator", input: {} },
        ],
      },
      user({ type: "tool_result", tool_use_id: "toolu_01CzN6riCPqw4pVSuTd9Dwn7", content: "Percival" }),
    ]);
  });
});
