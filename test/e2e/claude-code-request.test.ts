/**
 * Claude Code 2.1.332's recorded first request, replayed byte for byte against the real server —
 * path `/v1/messages?beta=true`, its headers (`anthropic-beta` list included), its body with the
 * `role: "system"` environment message last — with `model` set to a Gemini, an OpenAI-compatible
 * and an Anthropic model, streamed (as recorded) and not. Each answer must be a 200 in Anthropic's
 * format, and each upstream must have received its own form of the request:
 *
 * - OpenAI-compatible: the system message at its place, `reasoning_effort: "high"`, and none of
 *   `thinking`, `context_management`, `output_config`, `metadata`, `cache_control`, `defer_loading`;
 * - Gemini: both system texts in `systemInstruction`, the user turn alone in `contents`;
 * - Anthropic: the client's body untouched, with `?beta=true` and the `anthropic-beta` header.
 *
 * The request asks for `thinking.display: "omitted"`, so no thought the provider returns may reach
 * the client on the translated paths.
 */

import { describe, expect, test } from "bun:test";
import { opaqueUser } from "../../src/formats/anthropic/convert-messages-to-openai.ts";
import { readClaudeCodeRequest } from "../unit/anthropic-route/claude-code-request.ts";
import { ANTHROPIC_CASE, CLAUDE, CLAUDE_MODEL, FLASH_MODEL, GEMINI_CASE, GEMINI_KEY, GPT, GPT_MODEL, OPENAI_CASE, comparableContent, expectMessageGrammar, jsonKeysDeep, onlyCall, readMessageEvents, scriptAnthropic, streamedText, useAnthropicRig, type AnthropicRig } from "./anthropic-helpers.ts";

const start = useAnthropicRig();

const ANSWER = "The capital of France is Paris.";
const THOUGHTS = "The user asks a geography question; recall the capital.";

const recorded = readClaudeCodeRequest();
const SYSTEM_BLOCKS: { type: "text"; text: string; cache_control?: unknown }[] = recorded.body.system;
const USER_BLOCKS: { type: "text"; text: string }[] = recorded.body.messages[0].content;
const ENVIRONMENT_BLOCKS: { type: "text"; text: string; cache_control?: unknown }[] = recorded.body.messages[1].content;

/** The recorded request with another model and stream flag, sent the way Claude Code sent it. */
function replay(rig: AnthropicRig, model: string, stream: boolean): Promise<Response> {
  const { method, path, headers, body } = readClaudeCodeRequest();
  return rig.proxy.request(path, { method, headers, body: JSON.stringify({ ...body, model, stream }) });
}

/** A whole answer: 200, JSON, an Anthropic message. */
async function readMessage(response: Response): Promise<{ text: string; message: any }> {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("application/json");
  const text = await response.text();
  const message = JSON.parse(text);
  expect(message).toMatchObject({ type: "message", role: "assistant" });
  expect(message.id).toMatch(/^msg_/);
  return { text, message };
}

test("the recorded request is Claude Code's beta call with the system message last", () => {
  expect(recorded.path).toBe("/v1/messages?beta=true");
  expect(recorded.headers["anthropic-beta"]).toContain("context-management-2025-06-27");
  expect(recorded.body.messages.map((message: { role: string }) => message.role)).toEqual(["user", "system"]);
  expect(recorded.body.thinking).toEqual({ type: "adaptive", display: "omitted" });
});

describe(`gemini: ${FLASH_MODEL}`, () => {
  const scriptThinkingAnswer = (rig: AnthropicRig) => rig.gemini.script(GEMINI_KEY, { kind: "text", text: ANSWER, thoughts: THOUGHTS });

  function expectGeminiBody(body: any): void {
    expect(body.systemInstruction).toEqual({ parts: [...SYSTEM_BLOCKS, ...ENVIRONMENT_BLOCKS].map((block) => ({ text: block.text })) });
    expect(body.contents).toEqual([{ role: "user", parts: USER_BLOCKS.map((block) => ({ text: block.text })) }]);
    // effort "high" on a budget model: Google's own 24576 tokens.
    expect(body.generationConfig.thinkingConfig).toEqual({ thinkingBudget: 24576, includeThoughts: true });
    expect(body.generationConfig.maxOutputTokens).toBe(32000);
    const keys = jsonKeysDeep(body);
    for (const field of ["thinking", "context_management", "output_config", "metadata", "cache_control", "defer_loading"]) expect(keys.has(field)).toBe(false);
    expect(JSON.stringify(body.tools)).not.toContain("DeferredToolPlaceholder");
  }

  test("stream (as recorded): 200, one text block, no thinking; systemInstruction holds the environment block", async () => {
    const rig = await start();
    scriptThinkingAnswer(rig);
    const { text, events } = await readMessageEvents(await replay(rig, FLASH_MODEL, true));
    expect(expectMessageGrammar(events)).toEqual(["text"]);
    expect(streamedText(events)).toBe(ANSWER);
    expect(events[0]!.data.message.model).toBe(FLASH_MODEL);
    expect(events.at(-2)!.data.delta.stop_reason).toBe("end_turn");
    expect(text).not.toContain(THOUGHTS);
    expect(text).not.toContain("thinking");

    const call = onlyCall(rig, GEMINI_CASE);
    expect(call.stream).toBe(true);
    expectGeminiBody(call.body);
  });

  test("non-stream: 200, the text alone, no thinking block", async () => {
    const rig = await start();
    scriptThinkingAnswer(rig);
    const { text, message } = await readMessage(await replay(rig, FLASH_MODEL, false));
    expect(message.content).toEqual([{ type: "text", text: ANSWER }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(text).not.toContain(THOUGHTS);

    const call = onlyCall(rig, GEMINI_CASE);
    expect(call.stream).toBe(false);
    expectGeminiBody(call.body);
  });
});

describe(`openai-compatible: ${GPT_MODEL}`, () => {
  function expectOpenAIBody(body: any, stream: boolean): void {
    expect(body.model).toBe(GPT);
    expect(body.messages).toEqual([
      { role: "system", content: SYSTEM_BLOCKS.map((block) => ({ type: "text", text: block.text })) },
      { role: "user", content: USER_BLOCKS.map((block) => ({ type: "text", text: block.text })) },
      { role: "system", content: ENVIRONMENT_BLOCKS.map((block) => ({ type: "text", text: block.text })) },
    ]);
    expect(body.reasoning_effort).toBe("high");
    expect(body.max_tokens).toBe(32000);
    expect(body.user).toBe(opaqueUser(recorded.body.metadata.user_id));
    expect(body.user).toHaveLength(32);
    expect(body.stream === true).toBe(stream);
    expect(body.tools.map((tool: any) => tool.function.name)).toEqual(["Agent", "Bash", "Edit", "ListAgents", "Read", "ReportFindings", "ScheduleWakeup", "Skill", "ToolSearch", "Workflow", "Write"]);
    const keys = jsonKeysDeep(body);
    for (const field of ["thinking", "context_management", "output_config", "metadata", "cache_control", "defer_loading", "eager_input_streaming", "top_k"]) expect(keys.has(field)).toBe(false);
  }

  test("stream (as recorded): 200 in Anthropic's events; the system message arrives at its place", async () => {
    const rig = await start();
    OPENAI_CASE.scriptText(rig, ANSWER);
    const { events } = await readMessageEvents(await replay(rig, GPT_MODEL, true));
    expect(expectMessageGrammar(events)).toEqual(["text"]);
    expect(streamedText(events)).toBe(ANSWER);
    expectOpenAIBody(onlyCall(rig, OPENAI_CASE).body, true);
  });

  test("non-stream: 200, an Anthropic message; the same upstream body", async () => {
    const rig = await start();
    OPENAI_CASE.scriptText(rig, ANSWER);
    const { message } = await readMessage(await replay(rig, GPT_MODEL, false));
    expect(message.content).toEqual([{ type: "text", text: ANSWER }]);
    expectOpenAIBody(onlyCall(rig, OPENAI_CASE).body, false);
  });
});

describe(`anthropic (native): ${CLAUDE_MODEL}`, () => {
  function expectUntouched(rig: AnthropicRig, stream: boolean): void {
    const call = onlyCall(rig, ANTHROPIC_CASE);
    expect(call.body).toEqual({ ...recorded.body, model: CLAUDE, stream });
    const [raw] = rig.anthropic.calls.filter((entry) => entry.path === "/v1/messages");
    expect(raw!.query).toBe("?beta=true");
    expect(raw!.anthropicBeta).toBe(recorded.headers["anthropic-beta"]!);
    expect(raw!.anthropicVersion).toBe("2023-06-01");
  }

  test("stream (as recorded): the body, ?beta=true and anthropic-beta reach Anthropic as sent; the answer streams back", async () => {
    const rig = await start();
    scriptAnthropic(rig, { kind: "text", text: ANSWER });
    const { events } = await readMessageEvents(await replay(rig, CLAUDE_MODEL, true));
    expect(expectMessageGrammar(events)).toEqual(["text"]);
    expect(streamedText(events)).toBe(ANSWER);
    expectUntouched(rig, true);
  });

  test("non-stream: the same untouched body; Anthropic's message comes back", async () => {
    const rig = await start();
    scriptAnthropic(rig, { kind: "text", text: ANSWER });
    const { message } = await readMessage(await replay(rig, CLAUDE_MODEL, false));
    expect(comparableContent(message.content)).toEqual([{ type: "text", text: ANSWER }]);
    expectUntouched(rig, false);
  });
});

describe("count_tokens", () => {
  test("the recorded body (system message last) is counted, not refused: a local estimate for an OpenAI-compatible model", async () => {
    const rig = await start();
    const { headers, body } = readClaudeCodeRequest();
    const response = await rig.proxy.request("/v1/messages/count_tokens?beta=true", { method: "POST", headers, body: JSON.stringify({ ...body, model: GPT_MODEL }) });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-token-count")).toBe("estimate");
    const { input_tokens } = (await response.json()) as { input_tokens: number };
    // The system prompt, the environment block and eleven tool schemas: thousands of tokens.
    expect(input_tokens).toBeGreaterThan(2000);
  });
});
