/** Recorded Bedrock ConverseStream bodies (binary event stream) → OpenAI chat.completion.chunk payloads. */

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { classifyEmbeddedError } from "../../../src/providers/classify-failure.ts";
import { createThinkingMemory, type ThinkingMemory } from "../../../src/providers/anthropic/thinking-memory.ts";
import { converseExceptionPayload, createConverseStreamConverter } from "../../../src/providers/bedrock/convert-converse-stream.ts";
import { createEventStreamDecoder } from "../../../src/providers/bedrock/event-stream.ts";
import { fixturePath } from "../../support/fixtures.ts";

const CONTEXT = { id: "chatcmpl-bedrock-stream", model: "bedrock-test", created: 1_760_000_000 };
const ENVELOPE = { id: CONTEXT.id, object: "chat.completion.chunk", created: CONTEXT.created, model: CONTEXT.model };

/** One decoded frame as the caller hands it over: the event (or exception) type and the parsed payload. */
interface Frame {
  type: string;
  payload: any;
}

/** A recorded `*.eventstream` body, frame by frame. */
function frames(name: string): Frame[] {
  const messages = createEventStreamDecoder().push(new Uint8Array(readFileSync(fixturePath(`bedrock/${name}`))));
  return messages.map(({ headers, payload }) => ({
    type: String(headers[":message-type"] === "exception" ? headers[":exception-type"] : headers[":event-type"]),
    payload: JSON.parse(new TextDecoder().decode(payload)),
  }));
}

/** Every payload of a whole stream, parsed; the converter's strings must be bare JSON, not SSE. */
function convert(stream: Frame[], memory?: ThinkingMemory): any[] {
  const converter = createConverseStreamConverter(CONTEXT, memory);
  const payloads = [...stream.flatMap((frame) => converter.push(frame.type, frame.payload)), ...converter.finish()];
  for (const payload of payloads) expect(payload.startsWith("data:")).toBe(false);
  return payloads.map((payload) => JSON.parse(payload));
}

const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({ ...ENVELOPE, choices: [{ index: 0, delta, finish_reason: finishReason }] });
const ROLE = chunk({ role: "assistant", content: "" });
const usageChunk = (prompt: number, completion: number, cached = 0) => ({
  ...ENVELOPE,
  choices: [],
  usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } },
});

/** The text a client assembles from one delta field across the stream. */
const joined = (payloads: any[], field: string): string => payloads.map((payload) => payload.choices?.[0]?.delta?.[field] ?? "").join("");

/** What the recording itself says, delta field by delta field. */
const recorded = (stream: Frame[], pick: (delta: any) => unknown): string[] =>
  stream.filter((frame) => frame.type === "contentBlockDelta").map((frame) => pick(frame.payload.delta)).filter((value): value is string => typeof value === "string" && value !== "");

describe("recorded streams", () => {
  test("text (Nova Micro): role chunk, one chunk per delta, finish at messageStop, usage from metadata at the end", () => {
    const stream = frames("converse-stream-text.eventstream");
    const texts = recorded(stream, (delta) => delta.text);
    const payloads = convert(stream);
    expect(texts).toHaveLength(29);
    expect(payloads).toEqual([ROLE, ...texts.map((text) => chunk({ content: text })), chunk({}, "stop"), usageChunk(13, 82)]);
    expect(joined(payloads, "content")).toBe(texts.join(""));
    expect(joined(payloads, "content")).toStartWith("The capital of France is Paris.");
    expect(joined(payloads, "content")).toEndWith('"The City of Light" or "The City of Love."');
  });

  test("reasoning (Claude Sonnet 4): reasoning_content deltas, the signature, then the text; the reasoning is remembered whole", () => {
    const stream = frames("converse-stream-reasoning.eventstream");
    const thoughts = recorded(stream, (delta) => delta.reasoningContent?.text);
    const [signature] = recorded(stream, (delta) => delta.reasoningContent?.signature);
    const texts = recorded(stream, (delta) => delta.text);
    const payloads = convert(stream);
    expect(payloads).toEqual([
      ROLE,
      ...thoughts.map((text) => chunk({ reasoning_content: text })),
      chunk({ reasoning_signature: signature }),
      ...texts.map((text) => chunk({ content: text })),
      chunk({}, "stop"),
      usageChunk(36, 73),
    ]);
    expect(joined(payloads, "reasoning_content")).toBe(
      'The user has greeted me with a simple "Hello". I should respond in a friendly and welcoming manner. This is a straightforward greeting, so I\'ll respond warmly and ask how I can help them today.',
    );
    expect(joined(payloads, "content")).toBe("Hello! It's nice to meet you. How can I help you today?");
    expect(signature).toStartWith("Eu0CCkgIBxABGAIqQ");
  });

  test("tool use (Claude 3 Sonnet): text, then one tool call — id and name first, argument fragments after — joining to valid JSON", () => {
    const stream = frames("converse-stream-tool-use.eventstream");
    const payloads = convert(stream);
    const calls = payloads.flatMap((payload) => payload.choices?.[0]?.delta?.tool_calls ?? []);
    expect(calls[0]).toEqual({ index: 0, id: "tooluse_HA9wsJ32RhOvn8XgIUDpGA", type: "function", function: { name: "fetch_concept", arguments: "" } });
    // The recording's first fragment is "", which is not sent.
    expect(calls.slice(1)).toEqual(recorded(stream, (delta) => delta.toolUse?.input).map((fragment) => ({ index: 0, function: { arguments: fragment } })));
    expect(JSON.parse(calls.map((call: any) => call.function.arguments).join(""))).toEqual({ concept: "distributed tracing" });
    expect(joined(payloads, "content")).toBe("Okay, let me use the tool to fetch an expert explanation for the concept of distributed tracing.");
    expect(payloads.at(-2)).toEqual(chunk({}, "tool_calls"));
    expect(payloads.at(-1)).toEqual(usageChunk(259, 64));
  });

  test("exception frame (modelStreamErrorException): one error payload with the model's status and words; finish adds nothing", () => {
    expect(convert(frames("converse-stream-model-stream-error-exception.eventstream"))).toEqual([
      { error: { code: 500, type: "modelStreamErrorException", message: "Model Stream Error: The model stream failed." } },
    ]);
  });
});

describe("thinking memory", () => {
  const reasoningThenCall: Frame[] = [
    { type: "messageStart", payload: { role: "assistant" } },
    { type: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { reasoningContent: { text: "Need " } } } },
    { type: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { reasoningContent: { text: "the tool." } } } },
    { type: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { reasoningContent: { signature: "sig-9" } } } },
    { type: "contentBlockStop", payload: { contentBlockIndex: 0 } },
    { type: "contentBlockDelta", payload: { contentBlockIndex: 1, delta: { reasoningContent: { redactedContent: "c2VjcmV0" } } } },
    { type: "contentBlockStop", payload: { contentBlockIndex: 1 } },
    { type: "contentBlockStart", payload: { contentBlockIndex: 2, start: { toolUse: { toolUseId: "tooluse_x", name: "now" } } } },
    { type: "contentBlockStop", payload: { contentBlockIndex: 2 } },
    { type: "messageStop", payload: { stopReason: "tool_use" } },
    { type: "metadata", payload: { usage: { inputTokens: 5, outputTokens: 9, cacheReadInputTokens: 100 } } },
  ];

  test("the reasoning blocks, redacted ones included, go to the memory under the tool call id at messageStop", () => {
    const memory = createThinkingMemory();
    const payloads = convert(reasoningThenCall, memory);
    expect(memory.recall("tooluse_x")).toEqual([
      { type: "thinking", thinking: "Need the tool.", signature: "sig-9" },
      { type: "redacted_thinking", data: "c2VjcmV0" },
    ]);
    // A call without argument fragments closes with an empty object, which clients can parse.
    expect(payloads.filter((payload) => payload.choices?.[0]?.delta?.tool_calls)).toEqual([
      chunk({ tool_calls: [{ index: 0, id: "tooluse_x", type: "function", function: { name: "now", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "{}" } }] }),
    ]);
    expect(payloads.at(-1)).toEqual(usageChunk(105, 9, 100));
  });

  test("without a memory the stream reads the same", () => {
    const memory = createThinkingMemory();
    expect(convert(reasoningThenCall)).toEqual(convert(reasoningThenCall, memory));
  });
});

describe("streams that end badly", () => {
  test("nothing but messageStart: the empty-stream error, a 5xx so the engine rotates", () => {
    expect(convert([{ type: "messageStart", payload: { role: "assistant" } }])).toEqual([
      ROLE,
      { error: { code: 502, type: "api_error", message: "Bedrock ended the stream without any content" } },
    ]);
  });

  test("content, then the end without messageStop: the truncation error", () => {
    const payloads = convert([
      { type: "messageStart", payload: { role: "assistant" } },
      { type: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { text: "Half an ans" } } },
    ]);
    expect(payloads.at(-1)).toEqual({ error: { code: 502, type: "api_error", message: "Bedrock closed the stream before the message finished" } });
  });

  test("messageStop without metadata: finished, but no usage chunk to send", () => {
    const payloads = convert([
      { type: "messageStart", payload: { role: "assistant" } },
      { type: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { text: "Done." } } },
      { type: "messageStop", payload: { stopReason: "max_tokens" } },
    ]);
    expect(payloads).toEqual([ROLE, chunk({ content: "Done." }), chunk({}, "length")]);
  });

  test("an exception after content ends the answer: later frames and finish add nothing", () => {
    const payloads = convert([
      { type: "messageStart", payload: { role: "assistant" } },
      { type: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { text: "Hel" } } },
      { type: "throttlingException", payload: { message: "Too many requests, please wait before trying again." } },
      { type: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { text: "lo" } } },
    ]);
    expect(payloads).toEqual([ROLE, chunk({ content: "Hel" }), { error: { code: 429, type: "throttlingException", message: "Too many requests, please wait before trying again." } }]);
  });

  test("unknown event types and padding fields are ignored", () => {
    const payloads = convert([
      { type: "messageStart", payload: { role: "assistant", p: "abc" } },
      { type: "somethingNew", payload: { whatever: true } },
      { type: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { citation: { title: "x" } }, p: "abcdef" } },
      { type: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { text: "ok" } } },
      { type: "messageStop", payload: { stopReason: "end_turn", p: "a" } },
    ]);
    expect(payloads).toEqual([ROLE, chunk({ content: "ok" }), chunk({}, "stop")]);
  });
});

describe("converseExceptionPayload", () => {
  const parsed = (type: string, payload: unknown) => JSON.parse(converseExceptionPayload(type, payload)).error;

  test.each([
    ["throttlingException", 429],
    ["validationException", 400],
    ["modelTimeoutException", 408],
    ["internalServerException", 500],
    ["serviceUnavailableException", 503],
    ["modelNotReadyException", 503],
    ["brandNewException", 500],
  ])("%s → %d", (type, code) => {
    expect(parsed(type, { message: "words" })).toEqual({ code, type, message: "words" });
  });

  test("HTTP-style names (x-amzn-ErrorType) map the same, and keep their spelling", () => {
    expect(parsed("ThrottlingException", { message: "slow down" })).toEqual({ code: 429, type: "ThrottlingException", message: "slow down" });
  });

  test("modelStreamErrorException takes the model's status when it is an HTTP error status, else 500", () => {
    expect(parsed("modelStreamErrorException", { message: "Model Stream Error", originalStatusCode: 429, originalMessage: "Rate exceeded" })).toEqual({
      code: 429,
      type: "modelStreamErrorException",
      message: "Model Stream Error: Rate exceeded",
    });
    expect(parsed("modelStreamErrorException", { message: "Model Stream Error", originalStatusCode: 200 }).code).toBe(500);
    expect(parsed("modelStreamErrorException", { originalMessage: "prompt is too long" })).toEqual({ code: 500, type: "modelStreamErrorException", message: "prompt is too long" });
  });

  test("a payload without a message still says what happened", () => {
    expect(parsed("internalServerException", "not an object")).toEqual({ code: 500, type: "internalServerException", message: "Bedrock sent internalServerException without a message" });
  });

  test("the proxy's failure classifier reads the payloads as meant: cool the key, blame the request, retry elsewhere", () => {
    const classOf = (payload: string) => classifyEmbeddedError(JSON.parse(payload), new Headers(), 0).class;
    expect(classOf(converseExceptionPayload("throttlingException", { message: "Too many requests" }))).toBe("rate_limit");
    expect(classOf(converseExceptionPayload("validationException", { message: "Malformed input request" }))).toBe("request");
    expect(classOf(converseExceptionPayload("modelStreamErrorException", { message: "Model Stream Error", originalStatusCode: 500 }))).toBe("transient");
    expect(classOf(converseExceptionPayload("serviceUnavailableException", {}))).toBe("transient");
    const [empty] = createConverseStreamConverter(CONTEXT).finish();
    expect(classOf(empty!)).toBe("transient");
  });
});
