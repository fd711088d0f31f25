/**
 * OpenAI answers → Gemini answers, fed with recorded OpenAI and DeepSeek completions and streams
 * (test/fixtures/openai, test/fixtures/deepseek): candidates, parts, finish reasons, usage.
 */

import { describe, expect, test } from "bun:test";
import { createGeminiEventWriter } from "../../../src/formats/gemini/chunks-to-gemini-events.ts";
import { convertCompletionToGemini } from "../../../src/formats/gemini/convert-completion-to-gemini.ts";
import { readChunksJson, readFixtureJson, readSseJson } from "../../support/fixtures.ts";

const context = { modelVersion: "openai/gpt-4o", responseId: "resp-1" };

describe("chat.completion → GenerateContentResponse", () => {
  test("text answer: one model candidate, STOP, usage split into prompt and candidates", () => {
    const completion = readFixtureJson("openai/chat-text.json");
    const answer = convertCompletionToGemini(completion, context);
    expect(answer.candidates).toEqual([{ content: { role: "model", parts: [{ text: completion.choices[0].message.content }] }, finishReason: "STOP", index: 0 }]);
    expect(answer.usageMetadata).toEqual({
      promptTokenCount: completion.usage.prompt_tokens,
      candidatesTokenCount: completion.usage.completion_tokens,
      totalTokenCount: completion.usage.total_tokens,
    });
    expect(answer).toMatchObject(context);
  });

  test("parallel tool calls become whole functionCall parts carrying the call ids", () => {
    const completion = readFixtureJson("openai/chat-parallel-tool-calls.json");
    const [candidate] = convertCompletionToGemini(completion, context).candidates;
    expect(candidate!.finishReason).toBe("STOP");
    expect(candidate!.content.parts).toEqual(
      completion.choices[0].message.tool_calls.map((call: any) => ({ functionCall: { name: call.function.name, args: JSON.parse(call.function.arguments), id: call.id } })),
    );
  });

  test("reasoning goes first as a thought part; reasoning tokens are thoughts, not candidates", () => {
    const completion = readFixtureJson("deepseek/tool-call-with-reasoning.json");
    const answer = convertCompletionToGemini(completion, context);
    const parts = answer.candidates[0]!.content.parts;
    expect(parts[0]).toEqual({ text: completion.choices[0].message.reasoning_content, thought: true });
    const reasoning = completion.usage.completion_tokens_details.reasoning_tokens;
    expect(answer.usageMetadata).toMatchObject({ thoughtsTokenCount: reasoning, candidatesTokenCount: completion.usage.completion_tokens - reasoning });
  });

  test("length → MAX_TOKENS, content_filter → SAFETY", () => {
    const choice = (finish_reason: string) => ({ choices: [{ index: 0, message: { role: "assistant", content: "x" }, finish_reason }] });
    expect(convertCompletionToGemini(choice("length"), context).candidates[0]!.finishReason).toBe("MAX_TOKENS");
    expect(convertCompletionToGemini(choice("content_filter"), context).candidates[0]!.finishReason).toBe("SAFETY");
  });
});

describe("chunk stream → Gemini events", () => {
  const run = (chunks: any[]) => {
    const writer = createGeminiEventWriter(context);
    return [...chunks.flatMap((chunk) => writer.push(chunk)), ...writer.finish()].map((payload) => JSON.parse(payload));
  };

  test("text streams as it comes; the final event has the finish reason and usage", () => {
    const chunks = readSseJson("openai/chat-stream-text.sse.txt");
    const events = run(chunks);
    const text = events.flatMap((event) => event.candidates[0].content.parts.map((part: any) => part.text ?? "")).join("");
    expect(text).toBe(chunks.map((chunk: any) => chunk.choices[0]?.delta?.content ?? "").join(""));
    const last = events.at(-1);
    expect(last.candidates[0].finishReason).toBe("STOP");
    expect(events.slice(0, -1).every((event) => event.candidates[0].finishReason === undefined)).toBe(true);
    const usage = chunks.find((chunk: any) => chunk.usage)?.usage;
    if (usage) expect(last.usageMetadata.promptTokenCount).toBe(usage.prompt_tokens);
    expect(last).toMatchObject(context);
  });

  test("streamed tool call fragments go out whole, with their ids, in the final event", () => {
    const chunks = readSseJson("openai/chat-stream-parallel-tool-calls.sse.txt");
    const events = run(chunks);
    expect(events).toHaveLength(1);
    const parts = events[0].candidates[0].content.parts;
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.functionCall.id).toStartWith("call_");
      expect(typeof part.functionCall.args).toBe("object");
    }
    expect(events[0].candidates[0].finishReason).toBe("STOP");
    expect(events[0].usageMetadata).toMatchObject({ promptTokenCount: 417, candidatesTokenCount: 44, totalTokenCount: 461 });
  });

  test("reasoning deltas become thought parts", () => {
    const events = run(readChunksJson("deepseek/reasoning.chunks.txt"));
    const thoughts = events.flatMap((event) => event.candidates.flatMap((c: any) => c.content.parts.filter((part: any) => part.thought)));
    expect(thoughts.length).toBeGreaterThan(0);
    expect(thoughts[0].text).toBe("We");
  });
});
