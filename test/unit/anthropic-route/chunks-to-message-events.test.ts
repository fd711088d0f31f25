/** Recorded OpenAI-shaped chunk streams → Anthropic Messages SSE events, checked event by event and through Anthropic's own SDK. */

import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { createMessageEventWriter, type OpenAIChatCompletionChunk } from "../../../src/formats/anthropic/chunks-to-message-events.ts";
import { parseSse, readFixtureText, readSseJson } from "../../support/fixtures.ts";

/** The name the client asked for, echoed back as Anthropic does. */
const MODEL = "deepseek/deepseek-chat";

interface Event {
  event: string;
  data: any;
}

/** The writer's SSE text as events; each must be framed `event: x\ndata: {...}\n\n` with `data.type === x`. */
function events(sse: string): Event[] {
  expect(sse === "" || /^(event: [a-z_]+\ndata: [^\n]+\n\n)+$/.test(sse)).toBe(true);
  return parseSse(sse).map(({ event, data }) => {
    const parsed = JSON.parse(data);
    expect(parsed.type).toBe(event!);
    return { event: event!, data: parsed };
  });
}

/** A whole stream through a fresh writer: every push, then finish. */
function run(chunks: OpenAIChatCompletionChunk[], options: { messageId?: string; inputTokensEstimate?: number; omitThinking?: boolean } = {}): string {
  const writer = createMessageEventWriter({ model: MODEL, ...options });
  return chunks.map((chunk) => writer.push(chunk)).join("") + writer.finish();
}

const names = (list: Event[]) => list.map(({ event, data }) => (event.startsWith("content_block") ? `${event}:${data.index}` : event));
const lines = (name: string): OpenAIChatCompletionChunk[] => readFixtureText(name).trim().split("\n").map((line) => JSON.parse(line));
const deltasOf = (list: Event[], index: number, field: string) =>
  list.filter((e) => e.event === "content_block_delta" && e.data.index === index).map((e) => e.data.delta[field]).join("");

/** Every start has its stop, blocks never overlap, and indexes count up from 0. */
function expectWellFormed(list: Event[]): void {
  let open: number | undefined;
  let next = 0;
  for (const { event, data } of list) {
    if (event === "content_block_start") {
      expect(open).toBeUndefined();
      expect(data.index).toBe(next++);
      open = data.index;
    } else if (event === "content_block_delta") {
      expect(data.index).toBe(open!);
    } else if (event === "content_block_stop") {
      expect(data.index).toBe(open!);
      open = undefined;
    }
  }
  expect(open).toBeUndefined();
  expect(list[0]!.event).toBe("message_start");
}

/** What Anthropic's SDK assembles from the writer's stream, served as a `/v1/messages` response. */
async function sdkFinalMessage(sse: string) {
  const client = new Anthropic({
    apiKey: "test",
    baseURL: "http://proxy.test",
    maxRetries: 0,
    fetch: async () => new Response(sse, { headers: { "content-type": "text/event-stream" } }),
  });
  return client.messages.stream({ model: MODEL, max_tokens: 1024, messages: [{ role: "user", content: "Hi" }] }).finalMessage();
}

describe("recorded OpenAI streams", () => {
  test("openai/chat-stream-text: the exact events of a text answer", () => {
    const chunks = readSseJson("openai/chat-stream-text.sse.txt");
    const pieces = chunks.map((chunk) => chunk.choices[0].delta.content).filter((content: string | undefined) => content);
    expect(pieces.slice(0, 3)).toEqual(["Hi", " there", "!"]);
    const sse = run(chunks, { inputTokensEstimate: 9 });
    const text = (t: string) => `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${JSON.stringify(t)}}}\n\n`;
    expect(sse).toBe(
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_C4HqHBe4xca0k0EzsCnf1t6V3YFXp","type":"message","role":"assistant","model":"deepseek/deepseek-chat","content":[],"stop_reason":null,"stop_sequence":null,"stop_details":null,"usage":{"input_tokens":9,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n\n' +
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n' +
        pieces.map(text).join("") +
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
        // No usage chunk in this recording (no stream_options): only output_tokens, the estimate stands.
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null,"stop_details":null},"usage":{"output_tokens":0}}\n\n' +
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    );
  });

  test("openai/chat-stream-parallel-tool-calls: one tool_use block per call, arguments reassembled, tool_use and usage", () => {
    const list = events(run(readSseJson("openai/chat-stream-parallel-tool-calls.sse.txt")));
    expectWellFormed(list);
    expect(names(list)).toEqual([
      "message_start",
      "content_block_start:0",
      "content_block_delta:0",
      "content_block_delta:0",
      "content_block_delta:0",
      "content_block_delta:0",
      "content_block_delta:0",
      "content_block_stop:0",
      "content_block_start:1",
      "content_block_delta:1",
      "content_block_stop:1",
      "message_delta",
      "message_stop",
    ]);
    expect(list[1]!.data.content_block).toEqual({ type: "tool_use", id: "call_NS4iQj14cDFwc0BnrKqDHavt", name: "get_weather", input: {} });
    expect(list[8]!.data.content_block).toEqual({ type: "tool_use", id: "call_SkGkkGDvHQEEk0CGbnAh2AQw", name: "get_product_name", input: {} });
    expect(list.filter((e) => e.event === "content_block_delta").every((e) => e.data.delta.type === "input_json_delta")).toBe(true);
    expect(deltasOf(list, 0, "partial_json")).toBe('{"city": "Mexico City"}');
    expect(deltasOf(list, 1, "partial_json")).toBe("{}");
    expect(list.at(-2)!.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null, stop_details: null },
      usage: { output_tokens: 44, input_tokens: 417, cache_read_input_tokens: 0 },
    });
  });

  test("openai/chat-stream-finish-length-usage: no content at all, stop_reason max_tokens with the usage chunk's counts", () => {
    const list = events(run(readSseJson("openai/chat-stream-finish-length-usage.sse.txt")));
    expect(names(list)).toEqual(["message_start", "message_delta", "message_stop"]);
    expect(list[1]!.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "max_tokens", stop_sequence: null, stop_details: null },
      usage: { output_tokens: 100, input_tokens: 12, cache_read_input_tokens: 0 },
    });
  });

  test("deepseek/reasoning.chunks: a thinking block, then a text block, then end_turn", () => {
    const chunks = lines("deepseek/reasoning.chunks.txt");
    const list = events(run(chunks));
    expectWellFormed(list);
    const starts = list.filter((e) => e.event === "content_block_start").map((e) => e.data.content_block);
    expect(starts).toEqual([{ type: "thinking", thinking: "", signature: "" }, { type: "text", text: "" }]);
    const recorded = (field: "reasoning_content" | "content") => chunks.map((chunk) => chunk.choices?.[0]?.delta?.[field] ?? "").join("");
    expect(deltasOf(list, 0, "thinking")).toBe(recorded("reasoning_content"));
    expect(deltasOf(list, 1, "text")).toBe(recorded("content"));
    // No signature_delta: OpenAI-shaped hosts send no signatures.
    expect(list.some((e) => e.data.delta?.type === "signature_delta")).toBe(false);
    expect(list.at(-2)!.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null, stop_details: null },
      usage: { output_tokens: 219, input_tokens: 18, cache_read_input_tokens: 0 },
    });
  });

  test("deepseek/reasoning.chunks with omitThinking (display \"omitted\"): only the text block, no reasoning text anywhere", () => {
    const chunks = lines("deepseek/reasoning.chunks.txt");
    const sse = run(chunks, { omitThinking: true });
    const list = events(sse);
    expectWellFormed(list);
    expect(names(list)).toEqual(["message_start", "content_block_start:0", ...chunks.filter((chunk) => chunk.choices?.[0]?.delta?.content).map(() => "content_block_delta:0"), "content_block_stop:0", "message_delta", "message_stop"]);
    expect(list[1]!.data.content_block).toEqual({ type: "text", text: "" });
    expect(deltasOf(list, 0, "text")).toBe(chunks.map((chunk) => chunk.choices?.[0]?.delta?.content ?? "").join(""));
    const firstThought = chunks.find((chunk) => chunk.choices?.[0]?.delta?.reasoning_content)!.choices![0]!.delta!.reasoning_content!;
    expect(sse).not.toContain("thinking");
    expect(sse).not.toContain(JSON.stringify(firstThought).slice(1, -1));
    expect(list.at(-2)!.data.usage).toEqual({ output_tokens: 219, input_tokens: 18, cache_read_input_tokens: 0 });
  });

  test("mistral/stream-incremental-tool-call: empty content opens no text block; usage arrives on the finish chunk, cached tokens split out", () => {
    const list = events(run(lines("mistral/stream-incremental-tool-call.chunks.txt")));
    expectWellFormed(list);
    expect(names(list)).toEqual(["message_start", "content_block_start:0", "content_block_delta:0", "content_block_stop:0", "message_delta", "message_stop"]);
    expect(list[1]!.data.content_block).toEqual({ type: "tool_use", id: "chatcmpl-tool-9f149c74c42f265b", name: "webSearchTool", input: {} });
    expect(JSON.parse(deltasOf(list, 0, "partial_json"))).toEqual({ query: "current Berlin weather" });
    expect(list[4]!.data.usage).toEqual({ output_tokens: 14, input_tokens: 43, cache_read_input_tokens: 128 });
  });

  test("groq/tool-call.chunks: a whole call in one delta", () => {
    const list = events(run(lines("groq/tool-call.chunks.txt")));
    expect(names(list)).toEqual(["message_start", "content_block_start:0", "content_block_delta:0", "content_block_stop:0", "message_delta", "message_stop"]);
    expect(list[2]!.data.delta).toEqual({ type: "input_json_delta", partial_json: "{}" });
    expect(list[4]!.data.delta.stop_reason).toBe("tool_use");
  });
});

describe("Anthropic's SDK reads the stream", () => {
  test("text: the assembled message", async () => {
    const chunks = readSseJson("openai/chat-stream-text.sse.txt");
    const message = await sdkFinalMessage(run(chunks));
    expect(message.content).toMatchObject([{ type: "text", text: chunks.map((chunk) => chunk.choices[0].delta.content ?? "").join("") }]);
    expect((message.content[0] as { text: string }).text).toStartWith("Hi there! How can I help today? I can answer questions");
    expect(message.stop_reason).toBe("end_turn");
    expect(message.model).toBe(MODEL);
  });

  test("parallel tool calls: inputs parsed from the input_json_delta fragments, usage from message_delta", async () => {
    const message = await sdkFinalMessage(run(readSseJson("openai/chat-stream-parallel-tool-calls.sse.txt"), { inputTokensEstimate: 400 }));
    expect<unknown>(message.content).toEqual([
      { type: "tool_use", id: "call_NS4iQj14cDFwc0BnrKqDHavt", name: "get_weather", input: { city: "Mexico City" } },
      { type: "tool_use", id: "call_SkGkkGDvHQEEk0CGbnAh2AQw", name: "get_product_name", input: {} },
    ]);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({ input_tokens: 417, output_tokens: 44, cache_read_input_tokens: 0 });
  });

  test("reasoning: a thinking block with an empty signature, then the text", async () => {
    const message = await sdkFinalMessage(run(lines("deepseek/reasoning.chunks.txt")));
    expect(message.content.map((block) => block.type)).toEqual(["thinking", "text"]);
    expect(message.content[0]).toMatchObject({ type: "thinking", signature: "" });
  });

  test("a mid-stream error surfaces as the SDK's APIError with Anthropic's type and message", async () => {
    const writer = createMessageEventWriter({ model: MODEL });
    const [first] = readSseJson("openai/chat-stream-text.sse.txt");
    const sse = writer.push(first) + writer.push({ choices: [{ index: 0, delta: { content: "Hel" } }] }) + writer.error({ type: "overloaded_error", message: "Overloaded" });
    const failure = await sdkFinalMessage(sse).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    expect((failure as InstanceType<typeof Anthropic.APIError>).type).toBe("overloaded_error");
    expect((failure as Error).message).toContain("Overloaded");
  });
});

describe("state machine", () => {
  const text = (content: string): OpenAIChatCompletionChunk => ({ id: "chatcmpl-s", choices: [{ index: 0, delta: { content } }] });
  const reasoning = (reasoning_content: string): OpenAIChatCompletionChunk => ({ id: "chatcmpl-s", choices: [{ index: 0, delta: { reasoning_content } }] });
  const tool = (index: number | undefined, fields: { id?: string; name?: string; arguments?: string }): OpenAIChatCompletionChunk => ({
    choices: [{ index: 0, delta: { tool_calls: [{ ...(index === undefined ? {} : { index }), ...(fields.id ? { id: fields.id, type: "function" } : {}), function: { name: fields.name, arguments: fields.arguments } }] } }],
  });
  const finish = (reason: string): OpenAIChatCompletionChunk => ({ choices: [{ index: 0, delta: {}, finish_reason: reason }] });

  test("message_start comes with the first push; messageId and the input estimate are used", () => {
    const writer = createMessageEventWriter({ model: MODEL, messageId: "msg_fixed", inputTokensEstimate: 1234 });
    expect(writer.started).toBe(false);
    const list = events(writer.push({ id: "chatcmpl-x", choices: [{ index: 0, delta: { content: "" } }] }));
    expect(writer.started).toBe(true);
    expect(list).toEqual([
      {
        event: "message_start",
        data: {
          type: "message_start",
          message: {
            id: "msg_fixed",
            type: "message",
            role: "assistant",
            model: MODEL,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            stop_details: null,
            usage: { input_tokens: 1234, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
          },
        },
      },
    ]);
  });

  test("reasoning, text and tool calls in order each get their own block; `reasoning` (OpenRouter's name) counts as thinking", () => {
    const list = events(
      run([
        reasoning("Think"),
        { choices: [{ index: 0, delta: { reasoning: "ing." } }] },
        text("Answer"),
        tool(0, { id: "call_a", name: "a", arguments: '{"x":' }),
        tool(0, { arguments: "1}" }),
        tool(1, { id: "call_b", name: "b", arguments: "" }),
        finish("tool_calls"),
      ]),
    );
    expectWellFormed(list);
    expect(names(list)).toEqual([
      "message_start",
      "content_block_start:0",
      "content_block_delta:0",
      "content_block_delta:0",
      "content_block_stop:0",
      "content_block_start:1",
      "content_block_delta:1",
      "content_block_stop:1",
      "content_block_start:2",
      "content_block_delta:2",
      "content_block_delta:2",
      "content_block_stop:2",
      "content_block_start:3",
      "content_block_stop:3",
      "message_delta",
      "message_stop",
    ]);
    expect(deltasOf(list, 0, "thinking")).toBe("Thinking.");
    expect(deltasOf(list, 2, "partial_json")).toBe('{"x":1}');
  });

  test("text after a tool call opens a new text block; reasoning after text a new thinking block", () => {
    const list = events(run([text("a"), reasoning("r"), text("b"), tool(0, { id: "c", name: "n", arguments: "{}" }), text("c")]));
    expectWellFormed(list);
    expect(list.filter((e) => e.event === "content_block_start").map((e) => e.data.content_block.type)).toEqual(["text", "thinking", "text", "tool_use", "text"]);
  });

  test("a call without index takes its position; a fragment for a call whose block closed is dropped", () => {
    const list = events(run([tool(undefined, { id: "c0", name: "first", arguments: "{}" }), tool(1, { id: "c1", name: "second", arguments: '{"a":1}' }), tool(0, { arguments: "late" })]));
    expectWellFormed(list);
    expect(deltasOf(list, 0, "partial_json")).toBe("{}");
    expect(deltasOf(list, 1, "partial_json")).toBe('{"a":1}');
  });

  test("a call without an id gets a toolu_ id; tool calls make a plain stop a tool_use", () => {
    const list = events(run([tool(0, { name: "f", arguments: "{}" }), finish("stop")]));
    expect(list[1]!.data.content_block.id).toMatch(/^toolu_[0-9a-f]{24}$/);
    expect(list.at(-2)!.data.delta.stop_reason).toBe("tool_use");
  });

  test("content_filter finish is a refusal; a refusal delta is shown as text", () => {
    const list = events(run([{ choices: [{ index: 0, delta: { refusal: "Blocked." }, finish_reason: "content_filter" }] }]));
    expect(deltasOf(list, 0, "text")).toBe("Blocked.");
    expect(list.at(-2)!.data.delta.stop_reason).toBe("refusal");
  });

  test("only the first choice is told when the host sends several", () => {
    const list = events(run([{ choices: [{ index: 1, delta: { content: "other" } }, { index: 0, delta: { content: "mine" } }] }]));
    expect(deltasOf(list, 0, "text")).toBe("mine");
  });

  test("finish with nothing pushed still makes a valid, empty message", () => {
    const writer = createMessageEventWriter({ model: MODEL, inputTokensEstimate: 5 });
    const list = events(writer.finish());
    expect(names(list)).toEqual(["message_start", "message_delta", "message_stop"]);
    expect(list[0]!.data.message.id).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(list[1]!.data.delta.stop_reason).toBe("end_turn");
    expect(writer.finish()).toBe("");
    expect(writer.push(text("late"))).toBe("");
  });

  test("error: exactly one error event in Anthropic's envelope, open block left as is, nothing after it", () => {
    const writer = createMessageEventWriter({ model: MODEL });
    const before = events(writer.push(text("Hel")));
    expect(names(before)).toEqual(["message_start", "content_block_start:0", "content_block_delta:0"]);
    expect(writer.error({ type: "overloaded_error", message: "Overloaded" })).toBe('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n');
    expect(writer.error({ type: "api_error", message: "again" })).toBe("");
    expect(writer.push(text("lo"))).toBe("");
    expect(writer.ping()).toBe("");
    expect(writer.finish()).toBe("");
  });

  test("error before anything was pushed is still a single error event", () => {
    const writer = createMessageEventWriter({ model: MODEL });
    expect(names(events(writer.error({ type: "rate_limit_error", message: "slow down" })))).toEqual(["error"]);
    expect(writer.started).toBe(false);
  });

  test("ping is a keep-alive event, allowed before and between blocks", () => {
    const writer = createMessageEventWriter({ model: MODEL });
    expect(writer.ping()).toBe('event: ping\ndata: {"type":"ping"}\n\n');
    writer.push(text("a"));
    expect(writer.ping()).toBe('event: ping\ndata: {"type":"ping"}\n\n');
    writer.finish();
    expect(writer.ping()).toBe("");
  });

  test("usage reported mid-stream is kept until the end", () => {
    const list = events(run([{ choices: [{ index: 0, delta: { content: "x" } }], usage: { prompt_tokens: 50, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 40 } } }, finish("stop")]));
    expect(list.at(-2)!.data.usage).toEqual({ output_tokens: 3, input_tokens: 10, cache_read_input_tokens: 40 });
  });
});
