/** OpenAI Chat Completions body → Gemini `generateContent` body. */

import { describe, expect, test } from "bun:test";
import type { ChatRequest } from "../../../src/formats/openai-requests.ts";
import { convertToGeminiRequest } from "../../../src/providers/gemini/convert-to-gemini-request.ts";
import type { GeminiPart, GeminiResponse } from "../../../src/providers/gemini/gemini-types.ts";
import { encodeToolCallId } from "../../../src/providers/gemini/tool-call-id.ts";
import { readFixtureJson, readSseJson } from "../../support/fixtures.ts";
import { UnsupportedRequestError } from "../../../src/providers/adapter.ts";

/** A model with no default thinking, so outputs hold only what the test is about. */
const PLAIN_MODEL = "gemini-2.0-flash";

function request(fields: Record<string, unknown>): ChatRequest {
  return { model: "gemini/any", messages: [{ role: "user", content: "hi" }], ...fields } as ChatRequest;
}

function convert(fields: Record<string, unknown>, model = PLAIN_MODEL) {
  return convertToGeminiRequest(request(fields), model);
}

/** The error the conversion throws, for asserting its message and param. */
function conversionError(fields: Record<string, unknown>, model = PLAIN_MODEL): UnsupportedRequestError {
  try {
    convert(fields, model);
  } catch (error) {
    if (error instanceof UnsupportedRequestError) return error;
    throw error;
  }
  throw new Error("expected an UnsupportedRequestError");
}

/** The functionCall parts (with signatures) of a recorded Gemini answer, as the client saw them: OpenAI tool calls. */
function toolCallsFrom(parts: GeminiPart[]) {
  return parts
    .filter((part) => part.functionCall !== undefined)
    .map((part) => ({
      id: encodeToolCallId(part.thoughtSignature),
      type: "function",
      function: { name: part.functionCall!.name, arguments: JSON.stringify(part.functionCall!.args ?? {}) },
    }));
}

describe("messages", () => {
  test("system and developer messages all go to systemInstruction in order; user/assistant become user/model", () => {
    const converted = convert({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello" },
        { role: "developer", content: [{ type: "text", text: "Answer in French." }, { type: "text", text: "No emoji." }] },
        { role: "assistant", content: "Bonjour" },
        { role: "user", content: [{ type: "text", text: "Again" }] },
      ],
    });
    expect(converted).toStrictEqual({
      contents: [
        { role: "user", parts: [{ text: "Hello" }] },
        { role: "model", parts: [{ text: "Bonjour" }] },
        { role: "user", parts: [{ text: "Again" }] },
      ],
      systemInstruction: { parts: [{ text: "Be brief." }, { text: "Answer in French." }, { text: "No emoji." }] },
    });
  });

  test("consecutive same-role messages merge, because Gemini requires alternation; empty ones vanish", () => {
    const converted = convert({
      messages: [
        { role: "user", content: "one" },
        { role: "user", content: [{ type: "text", text: "two" }, { type: "text", text: "" }] },
        { role: "assistant", content: "" },
        { role: "user", content: "three" },
        { role: "assistant", content: "a" },
        { role: "assistant", content: [{ type: "text", text: "b" }, { type: "refusal", refusal: "I can't." }] },
      ],
    });
    expect(converted.contents).toStrictEqual([
      { role: "user", parts: [{ text: "one" }, { text: "two" }, { text: "three" }] },
      { role: "model", parts: [{ text: "a" }, { text: "b" }, { text: "I can't." }] },
    ]);
  });

  test("Gemma has no systemInstruction: the system text opens the first user turn", () => {
    const messages = [
      { role: "system", content: "You are a pirate." },
      { role: "developer", content: "Say arr." },
      { role: "user", content: "Hello" },
    ];
    expect(convertToGeminiRequest(request({ messages }), "gemma-3-27b-it")).toStrictEqual({
      contents: [{ role: "user", parts: [{ text: "You are a pirate.\n\nSay arr.\n\n" }, { text: "Hello" }] }],
    });
  });

  test("Gemma: a chat that opens with the assistant, or has no turn at all, gets a user turn for the system text", () => {
    const opensWithAssistant = [
      { role: "system", content: "Rules." },
      { role: "assistant", content: "Welcome!" },
      { role: "user", content: "Hi" },
    ];
    expect(convertToGeminiRequest(request({ messages: opensWithAssistant }), "gemma-3-4b-it").contents).toStrictEqual([
      { role: "user", parts: [{ text: "Rules.\n\n" }] },
      { role: "model", parts: [{ text: "Welcome!" }] },
      { role: "user", parts: [{ text: "Hi" }] },
    ]);
    expect(convertToGeminiRequest(request({ messages: [{ role: "system", content: "Rules." }] }), "gemma-3-4b-it").contents).toStrictEqual([
      { role: "user", parts: [{ text: "Rules.\n\n" }] },
    ]);
  });

  test("a chat with nothing but a system prompt cannot go to Gemini", () => {
    const error = conversionError({ messages: [{ role: "system", content: "Rules." }] });
    expect(error.param).toBe("messages");
  });

  test("unknown roles and non-text system parts are refused with their path", () => {
    expect(conversionError({ messages: [{ role: "user", content: "a" }, { role: "function", name: "f", content: "x" }] }).param).toBe("messages[1].role");
    const imageInSystem = { role: "system", content: [{ type: "image_url", image_url: { url: "https://x/a.png" } }] };
    expect(conversionError({ messages: [imageInSystem, { role: "user", content: "a" }] }).param).toBe("messages[0].content[0].type");
  });
});

describe("user content parts", () => {
  test("images: data URLs inline, http(s) and gs:// URLs by reference with a type from the extension", () => {
    const converted = convert({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare:" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "high" } },
            { type: "image_url", image_url: { url: "https://example.com/photos/cat.WEBP?size=large#top" } },
            { type: "image_url", image_url: { url: "gs://bucket/scans/report.pdf" } },
            { type: "image_url", image_url: { url: "https://example.com/render?id=7" } },
            { type: "image_url", image_url: "http://example.com/a.heic" },
          ],
        },
      ],
    });
    expect(converted.contents).toStrictEqual([
      {
        role: "user",
        parts: [
          { text: "Compare:" },
          { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
          { fileData: { fileUri: "https://example.com/photos/cat.WEBP?size=large#top", mimeType: "image/webp" } },
          { fileData: { fileUri: "gs://bucket/scans/report.pdf", mimeType: "application/pdf" } },
          { fileData: { fileUri: "https://example.com/render?id=7", mimeType: "image/jpeg" } },
          { fileData: { fileUri: "http://example.com/a.heic", mimeType: "image/heic" } },
        ],
      },
    ]);
  });

  test("audio and files become inlineData", () => {
    const converted = convert({
      messages: [
        {
          role: "user",
          content: [
            { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
            { type: "input_audio", input_audio: { data: "SUQz", format: "mp3" } },
            { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=", filename: "ignored.txt" } },
            { type: "file", file: { file_data: "aGVsbG8=", filename: "notes.TXT" } },
            { type: "file", file: { file_data: "JVBERi0=" } },
          ],
        },
      ],
    });
    expect(converted.contents[0]!.parts).toStrictEqual([
      { inlineData: { mimeType: "audio/wav", data: "UklGRg==" } },
      { inlineData: { mimeType: "audio/mp3", data: "SUQz" } },
      { inlineData: { mimeType: "application/pdf", data: "JVBERi0=" } },
      { inlineData: { mimeType: "text/plain", data: "aGVsbG8=" } },
      { inlineData: { mimeType: "application/pdf", data: "JVBERi0=" } },
    ]);
  });

  test("parts Gemini cannot take are refused with their path", () => {
    const part = (content: unknown) => conversionError({ messages: [{ role: "user", content: [content] }] });
    expect(part({ type: "image_url", image_url: { url: "ftp://example.com/a.png" } }).param).toBe("messages[0].content[0].image_url.url");
    expect(part({ type: "image_url", image_url: { url: "data:image/png,rawbytes" } }).param).toBe("messages[0].content[0].image_url.url");
    expect(part({ type: "image_url", image_url: {} }).param).toBe("messages[0].content[0].image_url.url");
    expect(part({ type: "file", file: { file_id: "file-abc123" } }).param).toBe("messages[0].content[0].file.file_id");
    expect(part({ type: "input_audio", input_audio: { data: "x" } }).param).toBe("messages[0].content[0].input_audio.format");
    expect(part({ type: "video_url", video_url: { url: "https://x/v.mp4" } }).param).toBe("messages[0].content[0].type");
    expect(part({ type: "text", text: 5 }).param).toBe("messages[0].content[0].text");
  });
});

describe("tool calls and results", () => {
  test("recorded Gemini 3 call (google/tool-call-gemini3.json): its signature comes back on the functionCall part", () => {
    const answer = readFixtureJson<GeminiResponse>("google/tool-call-gemini3.json");
    const recordedPart = answer.candidates![0]!.content!.parts![0]!;
    const toolCalls = toolCallsFrom(answer.candidates![0]!.content!.parts!);
    const converted = convertToGeminiRequest(
      request({
        messages: [
          { role: "user", content: "What is the weather in San Francisco?" },
          { role: "assistant", content: null, tool_calls: toolCalls },
          { role: "tool", tool_call_id: toolCalls[0]!.id, content: '{"temperature": 18, "conditions": "fog"}' },
        ],
      }),
      "gemini-3-pro-preview",
    );
    expect(converted.contents).toStrictEqual([
      { role: "user", parts: [{ text: "What is the weather in San Francisco?" }] },
      {
        role: "model",
        parts: [
          {
            functionCall: { name: "weather", args: { location: "San Francisco" } },
            thoughtSignature: "EskgCsYgAb4+9vtF7/499YQS2bjZs3xcQI+iAl+ILn29nK1j0Kg6su7QsUUUk3nrAAfnS2w5WiVvlcCqu9fAebJ2cvfaEyBahEt5",
          },
        ],
      },
      { role: "user", parts: [{ functionResponse: { name: "weather", response: { output: { temperature: 18, conditions: "fog" } } } }] },
    ]);
    expect(converted.contents[1]!.parts[0]!.thoughtSignature).toBe(recordedPart.thoughtSignature!);
  });

  test("recorded streamed call (google/stream-tool-call-thought-signature.sse.txt): the full-length signature survives the id", () => {
    const chunks = readSseJson<GeminiResponse>("google/stream-tool-call-thought-signature.sse.txt");
    const parts = chunks.flatMap((chunk) => chunk.candidates?.[0]?.content?.parts ?? []);
    const recordedSignature = parts.find((part) => part.functionCall)!.thoughtSignature!;
    const toolCalls = toolCallsFrom(parts);
    const converted = convertToGeminiRequest(
      request({
        messages: [
          { role: "user", content: "What is the capital of the country I am in?" },
          { role: "assistant", content: "", tool_calls: toolCalls },
          { role: "tool", tool_call_id: toolCalls[0]!.id, content: "Mexico" },
        ],
      }),
      "gemini-3-pro-preview",
    );
    expect(converted.contents.slice(1)).toStrictEqual([
      { role: "model", parts: [{ functionCall: { name: "get_country", args: {} }, thoughtSignature: recordedSignature }] },
      { role: "user", parts: [{ functionResponse: { name: "get_country", response: { output: "Mexico" } } }] },
    ]);
    expect(recordedSignature.length).toBeGreaterThan(1000);
  });

  test("recorded 2.5 Flash thinking call: signature restored, reasoning_content not sent back", () => {
    const chunks = readSseJson<GeminiResponse>("google/stream-thinking-function-call-thought-signature.sse.txt");
    const parts = chunks.flatMap((chunk) => chunk.candidates?.[0]?.content?.parts ?? []);
    const toolCalls = toolCallsFrom(parts);
    const converted = convertToGeminiRequest(
      request({
        messages: [
          { role: "user", content: "How many days until New Year's Eve?" },
          { role: "assistant", content: null, reasoning_content: "**Calculating the Days** …", tool_calls: toolCalls },
          { role: "tool", tool_call_id: toolCalls[0]!.id, content: "2025-07-28T18:40:00Z" },
        ],
      }),
      "gemini-2.5-flash",
    );
    expect(converted.contents[1]).toStrictEqual({
      role: "model",
      parts: [{ functionCall: { name: "now", args: {} }, thoughtSignature: parts.find((part) => part.functionCall)!.thoughtSignature! }],
    });
    expect(converted.generationConfig).toStrictEqual({ thinkingConfig: { includeThoughts: true } });
  });

  test("recorded parallel calls: results in any order form one user turn in call order", () => {
    const answer = readFixtureJson<GeminiResponse>("google/vertex-parallel-function-calls.json");
    const toolCalls = toolCallsFrom(answer.candidates![0]!.content!.parts!);
    const [first, second, third] = toolCalls.map((call) => call.id);
    const converted = convert({
      messages: [
        { role: "user", content: "Sum 2+1, 4+3 and 6+5." },
        { role: "assistant", content: "Calculating.", tool_calls: toolCalls },
        { role: "tool", tool_call_id: third, content: "11" },
        { role: "tool", tool_call_id: first, content: [{ type: "text", text: "3" }] },
        { role: "tool", tool_call_id: second, content: "7" },
        { role: "user", content: "Thanks" },
      ],
    });
    expect(converted.contents).toStrictEqual([
      { role: "user", parts: [{ text: "Sum 2+1, 4+3 and 6+5." }] },
      {
        role: "model",
        parts: [
          { text: "Calculating." },
          { functionCall: { name: "sum", args: { y: 1, x: 2 } } },
          { functionCall: { name: "sum", args: { y: 3, x: 4 } } },
          { functionCall: { name: "sum", args: { y: 5, x: 6 } } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "sum", response: { output: "3" } } },
          { functionResponse: { name: "sum", response: { output: "7" } } },
          { functionResponse: { name: "sum", response: { output: "11" } } },
          { text: "Thanks" },
        ],
      },
    ]);
  });

  test("Gemini 3: an unsigned first call per model turn gets the skip sentinel; later calls and signed ones are left alone", () => {
    const signed = encodeToolCallId("c2lnbmVk");
    const messages = [
      { role: "user", content: "go" },
      {
        role: "assistant",
        tool_calls: [
          { id: "call_from_openai_1", type: "function", function: { name: "a", arguments: "{}" } },
          { id: "call_from_openai_2", type: "function", function: { name: "b", arguments: "" } },
        ],
      },
      { role: "tool", tool_call_id: "call_from_openai_1", content: "ra" },
      { role: "tool", tool_call_id: "call_from_openai_2", content: "rb" },
      { role: "assistant", tool_calls: [{ id: signed, type: "function", function: { name: "c", arguments: "{}" } }] },
      { role: "tool", tool_call_id: signed, content: "rc" },
      { role: "assistant", tool_calls: [{ id: "call_3", function: { name: "d", arguments: '{"k":1}' } }] },
      { role: "tool", tool_call_id: "call_3", content: "rd" },
    ];
    const modelTurns = (model: string) => convertToGeminiRequest(request({ messages }), model).contents.filter((content) => content.role === "model");
    expect(modelTurns("gemini-3-flash-preview")).toStrictEqual([
      {
        role: "model",
        parts: [{ functionCall: { name: "a", args: {} }, thoughtSignature: "skip_thought_signature_validator" }, { functionCall: { name: "b", args: {} } }],
      },
      { role: "model", parts: [{ functionCall: { name: "c", args: {} }, thoughtSignature: "c2lnbmVk" }] },
      { role: "model", parts: [{ functionCall: { name: "d", args: { k: 1 } }, thoughtSignature: "skip_thought_signature_validator" }] },
    ]);
    // Older models do not validate signatures; the sentinel is not sent to them.
    expect(modelTurns("gemini-2.5-flash")[0]!.parts).toStrictEqual([{ functionCall: { name: "a", args: {} } }, { functionCall: { name: "b", args: {} } }]);
  });

  test("tool output: a JSON object is passed as structure, anything else as the string", () => {
    const outputs = ['{"ok": true}', "[1, 2]", "{not json", "42", "  {\"padded\": 1}  "].map((content) => {
      const converted = convert({
        messages: [
          { role: "user", content: "go" },
          { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
          { role: "tool", tool_call_id: "c1", content },
        ],
      });
      return converted.contents[2]!.parts[0]!.functionResponse!.response;
    });
    expect(outputs).toStrictEqual([{ output: { ok: true } }, { output: "[1, 2]" }, { output: "{not json" }, { output: "42" }, { output: { padded: 1 } }]);
  });

  test("a tool result must answer an earlier call", () => {
    const orphan = conversionError({ messages: [{ role: "user", content: "go" }, { role: "tool", tool_call_id: "call_nowhere", content: "x" }] });
    expect(orphan.param).toBe("messages[1].tool_call_id");
    expect(orphan.message).toContain("call_nowhere");
    const later = conversionError({
      messages: [
        { role: "user", content: "go" },
        { role: "tool", tool_call_id: "c1", content: "too early" },
        { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
      ],
    });
    expect(later.param).toBe("messages[1].tool_call_id");
    expect(conversionError({ messages: [{ role: "user", content: "go" }, { role: "tool", content: "x" }] }).param).toBe("messages[1].tool_call_id");
  });

  test("tool call arguments must be a JSON object", () => {
    const withArguments = (args: unknown) =>
      conversionError({ messages: [{ role: "user", content: "go" }, { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: args } }] }] });
    expect(withArguments('{"city": "Par').param).toBe("messages[1].tool_calls[0].function.arguments");
    expect(withArguments("[1]").message).toContain("JSON object");
    expect(withArguments(5).param).toBe("messages[1].tool_calls[0].function.arguments");
    const custom = conversionError({ messages: [{ role: "user", content: "go" }, { role: "assistant", tool_calls: [{ id: "c1", type: "custom", custom: { name: "f", input: "x" } }] }] });
    expect(custom.param).toBe("messages[1].tool_calls[0].type");
  });
});

describe("tools and tool_choice", () => {
  test("function tools become one functionDeclarations entry with cleaned schemas; strict is dropped", () => {
    const converted = convert({
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Current weather",
            strict: true,
            parameters: {
              $schema: "http://json-schema.org/draft-07/schema#",
              type: "object",
              properties: { city: { type: "string", minLength: 1 } },
              required: ["city"],
              additionalProperties: false,
            },
          },
        },
        { type: "function", function: { name: "now" } },
      ],
      tool_choice: "auto",
    });
    expect(converted).toStrictEqual({
      contents: [{ role: "user", parts: [{ text: "hi" }] }],
      tools: [
        {
          functionDeclarations: [
            {
              name: "get_weather",
              description: "Current weather",
              parametersJsonSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
            },
            { name: "now" },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: "AUTO" } },
    });
  });

  test("tool_choice maps to a function-calling mode", () => {
    const mode = (tool_choice: unknown) => convert({ tool_choice }).toolConfig;
    expect(mode("none")).toStrictEqual({ functionCallingConfig: { mode: "NONE" } });
    expect(mode("required")).toStrictEqual({ functionCallingConfig: { mode: "ANY" } });
    expect(mode({ type: "function", function: { name: "get_weather" } })).toStrictEqual({
      functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] },
    });
  });

  test("tools and choices with no Gemini form are refused", () => {
    expect(conversionError({ tools: [{ type: "web_search" }] }).param).toBe("tools[0].type");
    expect(conversionError({ tools: [{ type: "function", function: { description: "nameless" } }] }).param).toBe("tools[0].function.name");
    expect(conversionError({ tool_choice: "sometimes" }).param).toBe("tool_choice");
    expect(conversionError({ tool_choice: { type: "allowed_tools", allowed_tools: {} } }).param).toBe("tool_choice");
  });
});

describe("generation config", () => {
  test("sampling and output fields map to their Gemini names", () => {
    const converted = convert({
      temperature: 0.4,
      top_p: 0.9,
      top_k: 40,
      max_completion_tokens: 500,
      max_tokens: 9999,
      stop: ["END", "", "STOP"],
      n: 2,
      seed: 7,
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      logprobs: true,
      top_logprobs: 3,
      response_format: { type: "json_object" },
    });
    expect(converted.generationConfig).toStrictEqual({
      temperature: 0.4,
      topP: 0.9,
      topK: 40,
      maxOutputTokens: 500,
      stopSequences: ["END", "STOP"],
      candidateCount: 2,
      seed: 7,
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
      responseLogprobs: true,
      logprobs: 3,
      responseMimeType: "application/json",
    });
  });

  test("max_tokens when max_completion_tokens is absent; a lone stop string; top_logprobs 0 means none", () => {
    expect(convert({ max_tokens: 64, stop: "###", logprobs: false, top_logprobs: 0 }).generationConfig).toStrictEqual({
      maxOutputTokens: 64,
      stopSequences: ["###"],
      responseLogprobs: false,
    });
  });

  test("json_schema response formats send the cleaned schema", () => {
    const converted = convert({
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "person",
          strict: true,
          schema: { type: "object", properties: { name: { type: "string", default: "" } }, required: ["name"], additionalProperties: false },
        },
      },
    });
    expect(converted.generationConfig).toStrictEqual({
      responseMimeType: "application/json",
      responseJsonSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"], additionalProperties: false },
    });
    expect(convert({ response_format: { type: "json_schema", json_schema: { name: "free" } } }).generationConfig).toStrictEqual({ responseMimeType: "application/json" });
    expect(convert({ response_format: { type: "text" } }).generationConfig).toBeUndefined();
    expect(conversionError({ response_format: { type: "grammar" } }).param).toBe("response_format.type");
  });

  test("thinking settings come from the request and the model", () => {
    expect(convert({ reasoning_effort: "low" }, "gemini-3-flash-preview").generationConfig).toStrictEqual({
      thinkingConfig: { thinkingLevel: "LOW", includeThoughts: true },
    });
    expect(convert({ reasoning_effort: "none", max_tokens: 100 }, "gemini-2.5-flash").generationConfig).toStrictEqual({
      maxOutputTokens: 100,
      thinkingConfig: { thinkingBudget: 0 },
    });
    expect(convert({}, "gemini-2.5-pro").generationConfig).toStrictEqual({ thinkingConfig: { includeThoughts: true } });
  });

  test("fields with no Gemini meaning, and nulls, leave no trace", () => {
    const converted = convert({
      stream: true,
      stream_options: { include_usage: true },
      user: "u-1",
      logit_bias: { "50256": -100 },
      store: true,
      metadata: { a: "b" },
      service_tier: "auto",
      parallel_tool_calls: false,
      temperature: null,
      max_tokens: null,
      stop: null,
      tools: null,
      tool_choice: null,
      response_format: null,
      safety_settings: null,
    });
    expect(converted).toStrictEqual({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });
  });
});

describe("safety settings", () => {
  test("the generic dict and Gemini's list are both accepted", () => {
    expect(convert({ safety_settings: { harassment: "block_none", dangerous_content: "block_only_high", made_up: "off" } }).safetySettings).toStrictEqual([
      { category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" },
      { category: "HARM_CATEGORY_DANGEROUS_CONTENT", threshold: "BLOCK_ONLY_HIGH" },
    ]);
    const native = [{ category: "HARM_CATEGORY_HATE_SPEECH", threshold: "OFF" }];
    expect(convert({ safety_settings: native }).safetySettings).toStrictEqual(native);
  });

  test("nothing usable sends no safetySettings; a value of the wrong kind is refused", () => {
    expect(convert({ safety_settings: {} })).toStrictEqual({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });
    expect(conversionError({ safety_settings: "block_none" }).param).toBe("safety_settings");
  });
});

test("the client's body is never mutated", () => {
  const body = request({
    messages: [
      { role: "system", content: "s" },
      { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }] },
      { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: '{"a":1}' } }] },
      { role: "tool", tool_call_id: "c1", content: '{"b":2}' },
    ],
    tools: [{ type: "function", function: { name: "f", parameters: { type: "object", $schema: "x", properties: { a: { type: "integer", default: 1 } } } } }],
    response_format: { type: "json_schema", json_schema: { name: "n", schema: { type: "object", definitions: {} } } },
    safety_settings: { harassment: "block_none" },
  });
  const before = structuredClone(body);
  convertToGeminiRequest(body, "gemma-3-27b-it");
  convertToGeminiRequest(body, "gemini-3-pro-preview");
  expect(body).toStrictEqual(before);
});
