/** OpenAI-shaped usage from recorded responses of several hosts → the engine's token counts. */

import { expect, test } from "bun:test";
import { readOpenAIUsage } from "../../../src/providers/openai/read-usage.ts";
import { readFixtureJson, readFixtureText, readSseJson } from "../../support/fixtures.ts";

const lastUsage = (lines: unknown[]): unknown => (lines as { usage?: unknown }[]).filter((line) => line.usage).at(-1)?.usage;

test("OpenAI non-stream usage with details", () => {
  const body = readFixtureJson("openai/chat-text.json");
  expect(readOpenAIUsage(body.usage)).toEqual({
    promptTokens: body.usage.prompt_tokens,
    completionTokens: body.usage.completion_tokens,
    cachedTokens: body.usage.prompt_tokens_details.cached_tokens,
    reasoningTokens: body.usage.completion_tokens_details.reasoning_tokens,
  });
});

test("OpenAI stream usage chunk with reasoning and cached tokens", () => {
  const usage = lastUsage(readSseJson("openai/chat-stream-finish-length-usage.sse.txt").filter((line) => typeof line === "object")) as any;
  const read = readOpenAIUsage(usage)!;
  expect(read.reasoningTokens).toBe(usage.completion_tokens_details.reasoning_tokens);
  expect(read.reasoningTokens).toBeGreaterThan(0);
});

test("DeepSeek reports cache hits as prompt_cache_hit_tokens", () => {
  const lines = readFixtureText("deepseek/reasoning.chunks.txt").trim().split("\n").map((line) => JSON.parse(line));
  const usage = lastUsage(lines) as any;
  const read = readOpenAIUsage(usage)!;
  expect(read.promptTokens).toBe(usage.prompt_tokens);
  expect(read.cachedTokens).toBe(usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens);
  expect(read.reasoningTokens).toBe(usage.completion_tokens_details.reasoning_tokens);
});

test("nothing usable gives undefined or zeros, never NaN", () => {
  expect(readOpenAIUsage(null)).toBeUndefined();
  expect(readOpenAIUsage({ prompt_tokens: "7" })).toEqual({ promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 });
});

test("Responses API usage names its counts input/output, with their details", () => {
  const usage = readFixtureJson("openai-responses/web-search-call.json").usage;
  expect(readOpenAIUsage(usage)).toEqual({
    promptTokens: usage.input_tokens,
    completionTokens: usage.output_tokens,
    cachedTokens: usage.input_tokens_details.cached_tokens,
    reasoningTokens: usage.output_tokens_details.reasoning_tokens,
  });
  expect(usage.input_tokens_details.cached_tokens).toBe(3712);
});
