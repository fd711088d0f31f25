/**
 * Gemini-native request → canonical chat request, fed with the recorded Gemini CLI 0.61 request
 * (test/fixtures/clients/gemini-cli-request.json) and small hand-made turns for the tool round trip.
 */

import { describe, expect, test } from "bun:test";
import { chatRequestSchema } from "../../../src/formats/openai-requests.ts";
import { convertGeminiToChat, UntranslatableGeminiRequest } from "../../../src/formats/gemini/convert-gemini-to-chat.ts";
import { convertGeminiSchemaToJsonSchema } from "../../../src/formats/gemini/convert-gemini-schema-to-json-schema.ts";
import { generateRequestSchema } from "../../../src/formats/gemini/request-schema.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

const cli = () => readFixtureJson("clients/gemini-cli-request.json").body;

describe("the recorded Gemini CLI request", () => {
  test("passes the edge schema and converts to a valid canonical stream request", () => {
    const body = cli();
    expect(generateRequestSchema.safeParse(body).success).toBe(true);
    const chat = convertGeminiToChat(body, "groq/llama-3.3-70b", true);
    expect(chatRequestSchema.safeParse(chat).success).toBe(true);
    expect(chat).toMatchObject({ model: "groq/llama-3.3-70b", stream: true, stream_options: { include_usage: true }, temperature: 1, top_p: 0.95, top_k: 64 });
    // thinkingBudget 8192 → the effort whose budget it is.
    expect(chat.reasoning_effort).toBe("medium");
  });

  test("systemInstruction becomes the system message; the two user text parts one user message", () => {
    const body = cli();
    const messages = convertGeminiToChat(body, "openai/gpt-4o-mini", false).messages as any[];
    expect(messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(messages[0].content).toBe(body.systemInstruction.parts.map((p: any) => p.text).join("\n"));
    expect(messages[1].content).toBe(body.contents[0].parts.map((p: any) => p.text).join("\n\n"));
    expect(messages[1].content).toEndWith("What is the capital of France?");
  });

  test("every functionDeclaration becomes a function tool with its JSON schema", () => {
    const body = cli();
    const tools = convertGeminiToChat(body, "openai/gpt-4o-mini", false).tools as any[];
    const declarations = body.tools[0].functionDeclarations;
    expect(tools.map((t) => t.function.name)).toEqual(declarations.map((d: any) => d.name));
    expect(tools[0]).toEqual({
      type: "function",
      function: { name: declarations[0].name, description: declarations[0].description, parameters: declarations[0].parametersJsonSchema },
    });
  });
});

describe("tool round trip", () => {
  const turns = (responseId?: string) => ({
    contents: [
      { role: "user", parts: [{ text: "Weather in Paris and Rome?" }] },
      {
        role: "model",
        parts: [
          { text: "Checking.", thought: true },
          { functionCall: { name: "weather", args: { city: "Paris" } } },
          { functionCall: { name: "weather", args: { city: "Rome" } } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "weather", response: { output: "sunny" }, ...(responseId ? { id: responseId } : {}) } },
          { functionResponse: { name: "weather", response: { output: "rain" } } },
        ],
      },
    ],
  });

  test("calls without ids get positional ids, and responses take them in order by name", () => {
    const messages = convertGeminiToChat(turns(), "anthropic/claude", false).messages as any[];
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "tool"]);
    expect(messages[1]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_g1_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
        { id: "call_g1_2", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
      ],
    });
    expect(messages[2]).toEqual({ role: "tool", tool_call_id: "call_g1_1", content: '{"output":"sunny"}' });
    expect(messages[3]).toEqual({ role: "tool", tool_call_id: "call_g1_2", content: '{"output":"rain"}' });
  });

  test("ids the client echoes are kept on both sides", () => {
    const body: any = turns("call_abc");
    body.contents[1].parts[2].functionCall.id = "call_abc";
    const messages = convertGeminiToChat(body, "anthropic/claude", false).messages as any[];
    expect(messages[1].tool_calls.map((call: any) => call.id)).toEqual(["call_g1_1", "call_abc"]);
    expect(messages.slice(2).map((m) => m.tool_call_id)).toEqual(["call_abc", "call_g1_1"]);
  });
});

describe("generation settings and parts", () => {
  test("config fields, JSON schema output, tool config and inline images", () => {
    const chat = convertGeminiToChat(
      {
        contents: [{ role: "user", parts: [{ text: "Describe" }, { inlineData: { mimeType: "image/png", data: "AAAA" } }] }],
        tools: [{ functionDeclarations: [{ name: "lookup", parameters: { type: "OBJECT", properties: { q: { type: "STRING", nullable: true } } } }] }, { googleSearch: {} }],
        toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["lookup"] } },
        generationConfig: {
          maxOutputTokens: 100,
          stopSequences: ["END"],
          candidateCount: 2,
          seed: 7,
          responseMimeType: "application/json",
          responseSchema: { type: "OBJECT", properties: { a: { type: "INTEGER" } } },
          thinkingConfig: { thinkingLevel: "HIGH" },
        },
      },
      "openai/gpt-4o",
      false,
    );
    expect(chat).toMatchObject({
      max_tokens: 100,
      stop: ["END"],
      n: 2,
      seed: 7,
      reasoning_effort: "high",
      response_format: { type: "json_schema", json_schema: { name: "response", schema: { type: "object", properties: { a: { type: "integer" } } } } },
      tool_choice: { type: "function", function: { name: "lookup" } },
    });
    expect(chat.tools).toEqual([{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: { q: { type: ["string", "null"] } } } } }]);
    expect((chat.messages as any[])[0].content).toEqual([
      { type: "text", text: "Describe" },
      { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
    ]);
  });

  test("a zero or dynamic thinking budget sends no effort", () => {
    for (const thinkingBudget of [0, -1]) {
      const chat = convertGeminiToChat({ contents: [{ parts: [{ text: "hi" }] }], generationConfig: { thinkingConfig: { thinkingBudget } } }, "openai/x", false);
      expect(chat.reasoning_effort).toBeUndefined();
    }
  });

  test("a non-image file by URL cannot be expressed and names the part", () => {
    expect(() => convertGeminiToChat({ contents: [{ parts: [{ fileData: { mimeType: "application/pdf", fileUri: "gs://b/x.pdf" } }] }] }, "openai/x", false)).toThrow(
      UntranslatableGeminiRequest,
    );
  });

  test("schema conversion reaches nested items and anyOf", () => {
    expect(convertGeminiSchemaToJsonSchema({ type: "ARRAY", items: { anyOf: [{ type: "STRING" }, { type: "NUMBER" }] }, propertyOrdering: ["x"] })).toEqual({
      type: "array",
      items: { anyOf: [{ type: "string" }, { type: "number" }] },
    });
  });
});
