/** Recorded Bedrock Converse answers → OpenAI chat.completion objects. */

import { describe, expect, test } from "bun:test";
import { createThinkingMemory, type ThinkingBlock } from "../../../src/providers/anthropic/thinking-memory.ts";
import type { ConverseResponse } from "../../../src/providers/bedrock/bedrock-types.ts";
import { convertConverseResponse, convertConverseUsage } from "../../../src/providers/bedrock/convert-converse-response.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

const CONTEXT = { id: "chatcmpl-bedrock-test", model: "bedrock-test", created: 1_760_000_000 };
const ENVELOPE = { id: CONTEXT.id, object: "chat.completion", created: CONTEXT.created, model: CONTEXT.model };

const fixture = (name: string): ConverseResponse => readFixtureJson<ConverseResponse>(`bedrock/${name}`);

describe("convertConverseResponse", () => {
  test("recorded tool use: the text, then the call with Bedrock's id and its input as a JSON string", () => {
    expect(convertConverseResponse(fixture("converse-tool-use.json"), CONTEXT)).toEqual({
      ...ENVELOPE,
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "Okay, let me use the tool to fetch an expert explanation for the concept of distributed tracing.",
            tool_calls: [{ id: "tooluse_iPA5tRLlQ5qSvfeYGeQVPg", type: "function", function: { name: "fetch_concept", arguments: '{"concept":"distributed tracing"}' } }],
          },
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 269, completion_tokens: 77, total_tokens: 346, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });

  test("recorded cache read: inputTokens excludes the cache, so the prompt is their sum and the reads are cached_tokens", () => {
    const answer = fixture("converse-usage-cache-read.json");
    const converted = convertConverseResponse(answer, CONTEXT) as any;
    expect(converted.choices).toEqual([{ index: 0, message: { role: "assistant", content: "21" }, finish_reason: "stop" }]);
    expect(converted.usage).toEqual({ prompt_tokens: 1324, completion_tokens: 5, total_tokens: 1329, prompt_tokens_details: { cached_tokens: 1322 } });
    // Bedrock's own total agrees.
    expect(converted.usage.total_tokens).toBe(answer.usage!.totalTokens!);
  });

  test("recorded content filter: the filter's words stay the content, the finish says content_filter", () => {
    const converted = convertConverseResponse(fixture("converse-content-filtered.json"), CONTEXT) as any;
    expect(converted.choices[0]).toEqual({
      index: 0,
      message: { role: "assistant", content: " - The generated text has been blocked by our content filters." },
      finish_reason: "content_filter",
    });
    expect(converted.usage).toEqual({ prompt_tokens: 1, completion_tokens: 0, total_tokens: 1, prompt_tokens_details: { cached_tokens: 0 } });
  });

  test("reasoning blocks become reasoning_content with the signature; all of them, redacted too, are remembered under each tool call", () => {
    const memory = createThinkingMemory();
    const answer: ConverseResponse = {
      output: {
        message: {
          role: "assistant",
          content: [
            { reasoningContent: { reasoningText: { text: "Check the weather first.", signature: "sig-1" } } },
            { reasoningContent: { redactedContent: "ZW5jcnlwdGVk" } },
            { text: "Let me look." },
            { toolUse: { toolUseId: "tooluse_a", name: "weather", input: { city: "Paris" } } },
            { toolUse: { toolUseId: "tooluse_b", name: "time", input: {} } },
          ],
        },
      },
      stopReason: "tool_use",
      usage: { inputTokens: 10, outputTokens: 20, totalTokens: 30 },
    };
    const message = (convertConverseResponse(answer, CONTEXT, memory) as any).choices[0].message;
    expect(message).toEqual({
      role: "assistant",
      content: "Let me look.",
      reasoning_content: "Check the weather first.",
      reasoning_signature: "sig-1",
      tool_calls: [
        { id: "tooluse_a", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
        { id: "tooluse_b", type: "function", function: { name: "time", arguments: "{}" } },
      ],
    });
    const blocks: ThinkingBlock[] = [
      { type: "thinking", thinking: "Check the weather first.", signature: "sig-1" },
      { type: "redacted_thinking", data: "ZW5jcnlwdGVk" },
    ];
    expect(memory.recall("tooluse_a")).toEqual(blocks);
    expect(memory.recall("tooluse_b")).toEqual(blocks);
  });

  test("an answer with no content, no reason and no usage still reads as a finished, empty answer", () => {
    expect(convertConverseResponse({}, CONTEXT)).toEqual({
      ...ENVELOPE,
      choices: [{ index: 0, message: { role: "assistant", content: null }, finish_reason: "stop" }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } },
    });
  });
});

describe("convertConverseUsage", () => {
  test("cache writes count as prompt tokens too, but are not cached tokens", () => {
    expect(convertConverseUsage({ inputTokens: 3, cacheWriteInputTokens: 1000, cacheReadInputTokens: 0, outputTokens: 7 })).toEqual({
      prompt_tokens: 1003,
      completion_tokens: 7,
      total_tokens: 1010,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  test("odd values (strings, negatives) count as nothing", () => {
    expect(convertConverseUsage({ inputTokens: "12" as never, outputTokens: -4 })).toEqual({
      prompt_tokens: 0,
      completion_tokens: 0,
      total_tokens: 0,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });
});
