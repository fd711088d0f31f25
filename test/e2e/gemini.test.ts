/**
 * Gemini chat end to end: the real proxy in front of the scripted Gemini mock, driven with the real
 * `openai` SDK (raw fetch where status, headers or SSE bytes matter). Every test checks both sides:
 * what the OpenAI client sees, and the native `generateContent` body that reached Google.
 *
 * - text, non-stream and stream: content, finish_reason, usage, system/developer → systemInstruction,
 *   one `[DONE]`, a usage chunk only when `stream_options.include_usage` asked for it;
 * - thinking: `reasoning_effort` → thinkingConfig (budget on 2.5, level on 3), thoughts only ever in
 *   `reasoning_content`;
 * - tools: single and parallel calls (whole and streamed), tool_choice, JSON Schema cleaning;
 * - multi-turn tool use carrying Gemini 3 thought signatures through the tool call ids;
 * - JSON output and images;
 * - recorded Google answers (test/fixtures/google) replayed byte for byte, whole and streamed.
 *
 * Embeddings and the model list: gemini-embeddings-models.test.ts; key rotation, errors and key
 * secrecy: gemini-rotation.test.ts.
 */

import { describe, expect, test } from "bun:test";
import type OpenAI from "openai";
import { readFixtureJson, readFixtureText, readSseJson } from "../support/fixtures.ts";
import { DEFAULT_CHUNKS, DEFAULT_SIGNATURE, type FunctionCallSpec } from "../support/mock-gemini.ts";
import { FLASH, GEMINI_3, PRO, USER_MESSAGE, contentPieces, finishReasons, onlyGenerateCall, postChat, proxyModel, readClientStream, reasoningPieces, useGeminiRig } from "./gemini-helpers.ts";

const start = useGeminiRig();

type Messages = OpenAI.Chat.Completions.ChatCompletionMessageParam[];
type Tool = OpenAI.Chat.Completions.ChatCompletionTool;

const SYSTEM_PROMPT: Messages = [
  { role: "system", content: "You are terse." },
  { role: "developer", content: "Answer in English." },
  { role: "user", content: "What is the capital of France?" },
];
const ANSWER = "Paris is the capital of France.";

/** A tool call id that carries a thought signature, and one that does not. */
const SIGNED_ID = /^call_[A-Za-z0-9]{16}_ts_[A-Za-z0-9_-]+$/;
const PLAIN_ID = /^call_[A-Za-z0-9]{16}$/;

const WEATHER_PARAMETERS = {
  type: "object",
  properties: { location: { type: "string", description: "City name" } },
  required: ["location"],
};
const WEATHER_TOOL: Tool = {
  type: "function",
  function: { name: "weather", description: "Current weather in a city", parameters: WEATHER_PARAMETERS },
};
const TIME_TOOL: Tool = {
  type: "function",
  function: { name: "time", description: "Local time in a time zone", parameters: { type: "object", properties: { tz: { type: "string" } }, required: ["tz"] } },
};
const PARALLEL_CALLS: FunctionCallSpec[] = [
  { name: "weather", args: { location: "Paris" } },
  { name: "time", args: { tz: "Europe/Paris" } },
];

/** The function call a client sees, arguments parsed. */
function calledFunctions(toolCalls: readonly any[] | undefined): { name: string; args: unknown }[] {
  return (toolCalls ?? []).map((call) => ({ name: call.function.name, args: JSON.parse(call.function.arguments) }));
}

describe("text", () => {
  test("non-stream: content, finish_reason stop, usage; system and developer messages become systemInstruction", async () => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "text", text: ANSWER, usage: { prompt: 11, candidates: 7 } });

    const completion = await client.chat.completions.create({ model: proxyModel(FLASH), messages: SYSTEM_PROMPT });

    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toStartWith("chatcmpl-");
    expect(completion.model).toBe(FLASH);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({ index: 0, finish_reason: "stop", message: { role: "assistant", content: ANSWER } });
    expect((completion.choices[0]!.message as any).reasoning_content).toBeUndefined();
    expect(completion.usage).toMatchObject({
      prompt_tokens: 11,
      completion_tokens: 7,
      total_tokens: 18,
      completion_tokens_details: { reasoning_tokens: 0 },
    });

    const call = onlyGenerateCall(mock);
    expect(call.path).toBe(`/v1beta/models/${FLASH}:generateContent`);
    expect(call.stream).toBe(false);
    expect(call.body.systemInstruction).toEqual({ parts: [{ text: "You are terse." }, { text: "Answer in English." }] });
    expect(call.body.contents).toEqual([{ role: "user", parts: [{ text: "What is the capital of France?" }] }]);
  });

  test.each([false, true])("stream (include_usage %p): role first, the text in order, one finish_reason, one [DONE], usage only when asked", async (includeUsage) => {
    const { mock, proxy } = await start();
    mock.setDefault({ kind: "text", text: ANSWER, usage: { prompt: 11, candidates: 7 } });

    const response = await postChat(proxy, {
      messages: SYSTEM_PROMPT,
      stream: true,
      ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
    });
    const { payloads } = await readClientStream(response);

    expect(payloads.every((payload) => payload.object === "chat.completion.chunk")).toBe(true);
    expect(new Set(payloads.map((payload) => payload.id)).size).toBe(1);
    expect(payloads[0].choices[0].delta.role).toBe("assistant");
    expect(contentPieces(payloads)).toHaveLength(DEFAULT_CHUNKS);
    expect(contentPieces(payloads).join("")).toBe(ANSWER);
    expect(finishReasons(payloads)).toEqual(["stop"]);
    const usageChunks = payloads.filter((payload) => payload.usage);
    if (includeUsage) {
      expect(usageChunks).toHaveLength(1);
      expect(payloads.at(-1)).toBe(usageChunks[0]);
      expect(usageChunks[0].choices).toEqual([]);
      expect(usageChunks[0].usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    } else {
      expect(usageChunks).toEqual([]);
    }

    const call = onlyGenerateCall(mock);
    expect(call.path).toBe(`/v1beta/models/${FLASH}:streamGenerateContent`);
    expect(call.query).toBe("?alt=sse");
    expect(call.body.systemInstruction).toEqual({ parts: [{ text: "You are terse." }, { text: "Answer in English." }] });
  });

  test("stream through the SDK: the chunks reassemble into the answer", async () => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "text", text: ANSWER });

    const stream = await client.chat.completions.create({ model: proxyModel(PRO), messages: [USER_MESSAGE], stream: true });
    let text = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(ANSWER);
    expect(finish).toBe("stop");
    expect(onlyGenerateCall(mock).model).toBe(PRO);
  });

  test("sampling parameters map to generationConfig", async () => {
    const { mock, client } = await start();

    await client.chat.completions.create({
      model: proxyModel(FLASH),
      messages: [USER_MESSAGE],
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 64,
      stop: ["END"],
      seed: 7,
    });

    expect(onlyGenerateCall(mock).body.generationConfig).toMatchObject({
      temperature: 0.2,
      topP: 0.9,
      maxOutputTokens: 64,
      stopSequences: ["END"],
      seed: 7,
    });
  });
});

describe("thinking", () => {
  const THOUGHTS = "PRIVATE-THOUGHT: the user wants a capital city; recall Europe.";

  test.each([
    [FLASH, { thinkingBudget: 1024, includeThoughts: true }],
    [GEMINI_3, { thinkingLevel: "LOW", includeThoughts: true }],
  ])("%s non-stream: reasoning_effort low → %o; thoughts in reasoning_content, reasoning tokens counted", async (model, thinkingConfig) => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "text", text: ANSWER, thoughts: THOUGHTS, usage: { prompt: 10, candidates: 4, thoughts: 6 } });

    const completion = await client.chat.completions.create({ model: proxyModel(model), messages: [USER_MESSAGE], reasoning_effort: "low" });

    const message = completion.choices[0]!.message as any;
    expect(message.content).toBe(ANSWER);
    expect(message.reasoning_content).toBe(THOUGHTS);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 10, total_tokens: 20, completion_tokens_details: { reasoning_tokens: 6 } });
    expect(onlyGenerateCall(mock).body.generationConfig.thinkingConfig).toEqual(thinkingConfig);
  });

  test.each([
    [FLASH, { thinkingBudget: 1024, includeThoughts: true }],
    [GEMINI_3, { thinkingLevel: "LOW", includeThoughts: true }],
  ])("%s stream: thoughts arrive as reasoning_content deltas before the answer and never inside content", async (model, thinkingConfig) => {
    const { mock, proxy } = await start();
    mock.setDefault({ kind: "text", text: ANSWER, thoughts: THOUGHTS, usage: { prompt: 10, candidates: 4, thoughts: 6 } });

    const response = await postChat(proxy, {
      model: proxyModel(model),
      reasoning_effort: "low",
      stream: true,
      stream_options: { include_usage: true },
    });
    const { payloads } = await readClientStream(response);

    expect(reasoningPieces(payloads).join("")).toBe(THOUGHTS);
    expect(contentPieces(payloads).join("")).toBe(ANSWER);
    for (const piece of contentPieces(payloads)) expect(piece).not.toContain("PRIVATE-THOUGHT");
    const firstContent = payloads.findIndex((payload) => payload.choices?.[0]?.delta?.content);
    const lastReasoning = payloads.findLastIndex((payload) => payload.choices?.[0]?.delta?.reasoning_content);
    expect(lastReasoning).toBeLessThan(firstContent);
    expect(finishReasons(payloads)).toEqual(["stop"]);
    expect(payloads.at(-1).usage).toMatchObject({ completion_tokens: 10, completion_tokens_details: { reasoning_tokens: 6 } });
    expect(onlyGenerateCall(mock).body.generationConfig.thinkingConfig).toEqual(thinkingConfig);
  });
});

describe("tools", () => {
  test("one call, non-stream: finish_reason tool_calls, a signed id, the arguments as JSON; tools become functionDeclarations", async () => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "tool_call" });

    const completion = await client.chat.completions.create({ model: proxyModel(GEMINI_3), messages: [USER_MESSAGE], tools: [WEATHER_TOOL] });

    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0]! as any;
    expect(call.type).toBe("function");
    expect(call.id).toMatch(SIGNED_ID);
    expect(calledFunctions(choice.message.tool_calls)).toEqual([{ name: "weather", args: { location: "San Francisco" } }]);

    const upstream = onlyGenerateCall(mock).body;
    expect(upstream.tools).toEqual([
      { functionDeclarations: [{ name: "weather", description: "Current weather in a city", parametersJsonSchema: WEATHER_PARAMETERS }] },
    ]);
    expect(upstream.toolConfig).toBeUndefined();
  });

  test("parallel calls, non-stream: both calls in order, only the first (the one Gemini signed) carries a signature", async () => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "tool_call", calls: PARALLEL_CALLS });

    const completion = await client.chat.completions.create({ model: proxyModel(GEMINI_3), messages: [USER_MESSAGE], tools: [WEATHER_TOOL, TIME_TOOL] });

    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(calledFunctions(choice.message.tool_calls)).toEqual(PARALLEL_CALLS);
    const [first, second] = choice.message.tool_calls! as any[];
    expect(first.id).toMatch(SIGNED_ID);
    expect(second.id).toMatch(PLAIN_ID);
    expect(onlyGenerateCall(mock).body.tools[0].functionDeclarations.map((d: any) => d.name)).toEqual(["weather", "time"]);
  });

  test.each([1, 2])("parallel calls streamed (%i per upstream event): deltas with index 0 and 1, finish_reason tool_calls, finalChatCompletion reassembles", async (callsPerEvent) => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "tool_call", calls: PARALLEL_CALLS, callsPerEvent });

    const stream = client.chat.completions.stream({ model: proxyModel(GEMINI_3), messages: [USER_MESSAGE], tools: [WEATHER_TOOL, TIME_TOOL] });
    const deltas: any[] = [];
    const finishes: string[] = [];
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        deltas.push(...(choice.delta.tool_calls ?? []));
        if (choice.finish_reason) finishes.push(choice.finish_reason);
      }
    }
    const final = await stream.finalChatCompletion();

    expect(deltas.map((delta) => delta.index)).toEqual([0, 1]);
    expect(deltas.map((delta) => delta.function.name)).toEqual(["weather", "time"]);
    expect(deltas[0].id).toMatch(SIGNED_ID);
    expect(deltas[1].id).toMatch(PLAIN_ID);
    expect(finishes).toEqual(["tool_calls"]);
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(calledFunctions(final.choices[0]!.message.tool_calls)).toEqual(PARALLEL_CALLS);
    expect(final.choices[0]!.message.tool_calls!.map((call) => call.id)).toEqual(deltas.map((delta) => delta.id));
    expect(onlyGenerateCall(mock).stream).toBe(true);
  });

  test.each([
    ["required", "required" as const, { mode: "ANY" }],
    ["none", "none" as const, { mode: "NONE" }],
    ["auto", "auto" as const, { mode: "AUTO" }],
    ["a specific function", { type: "function" as const, function: { name: "time" } }, { mode: "ANY", allowedFunctionNames: ["time"] }],
  ])("tool_choice %s → the matching functionCallingConfig", async (_name, toolChoice, config) => {
    const { mock, client } = await start();

    await client.chat.completions.create({ model: proxyModel(FLASH), messages: [USER_MESSAGE], tools: [WEATHER_TOOL, TIME_TOOL], tool_choice: toolChoice });

    expect(onlyGenerateCall(mock).body.toolConfig).toEqual({ functionCallingConfig: config });
  });

  test("a strict OpenAI tool schema reaches Gemini as parametersJsonSchema without $schema or strict", async () => {
    const { mock, client } = await start();
    const schema = {
      type: "object",
      properties: {
        location: { type: "string", description: "City name" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
      },
      required: ["location", "unit"],
      additionalProperties: false,
    };

    await client.chat.completions.create({
      model: proxyModel(FLASH),
      messages: [USER_MESSAGE],
      tools: [
        {
          type: "function",
          function: { name: "weather", description: "Current weather", strict: true, parameters: { $schema: "http://json-schema.org/draft-07/schema#", ...schema } },
        },
      ],
    });

    const declarations = onlyGenerateCall(mock).body.tools[0].functionDeclarations;
    expect(declarations).toEqual([{ name: "weather", description: "Current weather", parametersJsonSchema: schema }]);
    expect(JSON.stringify(onlyGenerateCall(mock).body)).not.toContain("$schema");
  });
});

describe("multi-turn tool use with thought signatures", () => {
  test.each([
    ["whole", false],
    ["streamed", true],
  ])("turn 1 %s: the ids the proxy returned bring the ORIGINAL thoughtSignature back to Gemini, with functionResponses by name", async (_name, streamed) => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "tool_call", calls: PARALLEL_CALLS });
    const tools = [WEATHER_TOOL, TIME_TOOL];

    // Turn 1: Gemini 3 calls two functions; the proxy hands out ids.
    const turn1 = streamed
      ? await client.chat.completions.stream({ model: proxyModel(GEMINI_3), messages: [USER_MESSAGE], tools }).finalChatCompletion()
      : await client.chat.completions.create({ model: proxyModel(GEMINI_3), messages: [USER_MESSAGE], tools });
    const assistant = turn1.choices[0]!.message;
    const toolCalls = assistant.tool_calls! as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall[];
    expect(toolCalls).toHaveLength(2);

    // Turn 2: the client sends the history back the way OpenAI clients do.
    mock.setDefault({ kind: "text", text: "It is 21 °C and 14:05 in Paris." });
    const turn2 = await client.chat.completions.create({
      model: proxyModel(GEMINI_3),
      tools,
      messages: [
        USER_MESSAGE,
        { role: "assistant", content: null, tool_calls: toolCalls.map(({ id, type, function: fn }) => ({ id, type, function: fn })) },
        { role: "tool", tool_call_id: toolCalls[0]!.id, content: '{"temp_c": 21}' },
        { role: "tool", tool_call_id: toolCalls[1]!.id, content: "14:05" },
      ],
    });
    expect(turn2.choices[0]!.message.content).toBe("It is 21 °C and 14:05 in Paris.");

    const calls = mock.calls.filter((call) => call.model === GEMINI_3);
    expect(calls).toHaveLength(2);
    const contents = calls[1]!.body.contents;
    expect(contents).toHaveLength(3);
    expect(contents[0]).toEqual({ role: "user", parts: [{ text: USER_MESSAGE.content }] });
    expect(contents[1]).toEqual({
      role: "model",
      parts: [
        { functionCall: { name: "weather", args: { location: "Paris" } }, thoughtSignature: DEFAULT_SIGNATURE },
        { functionCall: { name: "time", args: { tz: "Europe/Paris" } } },
      ],
    });
    expect(contents[2].role).toBe("user");
    const responses = contents[2].parts.map((part: any) => part.functionResponse);
    expect(responses.map((response: any) => response?.name)).toEqual(["weather", "time"]);
    expect(JSON.stringify(responses[0].response)).toContain("21");
    expect(JSON.stringify(responses[1].response)).toContain("14:05");
  });

  test("ids the client invented itself (no signature) on Gemini 3: the first call gets skip_thought_signature_validator", async () => {
    const { mock, client } = await start();

    await client.chat.completions.create({
      model: proxyModel(GEMINI_3),
      tools: [WEATHER_TOOL, TIME_TOOL],
      messages: [
        USER_MESSAGE,
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_abc123", type: "function", function: { name: "weather", arguments: '{"location":"Paris"}' } },
            { id: "toolu_01XYZ", type: "function", function: { name: "time", arguments: '{"tz":"Europe/Paris"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_abc123", content: "21 °C" },
        { role: "tool", tool_call_id: "toolu_01XYZ", content: "14:05" },
      ],
    });

    const model = onlyGenerateCall(mock).body.contents[1];
    expect(model.role).toBe("model");
    expect(model.parts[0]).toEqual({ functionCall: { name: "weather", args: { location: "Paris" } }, thoughtSignature: "skip_thought_signature_validator" });
    expect(model.parts[1].functionCall).toEqual({ name: "time", args: { tz: "Europe/Paris" } });
    const responses = onlyGenerateCall(mock).body.contents[2].parts.map((part: any) => part.functionResponse.name);
    expect(responses).toEqual(["weather", "time"]);
  });
});

describe("JSON output", () => {
  test("response_format json_schema → responseMimeType application/json + responseJsonSchema (cleaned); the JSON comes back as content", async () => {
    const { mock, client } = await start();
    const answer = '{"city":"Paris","population":2102650}';
    mock.setDefault({ kind: "text", text: answer });
    const schema = {
      type: "object",
      properties: { city: { type: "string" }, population: { type: "integer", minimum: 0 } },
      required: ["city", "population"],
      additionalProperties: false,
    };

    const completion = await client.chat.completions.create({
      model: proxyModel(FLASH),
      messages: [USER_MESSAGE],
      response_format: { type: "json_schema", json_schema: { name: "city", strict: true, schema: { $schema: "https://json-schema.org/draft/2020-12/schema", ...schema } } },
    });

    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ city: "Paris", population: 2102650 });
    const config = onlyGenerateCall(mock).body.generationConfig;
    expect(config.responseMimeType).toBe("application/json");
    expect(config.responseJsonSchema).toEqual(schema);
  });

  test("response_format json_object → responseMimeType application/json and no schema", async () => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "text", text: '{"ok":true}' });

    const completion = await client.chat.completions.create({ model: proxyModel(FLASH), messages: [USER_MESSAGE], response_format: { type: "json_object" } });

    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ ok: true });
    const config = onlyGenerateCall(mock).body.generationConfig;
    expect(config.responseMimeType).toBe("application/json");
    expect(config.responseJsonSchema).toBeUndefined();
  });
});

describe("images", () => {
  const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

  test.each([
    ["a data URL", `data:image/png;base64,${PNG_BASE64}`, { inlineData: { mimeType: "image/png", data: PNG_BASE64 } }],
    ["an https URL", "https://example.com/photos/cat.jpg", { fileData: { fileUri: "https://example.com/photos/cat.jpg", mimeType: "image/jpeg" } }],
  ])("%s image → the matching Gemini part (inlineData / fileData) next to the text", async (_name, url, part) => {
    const { mock, client } = await start();

    await client.chat.completions.create({
      model: proxyModel(FLASH),
      messages: [{ role: "user", content: [{ type: "text", text: "What is in this image?" }, { type: "image_url", image_url: { url } }] }],
    });

    expect(onlyGenerateCall(mock).body.contents).toEqual([{ role: "user", parts: [{ text: "What is in this image?" }, part] }]);
  });
});

describe("recorded Google answers, replayed", () => {
  /** The Gemini responses of a recorded answer: one per stream event, or the single body. */
  function recordedEvents(file: string): any[] {
    if (file.endsWith(".sse.txt")) return readSseJson(file);
    if (file.endsWith(".chunks.txt")) return readFixtureText(file).split(/\r?\n/).filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
    return [readFixtureJson(file)];
  }

  /** What an OpenAI client should see for a recorded answer, read straight off Google's parts and usage. */
  function expectedAnswer(file: string) {
    const events = recordedEvents(file);
    let content = "";
    let reasoning = "";
    const calls: { name: string; args: unknown; signature?: string }[] = [];
    let usage: any;
    for (const event of events) {
      for (const part of event.candidates?.[0]?.content?.parts ?? []) {
        if (part.functionCall) calls.push({ name: part.functionCall.name, args: part.functionCall.args ?? {}, signature: part.thoughtSignature });
        else if (part.thought) reasoning += part.text;
        else content += part.text ?? "";
      }
      usage = event.usageMetadata ?? usage;
    }
    const thoughts = usage?.thoughtsTokenCount ?? 0;
    return {
      content,
      reasoning,
      calls,
      usage: usage && {
        prompt_tokens: usage.promptTokenCount,
        completion_tokens: (usage.candidatesTokenCount ?? 0) + thoughts,
        total_tokens: usage.totalTokenCount,
        completion_tokens_details: { reasoning_tokens: thoughts },
      },
    };
  }

  test.each([
    "google/stream-basic.sse.txt",
    "google/text-gemini3.chunks.txt",
    "google/stream-thought-summaries-include-thoughts.sse.txt",
    "google/stream-thought-parts-gemma4.chunks.txt",
  ])("stream %s: the client gets exactly the recorded answer and thoughts, finish_reason stop, the final usage", async (file) => {
    const { mock, proxy } = await start();
    mock.setDefault({ kind: "fixture", file });
    const expected = expectedAnswer(file);

    const { payloads } = await readClientStream(await postChat(proxy, { stream: true, stream_options: { include_usage: true } }));

    expect(contentPieces(payloads).join("")).toBe(expected.content);
    expect(reasoningPieces(payloads).join("")).toBe(expected.reasoning);
    expect(finishReasons(payloads)).toEqual(["stop"]);
    expect(payloads.at(-1).usage).toMatchObject(expected.usage);
  });

  test.each([
    ["google/thinking-parts-include-thoughts.json", GEMINI_3],
    ["google/usage-cached-content.json", FLASH],
  ])("non-stream %s: content, reasoning_content and usage as recorded", async (file, model) => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "fixture", file });
    const expected = expectedAnswer(file);

    const completion = await client.chat.completions.create({ model: proxyModel(model), messages: [USER_MESSAGE] });

    const message = completion.choices[0]!.message as any;
    expect(message.content).toBe(expected.content);
    expect(message.reasoning_content ?? "").toBe(expected.reasoning);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.usage).toMatchObject(expected.usage);
    const cached = readFixtureJson(file).usageMetadata.cachedContentTokenCount ?? 0;
    expect(completion.usage!.prompt_tokens_details?.cached_tokens ?? 0).toBe(cached);
  });

  test("non-stream google/vertex-parallel-function-calls.json: three calls with distinct ids, finish_reason tool_calls", async () => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "fixture", file: "google/vertex-parallel-function-calls.json" });

    const completion = await client.chat.completions.create({ model: proxyModel(FLASH), messages: [USER_MESSAGE] });

    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(calledFunctions(choice.message.tool_calls)).toEqual(expectedAnswer("google/vertex-parallel-function-calls.json").calls.map(({ name, args }) => ({ name, args })));
    expect(new Set(choice.message.tool_calls!.map((call) => call.id)).size).toBe(3);
  });

  test.each(["google/stream-tool-call-thought-signature.sse.txt", "google/stream-thinking-function-call-thought-signature.sse.txt"])(
    "stream %s: the recorded call comes out whole, and its recorded signature goes back to Gemini on the next turn",
    async (file) => {
      const { mock, client } = await start();
      mock.setDefault({ kind: "fixture", file });
      const expected = expectedAnswer(file);
      expect(expected.calls).toHaveLength(1);

      const turn1 = await client.chat.completions.stream({ model: proxyModel(GEMINI_3), messages: [USER_MESSAGE], tools: [WEATHER_TOOL] }).finalChatCompletion();
      const message = turn1.choices[0]!.message as any;
      expect(turn1.choices[0]!.finish_reason).toBe("tool_calls");
      expect(calledFunctions(message.tool_calls)).toEqual([{ name: expected.calls[0]!.name, args: expected.calls[0]!.args }]);
      expect(message.tool_calls[0].id).toMatch(SIGNED_ID);

      mock.setDefault({ kind: "text" });
      await client.chat.completions.create({
        model: proxyModel(GEMINI_3),
        tools: [WEATHER_TOOL],
        messages: [
          USER_MESSAGE,
          { role: "assistant", content: null, tool_calls: message.tool_calls },
          { role: "tool", tool_call_id: message.tool_calls[0].id, content: "done" },
        ],
      });
      const modelTurn = mock.calls.at(-1)!.body.contents[1];
      expect(modelTurn.parts).toEqual([{ functionCall: { name: expected.calls[0]!.name, args: expected.calls[0]!.args }, thoughtSignature: expected.calls[0]!.signature }]);
    },
  );
});
