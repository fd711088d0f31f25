/** Recorded Gemini `streamGenerateContent?alt=sse` streams → OpenAI chat.completion.chunk payloads. */

import { describe, expect, test } from "bun:test";
import { createGeminiStreamConverter } from "../../../src/providers/gemini/convert-gemini-stream.ts";
import type { GeminiResponse } from "../../../src/providers/gemini/gemini-types.ts";
import { signatureFromToolCallId } from "../../../src/providers/gemini/tool-call-id.ts";
import { readFixtureJson, readFixtureText, readSseJson } from "../../support/fixtures.ts";

const CONTEXT = { id: "chatcmpl-gemini-stream", model: "gemini-test", created: 1_760_000_000 };
const ENVELOPE = { id: CONTEXT.id, object: "chat.completion.chunk", created: CONTEXT.created, model: CONTEXT.model };
const SIGNED_ID = /^call_[A-Za-z0-9]{16}_ts_[A-Za-z0-9_-]+$/;
const PLAIN_ID = /^call_[A-Za-z0-9]{16}$/;

const sse = (name: string): GeminiResponse[] => readSseJson<GeminiResponse>(`google/${name}`);
const chunkLines = (name: string): GeminiResponse[] =>
  readFixtureText(`google/${name}`)
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as GeminiResponse);

/** Every payload of a whole stream, parsed; the converter's strings must be bare JSON, not SSE. */
function convert(events: GeminiResponse[]): any[] {
  const converter = createGeminiStreamConverter(CONTEXT);
  const payloads = [...events.flatMap((event) => converter.push(event)), ...converter.finish()];
  for (const payload of payloads) expect(payload.startsWith("data:")).toBe(false);
  return payloads.map((payload) => JSON.parse(payload));
}

const chunk = (...choices: unknown[]) => ({ ...ENVELOPE, choices });
const choice = (delta: Record<string, unknown>, finishReason: string | null = null, index = 0) => ({ index, delta, finish_reason: finishReason });
const ROLE = chunk(choice({ role: "assistant", content: "" }));
const usageChunk = (prompt: number, completion: number, total: number, cached = 0, reasoning = 0) => ({
  ...ENVELOPE,
  choices: [],
  usage: {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total,
    prompt_tokens_details: { cached_tokens: cached },
    completion_tokens_details: { reasoning_tokens: reasoning },
  },
});

/** The text a client assembles from one delta field across the stream. */
const joined = (payloads: any[], field: string): string =>
  payloads.map((payload) => payload.choices?.[0]?.delta?.[field] ?? "").join("");

describe("text and thinking", () => {
  test("basic text stream: role chunk, one chunk per event, finish on the last, usage from the last event", () => {
    expect(convert(sse("stream-basic.sse.txt"))).toEqual([
      ROLE,
      chunk(choice({ content: "The" })),
      chunk(choice({ content: " capital of France" })),
      chunk(choice({ content: " is Paris.\n" }, "stop")),
      usageChunk(13, 8, 21),
    ]);
  });

  test("Gemini 3 text whose last event is an empty signed part finishes with an empty delta", () => {
    expect(convert(chunkLines("text-gemini3.chunks.txt"))).toEqual([
      ROLE,
      chunk(choice({ content: "There are **3**" })),
      chunk(choice({ content: ' "r"s in strawberry.\n\nst**r**awbe**rr**y' })),
      chunk(choice({}, "stop")),
      usageChunk(9, 208, 217, 0, 185),
    ]);
  });

  test("Gemma thought parts stream as reasoning_content, the answer as content", () => {
    const events = chunkLines("stream-thought-parts-gemma4.chunks.txt");
    const thoughts = events.slice(0, 4).map((event) => event.candidates![0]!.content!.parts![0]!.text!);
    expect(convert(events)).toEqual([
      ROLE,
      ...thoughts.map((text) => chunk(choice({ reasoning_content: text }))),
      chunk(choice({ content: "hello" })),
      chunk(choice({}, "stop")),
      usageChunk(6, 77, 83, 0, 76),
    ]);
  });

  test("thought summaries never leak into content", () => {
    const events = sse("stream-thought-summaries-include-thoughts.sse.txt");
    const parts = events.flatMap((event) => event.candidates![0]!.content!.parts!);
    const payloads = convert(events);
    expect(payloads).toHaveLength(events.length + 2);
    expect(joined(payloads, "reasoning_content")).toBe(parts.filter((part) => part.thought).map((part) => part.text).join(""));
    expect(joined(payloads, "content")).toBe(parts.filter((part) => !part.thought).map((part) => part.text).join(""));
    expect(joined(payloads, "content")).not.toContain("**Clarifying User Goals**");
    expect(joined(payloads, "content").startsWith("This is a great question!")).toBe(true);
    expect(payloads.at(-2).choices[0].finish_reason).toBe("stop");
    expect(payloads.at(-1)).toEqual(usageChunk(34, 1256, 1290, 0, 787));
  });

  test("every chunk shares id, created, model and object; finish_reason stays null until the end", () => {
    const payloads = convert(sse("stream-thought-summaries-include-thoughts.sse.txt"));
    for (const payload of payloads) expect(payload).toMatchObject(ENVELOPE);
    expect(payloads.slice(0, -2).every((payload) => payload.choices[0].finish_reason === null)).toBe(true);
  });
});

describe("tool calls", () => {
  test("thinking then a signed call with STOP in the same event: finish tool_calls, signature in the id", () => {
    const events = sse("stream-thinking-function-call-thought-signature.sse.txt");
    const signature = events[2]!.candidates![0]!.content!.parts![0]!.thoughtSignature!;
    const payloads = convert(events);
    expect(payloads).toEqual([
      ROLE,
      chunk(choice({ reasoning_content: events[0]!.candidates![0]!.content!.parts![0]!.text })),
      chunk(choice({ reasoning_content: events[1]!.candidates![0]!.content!.parts![0]!.text })),
      chunk(choice({ tool_calls: [{ index: 0, id: expect.stringMatching(SIGNED_ID), type: "function", function: { name: "now", arguments: "{}" } }] }, "tool_calls")),
      usageChunk(38, 174, 212, 0, 168),
    ]);
    expect(signatureFromToolCallId(payloads[3].choices[0].delta.tool_calls[0].id)).toBe(signature);
  });

  test("a call, then an empty STOP event: the finish says tool_calls though that event has no call", () => {
    const events = sse("stream-tool-call-thought-signature.sse.txt");
    const signature = events[0]!.candidates![0]!.content!.parts![0]!.thoughtSignature!;
    const payloads = convert(events);
    expect(payloads).toEqual([
      ROLE,
      chunk(choice({ tool_calls: [{ index: 0, id: expect.stringMatching(SIGNED_ID), type: "function", function: { name: "get_country", arguments: "{}" } }] })),
      chunk(choice({}, "tool_calls")),
      usageChunk(29, 212, 241, 0, 202),
    ]);
    expect(signatureFromToolCallId(payloads[1].choices[0].delta.tool_calls[0].id)).toBe(signature);
  });

  test("call indexes count across the whole stream; in a parallel group only the first is signed", () => {
    const [single, finish] = sse("stream-tool-call-thought-signature.sse.txt");
    const parallel = structuredClone(single!);
    const parallelParts = parallel.candidates![0]!.content!.parts!;
    parallelParts[0]!.functionCall = { name: "get_capital", args: { country: "France" } };
    parallelParts.push({ functionCall: { name: "get_capital", args: { country: "Italy" } } });
    const payloads = convert([single!, parallel, finish!]);
    const calls = payloads.flatMap((payload) => payload.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((call: any) => [call.index, call.function.name, call.function.arguments])).toEqual([
      [0, "get_country", "{}"],
      [1, "get_capital", '{"country":"France"}'],
      [2, "get_capital", '{"country":"Italy"}'],
    ]);
    expect(payloads[2].choices[0].delta.tool_calls).toHaveLength(2);
    expect(signatureFromToolCallId(calls[1].id)).toBe(parallelParts[0]!.thoughtSignature!);
    expect(calls[2].id).toMatch(PLAIN_ID);
    expect(new Set(calls.map((call: any) => call.id)).size).toBe(3);
    expect(payloads.at(-2)).toEqual(chunk(choice({}, "tool_calls")));
  });

  test("unsigned parallel calls (Vertex) in one event become one delta with indexes 0..2", () => {
    const event = readFixtureJson<GeminiResponse>("google/vertex-parallel-function-calls.json");
    const calls = convert([event])[1].choices[0].delta.tool_calls;
    expect(calls.map((call: any) => [call.index, call.function.arguments])).toEqual([
      [0, '{"y":1,"x":2}'],
      [1, '{"y":3,"x":4}'],
      [2, '{"y":5,"x":6}'],
    ]);
    for (const call of calls) expect(call.id).toMatch(PLAIN_ID);
  });
});

describe("filters, limits and failures", () => {
  test("a blocked prompt: role chunk, a refusal with content_filter, zero usage", () => {
    expect(convert(sse("stream-prompt-blocked-safety.sse.txt"))).toEqual([
      ROLE,
      chunk(choice({ refusal: "Gemini blocked the prompt: SAFETY" }, "content_filter")),
      usageChunk(0, 0, 0),
    ]);
  });

  test("a SAFETY finish with nothing said explains itself with a refusal", () => {
    expect(convert([readFixtureJson<GeminiResponse>("google/safety-finish-reason-safety.json")])).toEqual([
      ROLE,
      chunk(choice({ refusal: "Gemini withheld the answer: SAFETY" }, "content_filter")),
      usageChunk(14, 0, 14),
    ]);
  });

  test("a SAFETY finish after text keeps the text and adds no refusal", () => {
    const events = sse("stream-basic.sse.txt");
    events.at(-1)!.candidates![0]!.finishReason = "SAFETY";
    expect(convert(events).at(-2)).toEqual(chunk(choice({ content: " is Paris.\n" }, "content_filter")));
  });

  test("MAX_TOKENS spent on thinking: an empty delta with length, not an error", () => {
    expect(convert([readFixtureJson<GeminiResponse>("google/max-tokens-empty-content.json")])).toEqual([
      ROLE,
      chunk(choice({}, "length")),
      usageChunk(15, 2, 17, 0, 2),
    ]);
  });

  test("an error mid-stream is passed on as Google sent it, and nothing follows it", () => {
    // Vertex appended the error as bare JSON after the SSE events, so the blocks are read by hand.
    const blocks = readFixtureText("google/vertex-stream-error-mid-stream.sse.txt").split(/\r?\n\r?\n/);
    const events = blocks.map((block) => JSON.parse(block.startsWith("data:") ? block.slice(5) : block) as GeminiResponse);
    expect(events).toHaveLength(3);
    const converter = createGeminiStreamConverter(CONTEXT);
    const payloads = events.flatMap((event) => converter.push(event));
    expect(payloads.map((payload) => JSON.parse(payload))).toEqual([
      ROLE,
      chunk(choice({ content: "First " }, "stop")),
      chunk(choice({ content: "Second " }, "stop")),
      {
        error: {
          code: 499,
          message: "The operation was cancelled.",
          status: "CANCELLED",
          details: [{ "@type": "type.googleapis.com/google.rpc.DebugInfo", detail: "[ORIGINAL ERROR] generic::cancelled: " }],
        },
      },
    ]);
    expect(converter.push(events[0]!)).toEqual([]);
    expect(converter.finish()).toEqual([]);
  });

  test("an error as the very first event is the only payload", () => {
    const body = readFixtureJson<GeminiResponse>("google/error-503-unavailable-overloaded.json");
    expect(convert([body])).toEqual([body]);
  });

  const EMPTY_ERROR = { error: { code: 502, status: "UNAVAILABLE", message: "Gemini ended the stream without any content" } };

  test("a stream that ends without any event is an UNAVAILABLE error, so the engine rotates", () => {
    expect(convert([])).toEqual([EMPTY_ERROR]);
  });

  test("events with only empty text and usage produce nothing, then the same error", () => {
    const [first] = sse("stream-basic.sse.txt");
    first!.candidates![0]!.content!.parts = [{ text: "" }];
    const converter = createGeminiStreamConverter(CONTEXT);
    expect(converter.push(first!)).toEqual([]);
    expect(converter.finish().map((payload) => JSON.parse(payload))).toEqual([EMPTY_ERROR]);
  });
});

describe("several candidates", () => {
  test("each candidate is its own choice, announced once, with its own tool call count", () => {
    const [callEvent] = sse("stream-tool-call-thought-signature.sse.txt");
    const candidate = callEvent!.candidates![0]!;
    callEvent!.candidates!.push({ ...structuredClone(candidate), index: 1 });
    const [first, second] = sse("stream-basic.sse.txt");
    first!.candidates!.push({ content: { parts: [{ text: "Lyon" }], role: "model" }, index: 1 });
    second!.candidates![0]!.index = 0;
    const payloads = convert([first!, second!, callEvent!]);
    expect(payloads[0]).toEqual(chunk(choice({ role: "assistant", content: "" }), choice({ role: "assistant", content: "" }, null, 1)));
    expect(payloads[1]).toEqual(chunk(choice({ content: "The" }), choice({ content: "Lyon" }, null, 1)));
    expect(payloads[2]).toEqual(chunk(choice({ content: " capital of France" })));
    expect(payloads[3].choices.map((c: any) => [c.index, c.delta.tool_calls[0].index])).toEqual([
      [0, 0],
      [1, 0],
    ]);
  });
});

describe("a stream cut short", () => {
  test("the recorded stream without its finishing event ends in an error the engine treats as transient, not in usage", () => {
    const events = sse("stream-basic.sse.txt");
    const last = events.findLastIndex((event) => (event.candidates ?? []).some((candidate) => candidate.finishReason !== undefined));
    expect(last).toBeGreaterThan(0);
    const whole = convert(events);
    expect(whole.at(-1).usage).toBeDefined();
    const cut = convert(events.slice(0, last));
    expect(cut.at(-1)).toEqual({ error: { code: 502, status: "UNAVAILABLE", message: "Gemini closed the stream before its final event" } });
    expect(cut.some((payload) => payload.usage !== undefined)).toBe(false);
  });
});
