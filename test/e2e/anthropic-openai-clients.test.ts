/**
 * Anthropic as a native provider for OpenAI clients: the real `openai` SDK asks for
 * `anthropic/<model>` on `/v1/chat/completions`, and the scripted Anthropic mock receives a Messages
 * API body. Each test checks what the OpenAI client sees and what reached Anthropic.
 *
 * - text, whole and streamed (one `[DONE]`, usage only when asked for);
 * - parallel tool_use → `tool_calls` with indexes 0 and 1, whole and streamed;
 * - `reasoning_effort` → `thinking.budget_tokens` (with max_tokens above the budget), and the
 *   thinking coming back as `reasoning_content`;
 * - a multi-turn tool loop with thinking: the second request carries the first answer's thinking
 *   block, exact signature included, before its tool_use — though the OpenAI client never saw it;
 * - embeddings are refused with a 400 naming Anthropic; `/v1/models` lists every Anthropic model
 *   across the API's pages.
 */

import { describe, expect, test } from "bun:test";
import type OpenAI from "openai";
import { DEFAULT_MODELS, DEFAULT_SIGNATURE, DEFAULT_THINKING } from "../support/mock-anthropic.ts";
import { CLAUDE, CLAUDE_MODEL, anthropicMessageCalls, scriptAnthropic, useAnthropicRig, type AnthropicRig } from "./anthropic-helpers.ts";
import { contentPieces, finishReasons, parseClientStream, reasoningPieces } from "./gemini-helpers.ts";

const start = useAnthropicRig();

type Messages = OpenAI.Chat.Completions.ChatCompletionMessageParam[];

const ANSWER = "Bonjour! How can I help?";
const MESSAGES: Messages = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "Say hello." },
];
const WEATHER_TOOL: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: "function",
  function: { name: "get_weather", description: "The current weather in a city.", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};
const TWO_CITIES = [
  { name: "get_weather", input: { city: "Paris" } },
  { name: "get_weather", input: { city: "Tokyo" } },
];

/** The single /v1/messages call of a test. */
function onlyMessagesCall(rig: AnthropicRig) {
  const calls = anthropicMessageCalls(rig.anthropic);
  expect(calls).toHaveLength(1);
  return calls[0]!;
}

/** A streamed chat through the real SDK, collected as the SSE chunks the client got. */
async function streamChunks(rig: AnthropicRig, body: Omit<OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming, "stream">) {
  const { response } = await rig.openaiClient.chat.completions.create({ ...body, stream: true }).withResponse();
  return parseClientStream(await response.text()).payloads;
}

describe("text", () => {
  test("a non-stream chat becomes a Messages request, and the answer an OpenAI completion", async () => {
    const rig = await start();
    rig.anthropic.setDefault({ kind: "text", text: ANSWER, usage: { input: 12, output: 7, cacheRead: 3 } });
    const completion = await rig.openaiClient.chat.completions.create({ model: CLAUDE_MODEL, messages: MESSAGES });

    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]!.message.content).toBe(ANSWER);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    // Anthropic counts cache reads apart from input_tokens; OpenAI's prompt_tokens includes them.
    expect(completion.usage).toMatchObject({ prompt_tokens: 15, completion_tokens: 7, total_tokens: 22, prompt_tokens_details: { cached_tokens: 3 } });

    const call = onlyMessagesCall(rig);
    expect(call.stream).toBe(false);
    expect(call.body.model).toBe(CLAUDE);
    expect(call.body.system).toEqual([{ type: "text", text: "You are terse." }]);
    expect(call.body.messages).toEqual([{ role: "user", content: [{ type: "text", text: "Say hello." }] }]);
    expect(call.body.max_tokens).toBe(8192);
    expect(call.anthropicVersion).toBe("2023-06-01");
    expect(rig.anthropicKeys).toContain(call.key);
  });

  test("a streamed chat carries the text in content deltas, one finish reason and one [DONE]", async () => {
    const rig = await start();
    rig.anthropic.setDefault({ kind: "text", text: ANSWER, usage: { input: 12, output: 7 } });
    const payloads = await streamChunks(rig, { model: CLAUDE_MODEL, messages: MESSAGES, stream_options: { include_usage: true } });

    expect(contentPieces(payloads).join("")).toBe(ANSWER);
    expect(contentPieces(payloads).length).toBeGreaterThan(1);
    expect(finishReasons(payloads)).toEqual(["stop"]);
    const usage = payloads.filter((payload) => payload.usage).at(-1)!.usage;
    expect(usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 7 });
    expect(onlyMessagesCall(rig).stream).toBe(true);
  });

  test("without include_usage the stream has no usage chunk", async () => {
    const rig = await start();
    const payloads = await streamChunks(rig, { model: CLAUDE_MODEL, messages: MESSAGES });
    expect(payloads.filter((payload) => payload.usage)).toHaveLength(0);
  });
});

describe("tools", () => {
  test("parallel tool_use blocks become two tool_calls with Anthropic's ids", async () => {
    const rig = await start();
    rig.anthropic.setDefault({ kind: "tool_use", calls: TWO_CITIES });
    const completion = await rig.openaiClient.chat.completions.create({ model: CLAUDE_MODEL, messages: MESSAGES, tools: [WEATHER_TOOL] });

    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const calls = choice.message.tool_calls as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall[];
    expect(calls.map((call) => [call.type, call.function.name, JSON.parse(call.function.arguments)])).toEqual([
      ["function", "get_weather", { city: "Paris" }],
      ["function", "get_weather", { city: "Tokyo" }],
    ]);
    for (const call of calls) expect(call.id).toMatch(/^toolu_/);
    expect(new Set(calls.map((call) => call.id)).size).toBe(2);

    expect(onlyMessagesCall(rig).body.tools).toEqual([
      { name: "get_weather", description: "The current weather in a city.", input_schema: WEATHER_TOOL.function.parameters },
    ]);
  });

  test("streamed parallel tool calls arrive with index 0 and 1, their arguments reassembling the inputs", async () => {
    const rig = await start();
    rig.anthropic.setDefault({ kind: "tool_use", calls: TWO_CITIES });
    const payloads = await streamChunks(rig, { model: CLAUDE_MODEL, messages: MESSAGES, tools: [WEATHER_TOOL], parallel_tool_calls: false });

    const deltas = payloads.flatMap((payload) => payload.choices?.[0]?.delta?.tool_calls ?? []);
    expect([...new Set(deltas.map((delta: any) => delta.index))]).toEqual([0, 1]);
    const byIndex = [0, 1].map((index) => deltas.filter((delta: any) => delta.index === index));
    for (const [index, city] of [
      [0, "Paris"],
      [1, "Tokyo"],
    ] as const) {
      const pieces = byIndex[index]!;
      expect(pieces[0].id).toMatch(/^toolu_/);
      expect(pieces[0].function.name).toBe("get_weather");
      expect(JSON.parse(pieces.map((piece: any) => piece.function?.arguments ?? "").join(""))).toEqual({ city });
    }
    expect(finishReasons(payloads)).toEqual(["tool_calls"]);
    // parallel_tool_calls: false has an Anthropic spelling.
    expect(onlyMessagesCall(rig).body.tool_choice).toEqual({ type: "auto", disable_parallel_tool_use: true });
  });
});

describe("thinking", () => {
  test("reasoning_effort low becomes a 2048-token thinking budget, with max_tokens raised above it", async () => {
    const rig = await start();
    rig.anthropic.setDefault({ kind: "thinking", text: ANSWER });
    const completion = await rig.openaiClient.chat.completions.create({
      model: CLAUDE_MODEL,
      messages: MESSAGES,
      reasoning_effort: "low",
      max_tokens: 1000,
      temperature: 0.3,
    });

    const message = completion.choices[0]!.message as OpenAI.Chat.Completions.ChatCompletionMessage & { reasoning_content?: string };
    expect(message.content).toBe(ANSWER);
    expect(message.reasoning_content).toBe(DEFAULT_THINKING);

    const body = onlyMessagesCall(rig).body;
    expect(body.thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
    expect(body.max_tokens).toBeGreaterThan(2048);
    // Anthropic refuses sampling changes with thinking on.
    expect(body).not.toHaveProperty("temperature");
    expect(body).not.toHaveProperty("reasoning_effort");
  });

  test("a streamed thinking answer comes back as reasoning_content deltas before the content", async () => {
    const rig = await start();
    rig.anthropic.setDefault({ kind: "thinking", text: ANSWER });
    const payloads = await streamChunks(rig, { model: CLAUDE_MODEL, messages: MESSAGES, reasoning_effort: "low" });

    expect(reasoningPieces(payloads).join("")).toBe(DEFAULT_THINKING);
    expect(contentPieces(payloads).join("")).toBe(ANSWER);
    const firstContent = payloads.findIndex((payload) => payload.choices?.[0]?.delta?.content);
    const lastReasoning = payloads.findLastIndex((payload) => payload.choices?.[0]?.delta?.reasoning_content);
    expect(lastReasoning).toBeLessThan(firstContent);
    expect(onlyMessagesCall(rig).body.thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
  });

  for (const streamed of [false, true]) {
    test(`a tool loop with thinking sends turn 1's signed thinking block back before its tool_use (turn 1 ${streamed ? "streamed" : "whole"})`, async () => {
      const rig = await start();
      scriptAnthropic(rig, { kind: "tool_use", calls: [{ name: "get_weather", input: { city: "Paris" } }], withThinking: true });
      const request = { model: CLAUDE_MODEL, messages: MESSAGES, tools: [WEATHER_TOOL], reasoning_effort: "low" as const };

      let toolCallId: string;
      let argumentsText: string;
      if (streamed) {
        const deltas = (await streamChunks(rig, request)).flatMap((payload) => payload.choices?.[0]?.delta?.tool_calls ?? []);
        toolCallId = deltas[0].id;
        argumentsText = deltas.map((delta: any) => delta.function?.arguments ?? "").join("");
      } else {
        const completion = await rig.openaiClient.chat.completions.create(request);
        const call = completion.choices[0]!.message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
        toolCallId = call.id;
        argumentsText = call.function.arguments;
      }

      scriptAnthropic(rig, { kind: "text", text: ANSWER });
      // Turn 2, as an OpenAI client sends it: no thinking, no signature, only the tool call.
      const turn2: Messages = [
        ...MESSAGES,
        { role: "assistant", content: null, tool_calls: [{ id: toolCallId, type: "function", function: { name: "get_weather", arguments: argumentsText } }] },
        { role: "tool", tool_call_id: toolCallId, content: "18 °C and sunny" },
      ];
      const second = await rig.openaiClient.chat.completions.create({ ...request, messages: turn2 });
      expect(second.choices[0]!.message.content).toBe(ANSWER);

      const calls = anthropicMessageCalls(rig.anthropic);
      expect(calls).toHaveLength(2);
      const body = calls[1]!.body;
      expect(body.thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
      expect(body.messages).toEqual([
        { role: "user", content: [{ type: "text", text: "Say hello." }] },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: DEFAULT_THINKING, signature: DEFAULT_SIGNATURE },
            { type: "tool_use", id: toolCallId, name: "get_weather", input: { city: "Paris" } },
          ],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: toolCallId, content: "18 °C and sunny" }] },
      ]);
    });
  }
});

describe("embeddings and models", () => {
  test("embeddings on an anthropic model are a 400 naming Anthropic, and nothing is sent upstream", async () => {
    const rig = await start();
    let failure: any;
    try {
      await rig.openaiClient.embeddings.create({ model: CLAUDE_MODEL, input: "hello" });
    } catch (error) {
      failure = error;
    }
    expect(failure?.status).toBe(400);
    expect(String(failure?.error?.message ?? failure?.message)).toContain("Anthropic");
    expect(rig.anthropic.calls).toHaveLength(0);
  });

  test("/v1/models lists every Anthropic model, following the API's pages", async () => {
    const rig = await start();
    const listed = await rig.openaiClient.models.list();
    const anthropicIds = listed.data.filter((model) => model.id.startsWith("anthropic/")).map((model) => model.id);

    expect(anthropicIds.sort()).toEqual(DEFAULT_MODELS.map((model) => `anthropic/${model.id}`).sort());
    // Five models at two per page: the proxy had to follow has_more / last_id.
    const pages = rig.anthropic.calls.filter((call) => call.path === "/v1/models");
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.slice(1).every((call) => call.query.includes("after_id="))).toBe(true);
    const owners = listed.data.filter((model) => model.id.startsWith("anthropic/")).map((model) => model.owned_by);
    expect(new Set(owners)).toEqual(new Set(["anthropic"]));
    // The other providers are listed beside them.
    expect(listed.data.some((model) => model.id.startsWith("gemini/"))).toBe(true);
    expect(listed.data.some((model) => model.id.startsWith("openai/"))).toBe(true);
  });
});
