/** OpenAI Chat Completions body → Bedrock Converse body. */

import { describe, expect, test } from "bun:test";
import type { ChatRequest } from "../../../src/formats/openai-requests.ts";
import { UnsupportedRequestError } from "../../../src/providers/adapter.ts";
import { createThinkingMemory, type ThinkingMemory } from "../../../src/providers/anthropic/thinking-memory.ts";
import { convertConverseResponse } from "../../../src/providers/bedrock/convert-converse-response.ts";
import { converseToolUseId, convertToConverseRequest, isAnthropicModel } from "../../../src/providers/bedrock/convert-to-converse-request.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

const NOVA = "us.amazon.nova-micro-v1:0";
const CLAUDE = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const PNG = "iVBORw0KGgo=";

function request(fields: Record<string, unknown>): ChatRequest {
  return { model: `bedrock/${NOVA}`, messages: [{ role: "user", content: "hi" }], ...fields } as ChatRequest;
}

function convert(fields: Record<string, unknown>, model = NOVA, memory?: ThinkingMemory): any {
  return convertToConverseRequest(request(fields), model, { memory });
}

/** The error the conversion throws, for asserting its message and param. */
function conversionError(fields: Record<string, unknown>, model = NOVA): UnsupportedRequestError {
  try {
    convert(fields, model);
  } catch (error) {
    if (error instanceof UnsupportedRequestError) return error;
    throw error;
  }
  throw new Error("expected an UnsupportedRequestError");
}

const user = (...content: unknown[]) => ({ role: "user", content });
const assistant = (...content: unknown[]) => ({ role: "assistant", content });
const toolCall = (id: string, name: string, args: string) => ({ id, type: "function", function: { name, arguments: args } });
const WEATHER_TOOL = { type: "function", function: { name: "get_weather", description: "Weather by city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };
const WEATHER_SPEC = { toolSpec: { name: "get_weather", description: "Weather by city", inputSchema: { json: WEATHER_TOOL.function.parameters } } };
const TOOL_LOOP = [
  { role: "user", content: "Weather in Paris?" },
  { role: "assistant", content: null, tool_calls: [toolCall("call_1", "get_weather", '{"city":"Paris"}')] },
  { role: "tool", tool_call_id: "call_1", content: "18°C" },
];

describe("messages", () => {
  test("system and developer messages become system blocks in order; the rest alternate; nothing else is set", () => {
    expect(
      convert({
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Hello" },
          { role: "developer", content: [{ type: "text", text: "Answer in French." }] },
          { role: "assistant", content: "Bonjour" },
          { role: "user", content: [{ type: "text", text: "Again" }] },
        ],
      }),
    ).toStrictEqual({
      messages: [user({ text: "Hello" }), assistant({ text: "Bonjour" }), user({ text: "Again" })],
      system: [{ text: "Be brief." }, { text: "Answer in French." }],
    });
  });

  test("consecutive messages of one role merge into one turn; empty texts are left out", () => {
    expect(
      convert({
        messages: [
          { role: "user", content: "one" },
          { role: "user", content: "" },
          { role: "user", content: [{ type: "text", text: "two" }] },
          { role: "assistant", content: "three" },
          { role: "assistant", content: [{ type: "refusal", refusal: "four" }] },
        ],
      }).messages,
    ).toEqual([user({ text: "one" }, { text: "two" }), assistant({ text: "three" }, { text: "four" })]);
  });

  test("only a system prompt: refused, Converse needs a message", () => {
    expect(conversionError({ messages: [{ role: "system", content: "x" }] }).param).toBe("messages");
  });

  test("an unknown role is refused, naming it", () => {
    expect(conversionError({ messages: [{ role: "narrator", content: "x" }] }).param).toBe("messages[0].role");
  });

  test("cache_control on a part becomes a cache point after its block, in system and user content", () => {
    const converted = convert({
      messages: [
        { role: "system", content: [{ type: "text", text: "Long rules", cache_control: { type: "ephemeral" } }] },
        { role: "user", content: [{ type: "text", text: "Long document", cache_control: { type: "ephemeral" } }, { type: "text", text: "Question" }] },
      ],
    });
    expect(converted.system).toEqual([{ text: "Long rules" }, { cachePoint: { type: "default" } }]);
    expect(converted.messages).toEqual([user({ text: "Long document" }, { cachePoint: { type: "default" } }, { text: "Question" })]);
  });
});

describe("images and files", () => {
  test("data URL images become image blocks by format (image/jpg read as jpeg)", () => {
    const converted = convert({
      messages: [
        user(
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: "image_url", image_url: "data:image/jpg;base64,AAAA" },
          { type: "image_url", image_url: { url: "data:image/webp;base64,BBBB" } },
        ),
      ],
    });
    expect(converted.messages[0].content).toEqual([
      { image: { format: "png", source: { bytes: PNG } } },
      { image: { format: "jpeg", source: { bytes: "AAAA" } } },
      { image: { format: "webp", source: { bytes: "BBBB" } } },
    ]);
  });

  test("an http(s) image URL is refused with the param: Bedrock fetches nothing", () => {
    const error = conversionError({ messages: [user({ type: "image_url", image_url: { url: "https://example.com/cat.png" } })] });
    expect(error.param).toBe("messages[0].content[0].image_url.url");
    expect(error.message).toContain("base64 data URL");
  });

  test("an image type Bedrock does not take is refused", () => {
    expect(conversionError({ messages: [user({ type: "image_url", image_url: { url: "data:image/tiff;base64,AAAA" } })] }).message).toContain("image/tiff");
  });

  test("files become document blocks named after the file (tidied, numbered when repeated), or image blocks", () => {
    const converted = convert({
      messages: [
        user(
          { type: "file", file: { filename: "report_2024.final.pdf", file_data: "data:application/pdf;base64,JVBERi0=" } },
          { type: "file", file: { filename: "report_2024.final.pdf", file_data: "JVBERi0=" } },
          { type: "file", file: { filename: "notes.md", file_data: "IyBIaQ==" } },
          { type: "file", file: { file_data: "JVBERi0=" } },
          { type: "file", file: { filename: "photo.png", file_data: PNG } },
        ),
      ],
    });
    expect(converted.messages[0].content).toEqual([
      { document: { format: "pdf", name: "report 2024 final", source: { bytes: "JVBERi0=" } } },
      { document: { format: "pdf", name: "report 2024 final (2)", source: { bytes: "JVBERi0=" } } },
      { document: { format: "md", name: "notes", source: { bytes: "IyBIaQ==" } } },
      { document: { format: "pdf", name: "document", source: { bytes: "JVBERi0=" } } },
      { image: { format: "png", source: { bytes: PNG } } },
    ]);
  });

  test("an OpenAI file id and audio are refused", () => {
    expect(conversionError({ messages: [user({ type: "file", file: { file_id: "file-abc" } })] }).param).toBe("messages[0].content[0].file.file_id");
    expect(conversionError({ messages: [user({ type: "input_audio", input_audio: { data: "AAAA", format: "wav" } })] }).param).toBe("messages[0].content[0].type");
  });
});

describe("tools", () => {
  test("tools become tool specs; a call becomes toolUse with parsed input; results join one user turn ahead of the user's text", () => {
    const converted = convert({
      tools: [WEATHER_TOOL, { type: "function", function: { name: "now" } }],
      messages: [
        { role: "user", content: "Weather in Paris and the time?" },
        { role: "assistant", content: "Looking.", tool_calls: [toolCall("call_1", "get_weather", '{"city":"Paris"}'), toolCall("call_2", "now", "")] },
        { role: "tool", tool_call_id: "call_1", content: "18°C" },
        { role: "tool", tool_call_id: "call_2", content: [{ type: "text", text: "09:00" }] },
        { role: "user", content: "Thanks" },
      ],
    });
    expect(converted.toolConfig).toEqual({ tools: [WEATHER_SPEC, { toolSpec: { name: "now", inputSchema: { json: { type: "object", properties: {} } } } }] });
    expect(converted.messages).toEqual([
      user({ text: "Weather in Paris and the time?" }),
      assistant({ text: "Looking." }, { toolUse: { toolUseId: "call_1", name: "get_weather", input: { city: "Paris" } } }, { toolUse: { toolUseId: "call_2", name: "now", input: {} } }),
      user({ toolResult: { toolUseId: "call_1", content: [{ text: "18°C" }] } }, { toolResult: { toolUseId: "call_2", content: [{ text: "09:00" }] } }, { text: "Thanks" }),
    ]);
  });

  test("a tool result may carry an image; is_error becomes status error; an empty result says so, as Converse refuses none", () => {
    const converted = convert({
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "Go" },
        { role: "assistant", tool_calls: [toolCall("call_1", "get_weather", "{}"), toolCall("call_2", "get_weather", "{}")] },
        { role: "tool", tool_call_id: "call_1", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } }] },
        { role: "tool", tool_call_id: "call_2", content: "", is_error: true },
      ],
    });
    expect(converted.messages[2].content).toEqual([
      { toolResult: { toolUseId: "call_1", content: [{ image: { format: "png", source: { bytes: PNG } } }] } },
      { toolResult: { toolUseId: "call_2", content: [{ text: "(no output)" }], status: "error" } },
    ]);
  });

  test.each([
    ["auto", { auto: {} }],
    ["required", { any: {} }],
    [{ type: "function", function: { name: "get_weather" } }, { tool: { name: "get_weather" } }],
  ])("tool_choice %j → %j", (choice, expected) => {
    expect(convert({ tools: [WEATHER_TOOL], tool_choice: choice }).toolConfig).toEqual({ tools: [WEATHER_SPEC], toolChoice: expected });
  });

  test('tool_choice "none" leaves the tools out', () => {
    expect(convert({ tools: [WEATHER_TOOL], tool_choice: "none" })).not.toHaveProperty("toolConfig");
  });

  test("tool blocks in the history without tools to send: the tools it called are declared by name, as Converse requires a toolConfig", () => {
    const stub = { tools: [{ toolSpec: { name: "get_weather", inputSchema: { json: { type: "object", properties: {} } } } }] };
    expect(convert({ messages: TOOL_LOOP }).toolConfig).toEqual(stub);
    expect(convert({ messages: TOOL_LOOP, tools: [WEATHER_TOOL], tool_choice: "none" }).toolConfig).toEqual(stub);
  });

  test("ids Converse would refuse are rewritten the same way on the call and on its result", () => {
    const gemini = `call_abcdefghijklmnop_ts_${"x".repeat(300)}`;
    const converted = convert({
      messages: [
        { role: "user", content: "Go" },
        { role: "assistant", tool_calls: [toolCall("fc.1:a", "get_weather", "{}"), toolCall(gemini, "get_weather", "{}")] },
        { role: "tool", tool_call_id: "fc.1:a", content: "a" },
        { role: "tool", tool_call_id: gemini, content: "b" },
      ],
    });
    const [first, second] = converted.messages[1].content.map((block: any) => block.toolUse.toolUseId);
    expect(first).toBe("fc_1_a");
    expect(second).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(converted.messages[2].content.map((block: any) => block.toolResult.toolUseId)).toEqual([first, second]);
    expect(converseToolUseId(gemini)).toBe(second);
    expect(converseToolUseId(`${gemini}y`)).not.toBe(second);
  });

  test("invalid tool arguments, a result answering no call and non-function tools are refused with their param", () => {
    expect(conversionError({ messages: [{ role: "user", content: "x" }, { role: "assistant", tool_calls: [toolCall("c", "f", "{oops")] }] }).param).toBe("messages[1].tool_calls[0].function.arguments");
    expect(conversionError({ messages: [{ role: "user", content: "x" }, { role: "tool", tool_call_id: "ghost", content: "y" }] }).param).toBe("messages[1].tool_call_id");
    expect(conversionError({ tools: [{ type: "web_search" }] }).param).toBe("tools[0].type");
    expect(conversionError({ tools: [WEATHER_TOOL], tool_choice: "sometimes" }).param).toBe("tool_choice");
  });
});

describe("inference config", () => {
  test("max_completion_tokens wins over max_tokens; temperature is clamped to 0–1; stop sequences keep only non-blank ones", () => {
    expect(convert({ max_tokens: 100, max_completion_tokens: 200, temperature: 1.6, top_p: 0.9, stop: ["END", " ", ""] }).inferenceConfig).toEqual({
      maxTokens: 200,
      temperature: 1,
      topP: 0.9,
      stopSequences: ["END"],
    });
    expect(convert({ max_tokens: 50, stop: "###" }).inferenceConfig).toEqual({ maxTokens: 50, stopSequences: ["###"] });
  });

  test("on Claude, top_p is dropped beside temperature, and top_k goes to the additional fields", () => {
    const converted = convert({ temperature: 0.3, top_p: 0.9, top_k: 40 }, CLAUDE);
    expect(converted.inferenceConfig).toEqual({ temperature: 0.3 });
    expect(converted.additionalModelRequestFields).toEqual({ top_k: 40 });
    expect(convert({ top_p: 0.9, top_k: 40 }).inferenceConfig).toEqual({ topP: 0.9 });
    expect(convert({ top_k: 40 })).not.toHaveProperty("additionalModelRequestFields");
  });

  test("n > 1 is refused", () => {
    expect(conversionError({ n: 2 }).param).toBe("n");
  });

  test("response_format json_object and json_schema become a closing system note", () => {
    expect(convert({ response_format: { type: "json_object" } }).system).toEqual([{ text: expect.stringContaining("single valid JSON object") }]);
    const schema = { type: "object", properties: { answer: { type: "string" } } };
    const [note] = convert({ messages: [{ role: "system", content: "S" }, { role: "user", content: "q" }], response_format: { type: "json_schema", json_schema: { name: "a", schema } } }).system.slice(1);
    expect(note.text).toContain(JSON.stringify(schema));
    expect(convert({ response_format: { type: "text" } })).not.toHaveProperty("system");
  });
});

describe("reasoning", () => {
  test("model ids: base ids, inference profiles and ARNs of Claude are Claude", () => {
    expect(isAnthropicModel("anthropic.claude-3-7-sonnet-20250219-v1:0")).toBe(true);
    expect(isAnthropicModel(CLAUDE)).toBe(true);
    expect(isAnthropicModel("arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0")).toBe(true);
    expect(isAnthropicModel(NOVA)).toBe(false);
    expect(isAnthropicModel("meta.llama3-70b-instruct-v1:0")).toBe(false);
  });

  test.each([
    ["minimal", 1024],
    ["low", 2048],
    ["medium", 8192],
    ["high", 16384],
  ])("reasoning_effort %s on Claude → thinking budget %d, max tokens raised above it, sampling dropped", (effort, budget) => {
    const converted = convert({ reasoning_effort: effort, temperature: 0.2, top_p: 0.5 }, CLAUDE);
    expect(converted.additionalModelRequestFields).toEqual({ thinking: { type: "enabled", budget_tokens: budget } });
    expect(converted.inferenceConfig).toEqual({ maxTokens: budget + 4096 });
  });

  test("a max_tokens above the budget is kept; none asks for no thinking; other models get no thinking field", () => {
    expect(convert({ reasoning_effort: "low", max_tokens: 10000 }, CLAUDE).inferenceConfig).toEqual({ maxTokens: 10000 });
    expect(convert({ reasoning_effort: "none" }, CLAUDE)).not.toHaveProperty("additionalModelRequestFields");
    expect(convert({ reasoning_effort: "high" })).not.toHaveProperty("additionalModelRequestFields");
    expect(conversionError({ reasoning_effort: "extreme" }, CLAUDE).param).toBe("reasoning_effort");
  });

  test("an Anthropic-shaped thinking object passes through and wins", () => {
    expect(convert({ thinking: { type: "enabled", budget_tokens: 3000 }, reasoning_effort: "high" }, CLAUDE).additionalModelRequestFields).toEqual({ thinking: { type: "enabled", budget_tokens: 3000 } });
  });

  test("a forced tool turns thinking off, as Claude refuses the two together", () => {
    expect(convert({ reasoning_effort: "high", tools: [WEATHER_TOOL], tool_choice: "required" }, CLAUDE)).not.toHaveProperty("additionalModelRequestFields");
    expect(convert({ reasoning_effort: "high", tools: [WEATHER_TOOL], tool_choice: "auto" }, CLAUDE).additionalModelRequestFields.thinking.type).toBe("enabled");
  });

  test("a tool loop whose call lost its reasoning turns thinking off rather than earning a 400", () => {
    expect(convert({ reasoning_effort: "high", tools: [WEATHER_TOOL], messages: TOOL_LOOP }, CLAUDE)).not.toHaveProperty("additionalModelRequestFields");
  });

  test("the reasoning of an answer comes back from the memory ahead of its tool call, and thinking stays on", () => {
    const memory = createThinkingMemory();
    const answer = readFixtureJson("bedrock/converse-tool-use.json");
    answer.output.message.content.unshift({ reasoningContent: { reasoningText: { text: "I should call the tool.", signature: "sig-abc" } } });
    const reply = (convertConverseResponse(answer, { id: "x", model: "m", created: 0 }, memory) as any).choices[0].message;
    const converted = convert({ reasoning_effort: "low", tools: [WEATHER_TOOL], messages: [{ role: "user", content: "Explain tracing" }, { role: "assistant", content: reply.content, tool_calls: reply.tool_calls }, { role: "tool", tool_call_id: reply.tool_calls[0].id, content: "An explanation" }] }, CLAUDE, memory);
    expect(converted.additionalModelRequestFields.thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
    expect(converted.messages[1].content[0]).toEqual({ reasoningContent: { reasoningText: { text: "I should call the tool.", signature: "sig-abc" } } });
    expect(converted.messages[1].content[2]).toEqual({ toolUse: { toolUseId: "tooluse_iPA5tRLlQ5qSvfeYGeQVPg", name: "fetch_concept", input: { concept: "distributed tracing" } } });
  });

  test("without the memory, the client's reasoning_content and reasoning_signature do the same; redacted blocks come back as they were", () => {
    const messages = [TOOL_LOOP[0], { ...TOOL_LOOP[1], reasoning_content: "Think.", reasoning_signature: "sig-client" }, TOOL_LOOP[2]];
    expect(convert({ reasoning_effort: "low", tools: [WEATHER_TOOL], messages }, CLAUDE).messages[1].content[0]).toEqual({ reasoningContent: { reasoningText: { text: "Think.", signature: "sig-client" } } });
    const memory = createThinkingMemory();
    memory.remember("call_1", [{ type: "redacted_thinking", data: "b3BhcXVl" }]);
    expect(convert({ reasoning_effort: "low", tools: [WEATHER_TOOL], messages: TOOL_LOOP }, CLAUDE, memory).messages[1].content[0]).toEqual({ reasoningContent: { redactedContent: "b3BhcXVl" } });
  });

  test("without thinking on, reasoning is not sent back", () => {
    const messages = [TOOL_LOOP[0], { ...TOOL_LOOP[1], reasoning_content: "Think.", reasoning_signature: "sig-client" }, TOOL_LOOP[2]];
    expect(convert({ tools: [WEATHER_TOOL], messages }, CLAUDE).messages[1].content).toEqual([{ toolUse: { toolUseId: "call_1", name: "get_weather", input: { city: "Paris" } } }]);
  });
});
