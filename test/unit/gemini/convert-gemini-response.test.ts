/** Recorded Gemini generateContent answers → OpenAI chat.completion objects. */

import { describe, expect, test } from "bun:test";
import { convertGeminiResponse, isEmptyGeminiResponse } from "../../../src/providers/gemini/convert-gemini-response.ts";
import type { GeminiResponse } from "../../../src/providers/gemini/gemini-types.ts";
import { signatureFromToolCallId } from "../../../src/providers/gemini/tool-call-id.ts";
import { readFixtureJson, readFixtureText, readSseJson } from "../../support/fixtures.ts";

const CONTEXT = { id: "chatcmpl-gemini-test", model: "gemini-test", created: 1_760_000_000 };
const SIGNED_ID = /^call_[A-Za-z0-9]{16}_ts_[A-Za-z0-9_-]+$/;
const PLAIN_ID = /^call_[A-Za-z0-9]{16}$/;

const fixture = (name: string): GeminiResponse => readFixtureJson<GeminiResponse>(`google/${name}`);
const convert = (response: GeminiResponse): any => convertGeminiResponse(response, CONTEXT);

describe("convertGeminiResponse", () => {
  test("plain Gemini 3 text (signature on a text part is not an answer field)", () => {
    const response = fixture("text-gemini3.json");
    expect(convert(response)).toEqual({
      id: "chatcmpl-gemini-test",
      object: "chat.completion",
      created: 1_760_000_000,
      model: "gemini-test",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y." },
          finish_reason: "stop",
        },
      ],
      usage: {
        prompt_tokens: 9,
        completion_tokens: 272,
        total_tokens: 281,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 244 },
      },
    });
  });

  test("thought parts go to reasoning_content and never into content", () => {
    const response = fixture("thinking-parts-include-thoughts.json");
    const [thought, answer] = response.candidates![0]!.content!.parts!;
    const choice = convert(response).choices[0];
    expect(choice.message.reasoning_content).toBe(thought!.text);
    expect(choice.message.content).toBe(answer!.text);
    expect(choice.message.content).not.toContain("My Thought Process");
    expect(choice.message).not.toHaveProperty("tool_calls");
    expect(choice.finish_reason).toBe("stop");
  });

  test("a Gemini 3 function call keeps its thought signature in the tool call id", () => {
    const response = fixture("tool-call-gemini3.json");
    const part = response.candidates![0]!.content!.parts![0]!;
    const choice = convert(response).choices[0];
    expect(choice).toEqual({
      index: 0,
      message: {
        role: "assistant",
        content: null,
        tool_calls: [{ id: expect.stringMatching(SIGNED_ID), type: "function", function: { name: "weather", arguments: '{"location":"San Francisco"}' } }],
      },
      finish_reason: "tool_calls",
    });
    expect(signatureFromToolCallId(choice.message.tool_calls[0].id)).toBe(part.thoughtSignature!);
  });

  test("parallel calls without signatures: three tool calls, distinct plain ids, arguments as sent", () => {
    const choice = convert(fixture("vertex-parallel-function-calls.json")).choices[0];
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    const calls = choice.message.tool_calls;
    expect(calls.map((call: any) => call.function)).toEqual([
      { name: "sum", arguments: '{"y":1,"x":2}' },
      { name: "sum", arguments: '{"y":3,"x":4}' },
      { name: "sum", arguments: '{"y":5,"x":6}' },
    ]);
    for (const call of calls) {
      expect(call.id).toMatch(PLAIN_ID);
      expect(signatureFromToolCallId(call.id)).toBeUndefined();
    }
    expect(new Set(calls.map((call: any) => call.id)).size).toBe(3);
  });

  test("Gemini 3 parallel calls: only the first carries the signature, and only its id says so", () => {
    const response = fixture("tool-call-gemini3.json");
    const parts = response.candidates![0]!.content!.parts!;
    const signature = parts[0]!.thoughtSignature!;
    parts.push({ functionCall: { name: "weather", args: { location: "Berlin" } } });
    const calls = convert(response).choices[0].message.tool_calls;
    expect(calls).toHaveLength(2);
    expect(signatureFromToolCallId(calls[0].id)).toBe(signature);
    expect(calls[1].id).toMatch(PLAIN_ID);
    expect(calls[1].function).toEqual({ name: "weather", arguments: '{"location":"Berlin"}' });
  });

  test("a call without args gets empty-object arguments", () => {
    const [callEvent] = readSseJson<GeminiResponse>("google/stream-tool-call-thought-signature.sse.txt");
    delete callEvent!.candidates![0]!.content!.parts![0]!.functionCall!.args;
    expect(convert(callEvent!).choices[0].message.tool_calls[0].function).toEqual({ name: "get_country", arguments: "{}" });
  });

  test("text before a call: content and tool_calls side by side, finish tool_calls", () => {
    const response = fixture("tool-call-gemini3.json");
    response.candidates![0]!.content!.parts!.unshift({ text: "Let me check." });
    const message = convert(response).choices[0].message;
    expect(message.content).toBe("Let me check.");
    expect(message.tool_calls).toHaveLength(1);
  });

  test("a SAFETY finish with no content is a content_filter refusal", () => {
    const converted = convert(fixture("safety-finish-reason-safety.json"));
    expect(converted.choices).toEqual([
      { index: 0, message: { role: "assistant", content: null, refusal: "Gemini withheld the answer: SAFETY" }, finish_reason: "content_filter" },
    ]);
    expect(converted.usage.prompt_tokens).toBe(14);
  });

  test("a RECITATION finish after some text keeps the text and needs no refusal", () => {
    const response = fixture("usage-cached-content.json");
    response.candidates![0]!.finishReason = "RECITATION";
    const choice = convert(response).choices[0];
    expect(choice).toEqual({ index: 0, message: { role: "assistant", content: "Paris." }, finish_reason: "content_filter" });
  });

  test("a blocked prompt is one refused choice naming the block reason and Google's message", () => {
    const converted = convert(fixture("prompt-blocked-model-armor-vertex.json"));
    expect(converted.choices).toEqual([
      {
        index: 0,
        message: {
          role: "assistant",
          content: null,
          refusal: "Gemini blocked the prompt: MODEL_ARMOR (The prompt violated Prompt Injection and Jailbreak filters.)",
        },
        finish_reason: "content_filter",
      },
    ]);
    expect(converted.usage.total_tokens).toBe(0);
  });

  test("a blocked prompt without a message names the reason alone", () => {
    const [event] = readSseJson<GeminiResponse>("google/stream-prompt-blocked-safety.sse.txt");
    expect(convert(event!).choices[0].message.refusal).toBe("Gemini blocked the prompt: SAFETY");
  });

  test("MAX_TOKENS spent on thinking: null content, length, thoughts counted", () => {
    const converted = convert(fixture("max-tokens-empty-content.json"));
    expect(converted.choices).toEqual([{ index: 0, message: { role: "assistant", content: null }, finish_reason: "length" }]);
    expect(converted.usage).toEqual({
      prompt_tokens: 15,
      completion_tokens: 2,
      total_tokens: 17,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 2 },
    });
  });

  test("usage with cached content", () => {
    expect(convert(fixture("usage-cached-content.json")).usage).toEqual({
      prompt_tokens: 3520,
      completion_tokens: 44,
      total_tokens: 3564,
      prompt_tokens_details: { cached_tokens: 3512 },
      completion_tokens_details: { reasoning_tokens: 42 },
    });
  });

  test("several candidates become several choices with their own finish reasons", () => {
    const response = fixture("usage-cached-content.json");
    const second = fixture("max-tokens-empty-content.json").candidates![0]!;
    response.candidates!.push({ ...second, index: 1 });
    const choices = convert(response).choices;
    expect(choices.map((choice: any) => [choice.index, choice.message.content, choice.finish_reason])).toEqual([
      [0, "Paris.", "stop"],
      [1, null, "length"],
    ]);
  });

  test("candidates without an index are numbered by position", () => {
    const response = fixture("safety-finish-reason-safety.json");
    response.candidates!.push(fixture("usage-cached-content.json").candidates![0]!);
    delete response.candidates![1]!.index;
    expect(convert(response).choices.map((choice: any) => choice.index)).toEqual([0, 1]);
  });
});

describe("isEmptyGeminiResponse", () => {
  test.each([
    "text-gemini3.json",
    "thinking-parts-include-thoughts.json",
    "tool-call-gemini3.json",
    "vertex-parallel-function-calls.json",
    "usage-cached-content.json",
    "safety-finish-reason-safety.json",
    "prompt-blocked-model-armor-vertex.json",
    "max-tokens-empty-content.json",
  ])("recorded answer %s is not empty", (name) => {
    expect(isEmptyGeminiResponse(fixture(name))).toBe(false);
  });

  test("a STOP with only an empty text part (recorded as a stream's last event) is empty", () => {
    const events = readSseJson<GeminiResponse>("google/stream-tool-call-thought-signature.sse.txt");
    expect(isEmptyGeminiResponse(events.at(-1)!)).toBe(true);
    const gemma = readFixtureText("google/stream-thought-parts-gemma4.chunks.txt").trim().split("\n").at(-1)!;
    expect(isEmptyGeminiResponse(JSON.parse(gemma))).toBe(true);
  });

  test("a STOP whose content has no parts at all is empty", () => {
    const response = fixture("text-gemini3.json");
    response.candidates![0]!.content = { role: "model" };
    expect(isEmptyGeminiResponse(response)).toBe(true);
  });

  test("no finish reason and no content is empty; a thought alone is not", () => {
    const response = fixture("thinking-parts-include-thoughts.json");
    delete response.candidates![0]!.finishReason;
    response.candidates![0]!.content!.parts = [];
    expect(isEmptyGeminiResponse(response)).toBe(true);
    response.candidates![0]!.content!.parts = [{ text: "thinking", thought: true }];
    expect(isEmptyGeminiResponse(response)).toBe(false);
  });

  test("no candidates and no block is empty", () => {
    const { candidates: _dropped, ...response } = fixture("text-gemini3.json");
    expect(isEmptyGeminiResponse(response)).toBe(true);
  });
});
