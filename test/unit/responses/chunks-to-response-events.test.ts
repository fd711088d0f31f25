/**
 * Recorded canonical chunk streams → Responses events, checked against OpenAI's recorded Responses
 * streams (event types in order, each event's fields) and read back by the `openai` SDK.
 */

import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { createResponseEventWriter } from "../../../src/formats/responses/chunks-to-response-events.ts";
import type { ResponseContext } from "../../../src/formats/responses/convert-completion-to-response.ts";
import { decodeReasoningCarrier } from "../../../src/formats/responses/reasoning-carrier.ts";
import type { ToolNameMap } from "../../../src/formats/responses/tool-names.ts";
import type { ResponsesRequest } from "../../../src/formats/responses/types.ts";
import { parseSse, readChunksJson, readSseJson } from "../../support/fixtures.ts";

const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed"]);

function context(extra: Partial<ResponseContext> = {}, request: Partial<ResponsesRequest> = {}): ResponseContext {
  return { id: "resp_test", createdAt: 1770000000, model: "mock/model", request: { model: "mock/model", input: "x", stream: true, ...request }, tools: new Map(), includeEncrypted: false, ...extra };
}

interface Run {
  sse: string;
  events: any[];
  response: any;
}

/** A whole stream through a fresh writer, then the checks every stream must pass. */
function run(chunks: Record<string, unknown>[], ctx = context()): Run {
  const writer = createResponseEventWriter(ctx);
  const sse = chunks.map((chunk) => writer.push(chunk)).join("") + writer.finish();
  const events = wellFormed(sse);
  expect(writer.response()).toEqual(events.at(-1).response);
  return { sse, events, response: writer.response() };
}

/** Framed as `event: x\ndata: {...}\n\n` with `data.type === x`, numbered from 0 up, one terminal event, last. */
function wellFormed(sse: string): any[] {
  expect(/^(event: [a-z_.]+\ndata: [^\n]+\n\n)+$/.test(sse)).toBe(true);
  const events = parseSse(sse).map(({ event, data }) => {
    const parsed = JSON.parse(data);
    expect(parsed.type).toBe(event!);
    return parsed;
  });
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, index) => index));
  expect(events.filter((e) => TERMINAL.has(e.type) || e.type === "error").length).toBeLessThanOrEqual(2);
  expect(events.filter((e) => TERMINAL.has(e.type))).toHaveLength(1);
  expect(TERMINAL.has(events.at(-1).type)).toBe(true);
  return events;
}

/** Event types with runs of the same delta collapsed: providers split text differently. */
function shape(types: string[]): string[] {
  return types.filter((type, index) => !(type.endsWith(".delta") && types[index - 1] === type));
}

const recordedTypes = (name: string) => readSseJson(`openai-responses/${name}`).map((e) => e.type);
const typesOf = (events: any[]) => events.map((e) => e.type);
const sseChunks = (name: string) => readSseJson(name);

/**
 * Each event carries the fields of the recorded event of its type (OpenAI's `obfuscation` padding
 * aside), and its items and parts the recorded item's fields.
 */
function expectRecordedFields(events: any[], recordedName: string): void {
  const recorded = new Map<string, any>();
  for (const e of readSseJson(`openai-responses/${recordedName}`)) if (!recorded.has(e.type)) recorded.set(e.type, e);
  const fields = (value: object) => Object.keys(value).filter((key) => key !== "obfuscation" && key !== "phase").sort();
  for (const e of events) {
    const model = recorded.get(e.type);
    if (model === undefined || TERMINAL.has(e.type) || e.type === "response.created" || e.type === "response.in_progress") continue;
    expect([e.type, fields(e)]).toEqual([e.type, fields(model)]);
    if (e.item && model.item?.type === e.item.type) expect([e.type, fields(e.item)]).toEqual([e.type, fields(model.item)]);
    if (e.part && model.part?.type === e.part.type) expect(fields(e.part)).toEqual(fields(model.part));
  }
}

/**
 * What the `openai` SDK's own stream reader assembles from the writer's events. It adds its own
 * `parsed` fields to what it read, hence `toMatchObject` against it.
 */
async function sdkFinalResponse(sse: string) {
  const client = new OpenAI({ apiKey: "test", baseURL: "http://proxy.test/v1", maxRetries: 0, fetch: async () => new Response(sse, { headers: { "content-type": "text/event-stream" } }) });
  return client.responses.stream({ model: "mock/model", input: "x" }).finalResponse();
}

describe("recorded chat streams → the recorded Responses event sequences", () => {
  test("openai/chat-stream-text → stream-text.sse.txt", async () => {
    const { sse, events, response } = run(sseChunks("openai/chat-stream-text.sse.txt"));
    expect(shape(typesOf(events))).toEqual(shape(recordedTypes("stream-text.sse.txt")));
    expectRecordedFields(events, "stream-text.sse.txt");
    const text = events.filter((e) => e.type === "response.output_text.delta").map((e) => e.delta).join("");
    expect(response.output).toEqual([{ type: "message", id: events[2].item.id, status: "completed", role: "assistant", content: [{ type: "output_text", text, annotations: [], logprobs: [] }] }]);
    expect(events.at(-1).type).toBe("response.completed");
    // No usage chunk in this recording (no stream_options): nothing to report.
    expect(response.usage).toBeNull();
    const final = await sdkFinalResponse(sse);
    expect(final.output_text).toBe(text);
    expect(final.id).toBe("resp_test");
  });

  test("openai/chat-stream-parallel-tool-calls → stream-parallel-function-calls.sse.txt", async () => {
    const chunks = sseChunks("openai/chat-stream-parallel-tool-calls.sse.txt");
    const { sse, events, response } = run(chunks);
    expect(shape(typesOf(events))).toEqual(shape(recordedTypes("stream-parallel-function-calls.sse.txt")));
    expectRecordedFields(events, "stream-parallel-function-calls.sse.txt");
    const calls = response.output.map((item: any) => ({ type: item.type, output: response.output.indexOf(item), call_id: item.call_id, name: item.name, args: JSON.parse(item.arguments) }));
    expect(calls.map((call: any) => call.output)).toEqual([0, 1]);
    expect(events.filter((e) => e.type === "response.function_call_arguments.done").map((e) => e.arguments)).toEqual(response.output.map((item: any) => item.arguments));
    const usage = chunks.at(-1).usage;
    expect(response.usage).toEqual({
      input_tokens: usage.prompt_tokens,
      input_tokens_details: { cached_tokens: usage.prompt_tokens_details.cached_tokens },
      output_tokens: usage.completion_tokens,
      output_tokens_details: { reasoning_tokens: usage.completion_tokens_details.reasoning_tokens },
      total_tokens: usage.prompt_tokens + usage.completion_tokens,
    });
    const final = await sdkFinalResponse(sse);
    expect(final.output).toMatchObject(response.output);
  });

  test("groq/tool-call (whole call in one delta) → stream-function-call.sse.txt", () => {
    const { events, response } = run(readChunksJson("groq/tool-call.chunks.txt"));
    expect(shape(typesOf(events))).toEqual(shape(recordedTypes("stream-function-call.sse.txt")));
    expectRecordedFields(events, "stream-function-call.sse.txt");
    expect(response.output[0]).toMatchObject({ type: "function_call", status: "completed", call_id: "tk85n1k4m" });
  });

  test("mistral/stream-incremental-tool-call (a later delta with name \"\" and no id) → stream-function-call.sse.txt", () => {
    const { events, response } = run(readChunksJson("mistral/stream-incremental-tool-call.chunks.txt"));
    expect(shape(typesOf(events))).toEqual(shape(recordedTypes("stream-function-call.sse.txt")));
    expect(response.output).toEqual([
      { type: "function_call", id: response.output[0].id, status: "completed", call_id: "chatcmpl-tool-9f149c74c42f265b", name: "webSearchTool", arguments: '{"query": "current Berlin weather"}' },
    ]);
    expect(response.usage.input_tokens_details.cached_tokens).toBe(128);
  });

  test("deepseek/reasoning → stream-reasoning-summary.sse.txt (one summary part where OpenAI wrote three)", async () => {
    const chunks = readChunksJson("deepseek/reasoning.chunks.txt");
    const { sse, events, response } = run(chunks, context({ includeEncrypted: true }));
    const recorded = shape(recordedTypes("stream-reasoning-summary.sse.txt"));
    const cycle = ["response.reasoning_summary_part.added", "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done", "response.reasoning_summary_part.done"];
    const oneCycle = [...recorded.slice(0, 3), ...cycle, ...recorded.slice(3 + 3 * cycle.length)];
    expect(shape(typesOf(events))).toEqual(oneCycle);
    // The recording did not ask for encrypted content; the same stream without it has its fields.
    expectRecordedFields(run(chunks).events, "stream-reasoning-summary.sse.txt");
    const reasoning = chunks.map((chunk: any) => chunk.choices[0]?.delta?.reasoning_content ?? "").join("");
    expect(response.output[0].summary).toEqual([{ type: "summary_text", text: reasoning }]);
    expect(decodeReasoningCarrier(response.output[0].encrypted_content)).toEqual({ text: reasoning });
    expect(response.output[1].type).toBe("message");
    expect(response.usage.output_tokens_details.reasoning_tokens).toBe(chunks.at(-1).usage.completion_tokens_details.reasoning_tokens);
    const final = await sdkFinalResponse(sse);
    expect(final.output).toMatchObject(response.output);
  });

  test("openai/chat-stream-finish-length-usage → response.incomplete, reason max_output_tokens", () => {
    const { events, response } = run(sseChunks("openai/chat-stream-finish-length-usage.sse.txt"), context({}, { max_output_tokens: 16 }));
    expect(events.at(-1).type).toBe("response.incomplete");
    expect(response).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, max_output_tokens: 16, completed_at: null });
    expect(response.usage.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
  });
});

const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) => ({ object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason }] });

describe("made-up streams for what no chat recording shows", () => {
  test("a refusal → the events of stream-refusal.sse.txt", async () => {
    const { sse, events, response } = run([chunk({ role: "assistant", content: null }), chunk({ refusal: "I'm sorry, " }), chunk({ refusal: "I can't help." }), chunk({}, "stop")]);
    expect(shape(typesOf(events))).toEqual(shape(recordedTypes("stream-refusal.sse.txt")));
    expectRecordedFields(events, "stream-refusal.sse.txt");
    expect(response.output[0].content).toEqual([{ type: "refusal", refusal: "I'm sorry, I can't help." }]);
    expect((await sdkFinalResponse(sse)).output).toMatchObject(response.output);
  });

  test("an incomplete answer marks the open message incomplete, as stream-incomplete-max-output-tokens.sse.txt", () => {
    const { events, response } = run([chunk({ content: "1. Alabama" }), chunk({}, "length")]);
    expect(shape(typesOf(events))).toEqual(shape(recordedTypes("stream-incomplete-max-output-tokens.sse.txt")));
    expect(events.at(-2).item.status).toBe("incomplete");
    expect(response.output[0].status).toBe("incomplete");
  });

  const tools: ToolNameMap = new Map([
    ["apply_patch", { name: "apply_patch", kind: "custom" }],
    ["multi_agent_v1__spawn_agent", { name: "spawn_agent", namespace: "multi_agent_v1", kind: "function" }],
  ]);

  test("Anthropic-style: thinking with its signature, text, then a namespaced call and a custom call in pieces", async () => {
    const { sse, events, response } = run(
      [
        chunk({ role: "assistant", content: "" }),
        chunk({ reasoning_content: "Plan." }),
        chunk({ reasoning_signature: "sig==" }),
        chunk({ content: "Doing it." }),
        chunk({ tool_calls: [{ index: 0, id: "toolu_1", type: "function", function: { name: "multi_agent_v1__spawn_agent", arguments: "" } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"task":' } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] }),
        chunk({ tool_calls: [{ index: 1, id: "toolu_2", type: "function", function: { name: "apply_patch", arguments: '{"input":"*** Begin' } }] }),
        chunk({ tool_calls: [{ index: 1, function: { arguments: ' Patch"}' } }] }),
        chunk({}, "tool_calls"),
        { choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } },
      ],
      context({ tools, includeEncrypted: true }),
    );
    expect(shape(typesOf(events)).slice(2)).toEqual([
      "response.output_item.added",
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done",
      "response.reasoning_summary_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.custom_tool_call_input.delta",
      "response.custom_tool_call_input.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(decodeReasoningCarrier(response.output[0].encrypted_content)).toEqual({ text: "Plan.", signature: "sig==" });
    expect(response.output.slice(2).map(({ id: _id, ...item }: any) => item)).toEqual([
      { type: "function_call", status: "completed", call_id: "toolu_1", name: "spawn_agent", namespace: "multi_agent_v1", arguments: '{"task":"x"}' },
      { type: "custom_tool_call", status: "completed", call_id: "toolu_2", name: "apply_patch", input: "*** Begin Patch" },
    ]);
    expect(events.find((e) => e.type === "response.custom_tool_call_input.done")).toMatchObject({ input: "*** Begin Patch", item_id: response.output[3].id, output_index: 3 });
    expect((await sdkFinalResponse(sse)).output).toMatchObject(response.output);
  });

  test("a signature without thinking text still carries it, with no summary events, as stream-reasoning-encrypted-function-call.sse.txt", () => {
    const call = chunk({ tool_calls: [{ index: 0, id: "toolu_1", type: "function", function: { name: "f", arguments: '{"a":1}' } }] });
    const { events, response } = run([chunk({ reasoning_signature: "sig==" }), call, chunk({}, "tool_calls")], context({ includeEncrypted: true }));
    expect(shape(typesOf(events))).toEqual(shape(recordedTypes("stream-reasoning-encrypted-function-call.sse.txt")));
    // OpenAI knows its encrypted content when the item opens; ours is whole only at output_item.done.
    const opensReasoning = (e: any) => e.type === "response.output_item.added" && e.item.type === "reasoning";
    expectRecordedFields(events.filter((e) => !opensReasoning(e)), "stream-reasoning-encrypted-function-call.sse.txt");
    expect(response.output[0]).toMatchObject({ type: "reasoning", summary: [] });
    expect(decodeReasoningCarrier(response.output[0].encrypted_content)).toEqual({ text: "", signature: "sig==" });
  });

  test("without include the client sees no encrypted content anywhere, while storedResponse() keeps the carrier", () => {
    const writer = createResponseEventWriter(context());
    const sse = writer.push(chunk({ reasoning_content: "Think." })) + writer.push(chunk({ reasoning_signature: "sig==" })) + writer.push(chunk({ content: "Hi" })) + writer.push(chunk({}, "stop")) + writer.finish();
    expect(sse).not.toContain("encrypted_content");
    expect(writer.response().output[0]).toEqual({ type: "reasoning", id: expect.stringMatching(/^rs_/), summary: [{ type: "summary_text", text: "Think." }] });
    const stored = writer.storedResponse().output[0] as any;
    expect(stored.id).toBe(writer.response().output[0]!.id);
    expect(decodeReasoningCarrier(stored.encrypted_content)).toEqual({ text: "Think.", signature: "sig==" });
  });

  test("fail(): an error event, then response.failed with what was said; nothing after", () => {
    const writer = createResponseEventWriter(context());
    const sse = writer.push(chunk({ content: "Half an ans" })) + writer.fail({ code: "server_error", message: "upstream broke" });
    const events = wellFormed(sse);
    expect(typesOf(events).slice(-2)).toEqual(["error", "response.failed"]);
    expect(events.at(-2)).toEqual({ type: "error", code: "server_error", message: "upstream broke", param: null, sequence_number: events.length - 2 });
    expect(events.at(-1).response).toMatchObject({ status: "failed", error: { code: "server_error", message: "upstream broke" }, output: [{ type: "message", status: "incomplete", content: [{ type: "output_text", text: "Half an ans" }] }] });
    expect(writer.response()).toEqual(events.at(-1).response);
    const recorded = readChunksJson("openai-responses/stream-response-failed-rate-limit.chunks.txt").find((e: any) => e.type === "response.failed");
    expect(Object.keys(events.at(-1).response.error).sort()).toEqual(Object.keys(recorded.response.error).sort());
    expect(writer.push(chunk({ content: "more" })) + writer.finish() + writer.fail({ code: "x", message: "y" })).toBe("");
  });

  test("an empty stream still opens and completes the response", () => {
    const { events, response } = run([]);
    expect(typesOf(events)).toEqual(["response.created", "response.in_progress", "response.completed"]);
    expect(events[0].response).toMatchObject({ status: "in_progress", output: [], usage: null });
    expect(response.output).toEqual([]);
  });
});
