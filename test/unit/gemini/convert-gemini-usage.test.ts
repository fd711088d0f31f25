/** Gemini usageMetadata → OpenAI usage, on recorded answers: cached content, thoughts, missing counts. */

import { expect, test } from "bun:test";
import { convertGeminiUsage } from "../../../src/providers/gemini/convert-gemini-usage.ts";
import type { GeminiResponse, GeminiUsage } from "../../../src/providers/gemini/gemini-types.ts";
import { readOpenAIUsage } from "../../../src/providers/openai/read-usage.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

const usageOf = (fixture: string): GeminiUsage => readFixtureJson<GeminiResponse>(fixture).usageMetadata!;

test("cached content counts inside the prompt and as cached tokens; thoughts inside the completion", () => {
  // promptTokenCount 3520 (3512 cached), candidatesTokenCount 2, thoughtsTokenCount 42, total 3564.
  expect(convertGeminiUsage(usageOf("google/usage-cached-content.json"))).toEqual({
    prompt_tokens: 3520,
    completion_tokens: 44,
    total_tokens: 3564,
    prompt_tokens_details: { cached_tokens: 3512 },
    completion_tokens_details: { reasoning_tokens: 42 },
  });
});

test("Gemini 3 thoughts make up most of the completion", () => {
  expect(convertGeminiUsage(usageOf("google/tool-call-gemini3.json"))).toEqual({
    prompt_tokens: 29,
    completion_tokens: 908,
    total_tokens: 937,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 893 },
  });
});

test("no candidatesTokenCount (MAX_TOKENS spent on thinking) leaves only the thoughts", () => {
  expect(convertGeminiUsage(usageOf("google/max-tokens-empty-content.json"))).toEqual({
    prompt_tokens: 15,
    completion_tokens: 2,
    total_tokens: 17,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 2 },
  });
});

test("a safety-filtered answer charges only the prompt", () => {
  expect(convertGeminiUsage(usageOf("google/safety-finish-reason-safety.json"))).toEqual({
    prompt_tokens: 14,
    completion_tokens: 0,
    total_tokens: 14,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  });
});

test("Vertex usage without any count (blocked prompt) is all zeros", () => {
  expect(convertGeminiUsage(usageOf("google/prompt-blocked-model-armor-vertex.json"))).toEqual({
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  });
});

test("tool-use prompt tokens join the prompt; Gemini's total is kept as sent", () => {
  const usage = { ...usageOf("google/usage-cached-content.json"), toolUsePromptTokenCount: 100, totalTokenCount: 3664 };
  const converted = convertGeminiUsage(usage);
  expect(converted.prompt_tokens).toBe(3620);
  expect(converted.total_tokens).toBe(3664);
});

test("without totalTokenCount the total is the sum", () => {
  const { totalTokenCount: _dropped, ...usage } = usageOf("google/thinking-parts-include-thoughts.json");
  // 29 prompt + 736 answer + 1001 thoughts, which is what Gemini reported as the total.
  expect(convertGeminiUsage(usage).total_tokens).toBe(1766);
  expect(convertGeminiUsage(usageOf("google/thinking-parts-include-thoughts.json")).total_tokens).toBe(1766);
});

test("the engine reads the converted usage like any OpenAI host's", () => {
  expect(readOpenAIUsage(convertGeminiUsage(usageOf("google/usage-cached-content.json")))).toEqual({
    promptTokens: 3520,
    completionTokens: 44,
    cachedTokens: 3512,
    reasoningTokens: 42,
  });
});
