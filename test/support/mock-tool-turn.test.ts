/**
 * Tests for the tool-turn mock, driven by the official SDKs of each wire format (openai for chat
 * completions and the Responses API, @anthropic-ai/sdk, @google/genai), so what the real clients
 * read from it parses as the real thing: the shell tool is called once, a tool result gets the
 * final text, a side request gets a short text (or JSON that fits a Gemini response schema).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { FINAL_TEXT, SHELL_TOOLS, SIDE_TEXT, TOOL_COMMAND, TOOL_OUTPUT, startToolTurnMock, type ToolTurnMock } from "./mock-tool-turn.ts";

let mock: ToolTurnMock;

beforeAll(async () => {
  mock = await startToolTurnMock();
});
afterEach(() => mock.reset());
afterAll(() => mock.stop());

const PROMPT = "Run the shell check.";
const openai = () => new OpenAI({ baseURL: mock.openaiBase, apiKey: "k", maxRetries: 0 });
const anthropic = () => new Anthropic({ baseURL: mock.origin, apiKey: "k", maxRetries: 0 });
const genai = () => new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: mock.origin, apiVersion: "v1beta" } });

describe("OpenAI chat completions", () => {
  const tools = [{ type: "function" as const, function: { name: "Bash", parameters: { type: "object", properties: { command: { type: "string" } } } } }];

  for (const stream of [false, true]) {
    test(`${stream ? "stream" : "plain"}: the shell tool first, the final text once its result comes back`, async () => {
      const client = openai();
      const ask = async (messages: OpenAI.ChatCompletionMessageParam[]) =>
        (stream
          ? await client.chat.completions.stream({ model: "m", messages, tools, stream: true }).finalChatCompletion()
          : await client.chat.completions.create({ model: "m", messages, tools })
        ).choices[0]!.message;
      const call = (await ask([{ role: "user", content: PROMPT }])).tool_calls![0]!;
      expect(call.type).toBe("function");
      const fn = (call as { function: { name: string; arguments: string } }).function;
      expect({ name: fn.name, args: JSON.parse(fn.arguments) }).toEqual({ name: "Bash", args: SHELL_TOOLS.Bash! });
      const final = await ask([
        { role: "user", content: PROMPT },
        { role: "assistant", content: null, tool_calls: [call] },
        { role: "tool", tool_call_id: call.id, content: `${TOOL_OUTPUT}\n` },
      ]);
      expect(final.content).toBe(FINAL_TEXT);
      const { call: asked, result } = mock.toolTurn();
      expect(asked?.answer).toBe("tool_call");
      expect(result?.toolResults).toEqual([`${TOOL_OUTPUT}\n`]);
      expect(result?.family).toBe("openai");
    });
  }

  test("a request without the shell tool is a side request: a short text", async () => {
    const reply = await openai().chat.completions.create({ model: "m", messages: [{ role: "user", content: "Title?" }] });
    expect(reply.choices[0]!.message.content).toBe(SIDE_TEXT);
    expect(mock.calls.map((c) => c.answer)).toEqual(["side"]);
  });

  test("GET /v1/models lists the models", async () => {
    const list = await openai().models.list();
    expect(list.data.map((m) => m.id)).toContain("tool-turn-model");
  });
});

describe("OpenAI Responses API", () => {
  const tools = [{ type: "function" as const, name: "exec_command", strict: false, parameters: { type: "object", properties: { cmd: { type: "string" } } } }];

  for (const stream of [false, true]) {
    test(`${stream ? "stream" : "plain"}: exec_command first, the final text after its function_call_output`, async () => {
      const client = openai();
      const first = stream
        ? await client.responses.stream({ model: "m", input: PROMPT, tools }).finalResponse()
        : await client.responses.create({ model: "m", input: PROMPT, tools });
      const call = first.output[0]!;
      if (call.type !== "function_call") throw new Error(`expected a function_call, got ${call.type}`);
      expect({ name: call.name, args: JSON.parse(call.arguments) }).toEqual({ name: "exec_command", args: { cmd: TOOL_COMMAND } });
      const input = [
        { role: "user" as const, content: PROMPT },
        { type: "function_call" as const, call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: "function_call_output" as const, call_id: call.call_id, output: `Output:\n${TOOL_OUTPUT}\n` },
      ];
      const final = stream ? await client.responses.stream({ model: "m", input, tools }).finalResponse() : await client.responses.create({ model: "m", input, tools });
      expect(final.output_text).toBe(FINAL_TEXT);
      expect(mock.toolTurn().result?.family).toBe("responses");
    });
  }
});

describe("Anthropic messages", () => {
  const tools = [{ name: "Bash", input_schema: { type: "object" as const, properties: { command: { type: "string" } } } }];

  for (const stream of [false, true]) {
    test(`${stream ? "stream" : "plain"}: Bash first, the final text after its tool_result`, async () => {
      const client = anthropic();
      const ask = (messages: Anthropic.MessageParam[]) =>
        stream ? client.messages.stream({ model: "c", max_tokens: 100, messages, tools }).finalMessage() : client.messages.create({ model: "c", max_tokens: 100, messages, tools });
      const first = await ask([{ role: "user", content: PROMPT }]);
      expect(first.stop_reason).toBe("tool_use");
      const use = first.content[0]!;
      if (use.type !== "tool_use") throw new Error(`expected tool_use, got ${use.type}`);
      expect({ name: use.name, input: use.input }).toEqual({ name: "Bash", input: SHELL_TOOLS.Bash! });
      const final = await ask([
        { role: "user", content: PROMPT },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: [{ type: "text", text: TOOL_OUTPUT }] }] },
      ]);
      expect(final.content).toEqual([{ type: "text", text: FINAL_TEXT } as Anthropic.TextBlock]);
      expect(mock.toolTurn().result?.toolResults).toEqual([TOOL_OUTPUT]);
    });
  }

  test("count_tokens and the model list answer", async () => {
    const count = await anthropic().messages.countTokens({ model: "c", messages: [{ role: "user", content: PROMPT }] });
    expect(count.input_tokens).toBeGreaterThan(0);
    const models = await anthropic().models.list();
    expect(models.data.map((m) => m.id)).toContain("claude-sonnet-4-5");
  });
});

describe("Gemini generateContent", () => {
  const config = { tools: [{ functionDeclarations: [{ name: "run_shell_command", parametersJsonSchema: { type: "object", properties: { command: { type: "string" } } } }] }] };

  for (const stream of [false, true]) {
    test(`${stream ? "stream" : "plain"}: run_shell_command first, the final text after its functionResponse`, async () => {
      const client = genai();
      const ask = async (contents: any[]) => {
        if (!stream) return client.models.generateContent({ model: "gemini-2.5-flash", contents, config });
        let text = "";
        const calls: any[] = [];
        for await (const chunk of await client.models.generateContentStream({ model: "gemini-2.5-flash", contents, config })) {
          for (const part of chunk.candidates?.[0]?.content?.parts ?? []) {
            if (part.text !== undefined) text += part.text;
            if (part.functionCall) calls.push(part.functionCall);
          }
        }
        return { text, functionCalls: calls };
      };
      const first = await ask([{ role: "user", parts: [{ text: PROMPT }] }]);
      expect(first.functionCalls).toEqual([{ name: "run_shell_command", args: SHELL_TOOLS.run_shell_command! }]);
      const final = await ask([
        { role: "user", parts: [{ text: PROMPT }] },
        { role: "model", parts: [{ functionCall: first.functionCalls![0] }] },
        { role: "user", parts: [{ functionResponse: { name: "run_shell_command", response: { output: TOOL_OUTPUT } } }] },
      ]);
      expect(final.text).toBe(FINAL_TEXT);
      expect(mock.toolTurn().result?.toolResults).toEqual([JSON.stringify({ output: TOOL_OUTPUT })]);
    });
  }

  test("a side request that asks for JSON gets JSON fitting its schema, next_speaker 'user'", async () => {
    const reply = await genai().models.generateContent({
      model: "gemini-2.5-flash",
      contents: [{ role: "user", parts: [{ text: "Who speaks next?" }] }],
      config: {
        responseMimeType: "application/json",
        responseJsonSchema: { type: "object", properties: { reasoning: { type: "string" }, next_speaker: { type: "string", enum: ["model", "user"] } } },
      },
    });
    expect(JSON.parse(reply.text!)).toEqual({ reasoning: expect.any(String), next_speaker: "user" });
  });

  test("countTokens and the model list answer, also under /v1", async () => {
    const count = await new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: mock.origin } }).models.countTokens({ model: "gemini-2.5-flash", contents: PROMPT });
    expect(count.totalTokens).toBeGreaterThan(0);
    expect(mock.calls[0]!.path).toBe("/v1/models/gemini-2.5-flash:countTokens");
    const listed = await fetch(`${mock.geminiBase}/models`).then((r) => r.json() as Promise<any>);
    expect(listed.models.map((m: any) => m.name)).toContain("models/gemini-2.5-flash");
  });
});

test("an unknown route is a 404 that names it, and is recorded", async () => {
  const response = await fetch(`${mock.origin}/nowhere`, { method: "POST", body: "{}" });
  expect(response.status).toBe(404);
  expect(await response.text()).toContain("no route POST /nowhere");
  expect(mock.calls.map((c) => c.answer)).toEqual(["not_found"]);
});
