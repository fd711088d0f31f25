/**
 * Claude Code 2.1.332's recorded request, through every translation step a `/v1/messages` request
 * for a non-Anthropic model takes: the schema, the canonical OpenAI request, the clean-up for
 * OpenAI-compatible hosts, and the Gemini and Anthropic adapters that read the canonical form.
 * The request's `role: "system"` message (its environment block, the last message) is the case
 * that earned every Claude Code ≥ 2.1.154 a 400 before.
 */

import { describe, expect, test } from "bun:test";
import { convertMessagesToOpenAI } from "../../../src/formats/anthropic/convert-messages-to-openai.ts";
import { messagesRequestSchema } from "../../../src/formats/anthropic/messages-schema.ts";
import { stripAnthropicExtras } from "../../../src/formats/anthropic/strip-anthropic-extras.ts";
import type { AnthropicRequest } from "../../../src/formats/anthropic/types.ts";
import { chatRequestSchema } from "../../../src/formats/openai-requests.ts";
import { convertToAnthropicRequest } from "../../../src/providers/anthropic/convert-to-anthropic-request.ts";
import { createThinkingMemory } from "../../../src/providers/anthropic/thinking-memory.ts";
import { convertToGeminiRequest } from "../../../src/providers/gemini/convert-to-gemini-request.ts";
import { jsonKeysDeep } from "../../e2e/anthropic-helpers.ts";
import { readClaudeCodeRequest } from "./claude-code-request.ts";

const recorded = readClaudeCodeRequest().body;

/** The recorded body as the route reads it, with `model` swapped in. */
function parsed(model = "openai/gpt-4o-mini"): AnthropicRequest {
  return messagesRequestSchema.parse({ ...readClaudeCodeRequest().body, model }) as AnthropicRequest;
}

function canonical(model?: string) {
  const chat = convertMessagesToOpenAI(parsed(model));
  expect(chatRequestSchema.safeParse(chat).success).toBe(true);
  return chat;
}

/** The recorded content as the canonical form keeps it: text parts, `cache_control` included. */
const asParts = (blocks: { type: string; text: string; cache_control?: unknown }[]) =>
  blocks.map((block) => (block.cache_control === undefined ? { type: "text", text: block.text } : { type: "text", text: block.text, cache_control: block.cache_control }));

describe("the recording itself", () => {
  test("is the shape this suite is about: [user, system] messages, adaptive omitted thinking, a deferred tool", () => {
    expect(recorded.messages.map((message: { role: string }) => message.role)).toEqual(["user", "system"]);
    expect(recorded.thinking).toEqual({ type: "adaptive", display: "omitted" });
    expect(recorded.output_config).toEqual({ effort: "high" });
    expect(recorded.tools.filter((tool: { defer_loading?: boolean }) => tool.defer_loading === true).map((tool: { name: string }) => tool.name)).toEqual(["DeferredToolPlaceholder"]);
  });
});

describe("schema", () => {
  test("accepts the recorded body and keeps every field of it", () => {
    const result = messagesRequestSchema.safeParse(recorded);
    expect(result.error?.issues).toBeUndefined();
    expect<unknown>(result.data).toEqual(recorded);
  });
});

describe("canonical OpenAI request", () => {
  test("the system message stays at its place, after the top-level system and the user turn", () => {
    const { messages } = canonical();
    expect(messages).toEqual([
      { role: "system", content: asParts(recorded.system) },
      { role: "user", content: asParts(recorded.messages[0].content) },
      { role: "system", content: asParts(recorded.messages[1].content) },
    ]);
    expect((messages[2]!.content as { text: string }[])[0]!.text).toStartWith("# Environment\n");
  });

  test("a system message in the middle, as a string, stays in the middle; an empty one vanishes", () => {
    const request = messagesRequestSchema.parse({
      model: "openai/gpt-4o-mini",
      max_tokens: 100,
      messages: [
        { role: "user", content: "one" },
        { role: "system", content: "Be brief from now on." },
        { role: "assistant", content: "ok" },
        { role: "system", content: "" },
        { role: "user", content: "two" },
      ],
    }) as AnthropicRequest;
    expect(convertMessagesToOpenAI(request).messages).toEqual([
      { role: "user", content: "one" },
      { role: "system", content: "Be brief from now on." },
      { role: "assistant", content: "ok" },
      { role: "user", content: "two" },
    ]);
  });

  test("effort high, the thinking object kept for the adapters, user hashed, the deferred placeholder left out, Claude Code's other fields not forwarded", () => {
    const chat = canonical();
    expect(chat.reasoning_effort).toBe("high");
    expect(chat.thinking).toEqual({ type: "adaptive", display: "omitted" });
    // sha256 of the recorded metadata.user_id (a 150-character JSON text), its first 32 hex digits.
    expect(chat.user).toBe("ce4c10aeb7c986252d46c9831eb00d2d");
    expect(chat.max_tokens).toBe(32000);
    expect(chat.stream).toBe(true);
    const names = (chat.tools ?? []).map((tool) => (tool.function as { name: string }).name);
    expect(names).toEqual(["Agent", "Bash", "Edit", "ListAgents", "Read", "ReportFindings", "ScheduleWakeup", "Skill", "ToolSearch", "Workflow", "Write"]);
    expect(Object.keys(chat).sort()).toEqual(["max_tokens", "messages", "model", "reasoning_effort", "stream", "stream_options", "thinking", "tools", "user"]);
    const keys = jsonKeysDeep(chat.tools);
    for (const field of ["defer_loading", "eager_input_streaming", "cache_control"]) expect(keys.has(field)).toBe(false);
  });
});

describe("for an OpenAI-compatible host", () => {
  test("nothing Anthropic-only is left, the system message keeps its place, reasoning_effort stays", () => {
    const chat = stripAnthropicExtras(canonical(), { keepReasoning: false });
    const keys = jsonKeysDeep(chat);
    for (const field of ["thinking", "cache_control", "defer_loading", "context_management", "output_config", "metadata", "top_k"]) expect(keys.has(field)).toBe(false);
    expect(chat.messages.map((message) => message.role)).toEqual(["system", "user", "system"]);
    expect(chat.messages[2]).toEqual({ role: "system", content: recorded.messages[1].content.map((block: { text: string }) => ({ type: "text", text: block.text })) });
    expect(chat.reasoning_effort).toBe("high");
  });
});

describe("for Gemini", () => {
  test("both system texts go to systemInstruction in order, the user turn is the only content, effort high is the 24576 budget", () => {
    const request = convertToGeminiRequest(canonical("gemini/gemini-2.5-flash"), "gemini-2.5-flash");
    const systemTexts = [...recorded.system, ...recorded.messages[1].content].map((block: { text: string }) => block.text);
    expect(request.systemInstruction).toEqual({ parts: systemTexts.map((text: string) => ({ text })) });
    expect(request.contents).toEqual([{ role: "user", parts: recorded.messages[0].content.map((block: { text: string }) => ({ text: block.text })) }]);
    expect(request.generationConfig?.thinkingConfig).toEqual({ thinkingBudget: 24576, includeThoughts: true });
    expect(JSON.stringify(request.tools)).not.toContain("DeferredToolPlaceholder");
  });
});

describe("for Anthropic via the canonical form", () => {
  test("the system message (last) joins the top-level system; the user turn is the only message", () => {
    const request = convertToAnthropicRequest(canonical("anthropic/claude-sonnet-4-5"), "claude-sonnet-4-5", createThinkingMemory());
    expect(request.system).toEqual([...recorded.system, ...recorded.messages[1].content]);
    expect(request.messages).toEqual([{ role: "user", content: recorded.messages[0].content }]);
  });
});
