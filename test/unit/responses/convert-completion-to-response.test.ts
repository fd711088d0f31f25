/** Recorded chat completions → Responses `response` objects, checked against OpenAI's recorded Responses answers. */

import { describe, expect, test } from "bun:test";
import { convertCompletionToResponse, visibleResponse, type ResponseContext } from "../../../src/formats/responses/convert-completion-to-response.ts";
import { decodeReasoningCarrier, encodeReasoningCarrier } from "../../../src/formats/responses/reasoning-carrier.ts";
import type { ToolNameMap } from "../../../src/formats/responses/tool-names.ts";
import type { ResponsesRequest } from "../../../src/formats/responses/types.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

function context(request: Partial<ResponsesRequest> = {}, extra: Partial<ResponseContext> = {}): ResponseContext {
  return { id: "resp_test", createdAt: 1770000000, model: "gemini/gemini-2.5-flash", request: { model: "gemini/gemini-2.5-flash", input: "x", ...request }, tools: new Map(), includeEncrypted: false, ...extra };
}

const keys = (value: object) => Object.keys(value).sort();

/**
 * The recorded answer's top-level fields, less what only OpenAI has to say (`billing`), plus the
 * `completed_at` that OpenAI's newer answers carry (null until completed; these recordings predate it).
 */
function recordedFields(recorded: Record<string, unknown>): string[] {
  return [...Object.keys(recorded).filter((field) => field !== "billing"), "completed_at"].sort();
}

/** Same item types in the same order, each item and content part with the recorded fields. */
function expectSameShape(output: any[], recorded: any[]): void {
  expect(output.map((item) => item.type)).toEqual(recorded.map((item) => item.type));
  output.forEach((item, index) => {
    expect(keys(item)).toEqual(keys(recorded[index]).filter((field) => field !== "phase"));
    (item.content ?? []).forEach((part: object, partIndex: number) => expect(keys(part)).toEqual(keys(recorded[index].content[partIndex])));
  });
}

describe("recorded answers", () => {
  test("openai/chat-parallel-tool-calls → the shape of parallel-function-calls.json", () => {
    const recorded = readFixtureJson("openai-responses/parallel-function-calls.json");
    const response = convertCompletionToResponse(readFixtureJson("openai/chat-parallel-tool-calls.json"), context());
    expect(keys(response)).toEqual(recordedFields(recorded));
    expectSameShape(response.output, recorded.output);
    expect(response.output.map((item: any) => [item.call_id, item.name, item.arguments, item.status])).toEqual([
      ["call_jYdIdRZHxZTn5bWCq5jlMrJi", "delete_file", '{"path": ".env"}', "completed"],
      ["call_TmlTVWQbzrXCZ4jNsCVNbNqu", "create_file", '{"path": "test.txt"}', "completed"],
    ]);
    expect(response.output.map((item: any) => item.id)).toEqual([expect.stringMatching(/^fc_[0-9a-f]{32}$/), expect.stringMatching(/^fc_[0-9a-f]{32}$/)]);
    expect(response.output[0]!.id).not.toBe(response.output[1]!.id);
    expect(response.status).toBe("completed");
    expect(response.usage).toEqual({ input_tokens: 71, input_tokens_details: { cached_tokens: 0 }, output_tokens: 46, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 117 });
  });

  test("openai/chat-text → the shape of text.json, with the defaults OpenAI echoes", () => {
    const completion = readFixtureJson("openai/chat-text.json");
    const response = convertCompletionToResponse(completion, context());
    expectSameShape(response.output, readFixtureJson("openai-responses/text.json").output);
    expect(response.output[0]).toMatchObject({ type: "message", status: "completed", role: "assistant", content: [{ type: "output_text", text: completion.choices[0].message.content, annotations: [], logprobs: [] }] });
    expect(response).toMatchObject({
      id: "resp_test",
      object: "response",
      created_at: 1770000000,
      model: "gemini/gemini-2.5-flash",
      error: null,
      incomplete_details: null,
      instructions: null,
      parallel_tool_calls: true,
      reasoning: { effort: null, summary: null },
      store: true,
      temperature: 1,
      text: { format: { type: "text" }, verbosity: "medium" },
      tool_choice: "auto",
      tools: [],
      top_p: 1,
      truncation: "disabled",
      metadata: {},
    });
    expect(typeof response.completed_at).toBe("number");
  });

  test("finish_reason length → the shape and status of incomplete-max-output-tokens.json", () => {
    const recorded = readFixtureJson("openai-responses/incomplete-max-output-tokens.json");
    const completion = { choices: [{ index: 0, message: { role: "assistant", content: recorded.output[0].content[0].text }, finish_reason: "length" }], usage: { prompt_tokens: 14, completion_tokens: 50, total_tokens: 64 } };
    const response = convertCompletionToResponse(completion, context({ max_output_tokens: 50 }));
    expect(keys(response)).toEqual(recordedFields(recorded));
    expect(response.completed_at).toBeNull();
    expectSameShape(response.output, recorded.output);
    expect({ status: response.status, incomplete_details: response.incomplete_details, max_output_tokens: response.max_output_tokens, item: (response.output[0] as any).status, usage: response.usage }).toEqual({
      status: recorded.status,
      incomplete_details: recorded.incomplete_details,
      max_output_tokens: 50,
      item: "incomplete",
      usage: recorded.usage,
    });
  });

  test("a refusal → the refusal part of refusal-json-schema.json", () => {
    const recorded = readFixtureJson("openai-responses/refusal-json-schema.json");
    const completion = { choices: [{ index: 0, message: { role: "assistant", content: null, refusal: recorded.output[0].content[0].refusal }, finish_reason: "stop" }] };
    const response = convertCompletionToResponse(completion, context());
    expectSameShape(response.output, recorded.output);
    expect(response.output[0]).toMatchObject({ content: recorded.output[0].content });
    expect(response.usage).toBeNull();
  });

  test("deepseek/tool-call-with-reasoning → reasoning then the call, the shape of reasoning-encrypted-content-function-call.json", () => {
    const recorded = readFixtureJson("openai-responses/reasoning-encrypted-content-function-call.json");
    const completion = readFixtureJson("deepseek/tool-call-with-reasoning.json");
    const response = convertCompletionToResponse(completion, context({}, { includeEncrypted: true }));
    expectSameShape(response.output, recorded.output);
    const [reasoning, call] = response.output as any[];
    expect(reasoning.id).toMatch(/^rs_/);
    expect(reasoning.summary).toEqual([{ type: "summary_text", text: completion.choices[0].message.reasoning_content }]);
    expect(decodeReasoningCarrier(reasoning.encrypted_content)).toEqual({ text: completion.choices[0].message.reasoning_content });
    expect(call).toMatchObject({ type: "function_call", call_id: "call_00_9V0vrf86Pc9aelHCJMZqnJBo", name: "weather", arguments: '{"location": "San Francisco"}' });
    expect(response.usage).toEqual({ input_tokens: 339, input_tokens_details: { cached_tokens: 320 }, output_tokens: 92, output_tokens_details: { reasoning_tokens: 48 }, total_tokens: 431 });
    // The whole response always carries it (for the store); the client's copy only with `include`.
    const whole = convertCompletionToResponse(completion, context());
    expect(decodeReasoningCarrier((whole.output[0] as any).encrypted_content)).toEqual({ text: completion.choices[0].message.reasoning_content });
    expect(keys(visibleResponse(whole, false).output[0]!)).toEqual(["id", "summary", "type"]);
    expect(visibleResponse(whole, true)).toBe(whole);
  });
});

describe("reasoning carrier", () => {
  test("round-trips text and signature; foreign and damaged content decode to undefined", () => {
    const carried = { text: "Thinking… ünïcode ✓", signature: "EqQBCkYIBxgCKkDsig+/==" };
    expect(decodeReasoningCarrier(encodeReasoningCarrier(carried))).toEqual(carried);
    expect(decodeReasoningCarrier(encodeReasoningCarrier({ text: "" }))).toEqual({ text: "" });
    const foreign = readFixtureJson("openai-responses/requests/llm-stateless-reasoning-replay.json").input[1].encrypted_content;
    expect(decodeReasoningCarrier(foreign)).toBeUndefined();
    expect(decodeReasoningCarrier(encodeReasoningCarrier(carried).slice(0, 12))).toBeUndefined();
  });

  test("an Anthropic signature alone still makes a reasoning item that carries it", () => {
    const completion = { choices: [{ message: { content: "Hi", reasoning_signature: "sig" }, finish_reason: "stop" }] };
    const [reasoning] = convertCompletionToResponse(completion, context({}, { includeEncrypted: true })).output as any[];
    expect(reasoning.summary).toEqual([]);
    expect(decodeReasoningCarrier(reasoning.encrypted_content)).toEqual({ text: "", signature: "sig" });
  });
});

describe("tool names back to the client's", () => {
  const tools: ToolNameMap = new Map([
    ["multi_agent_v1__spawn_agent", { name: "spawn_agent", namespace: "multi_agent_v1", kind: "function" }],
    ["apply_patch", { name: "apply_patch", kind: "custom" }],
  ]);
  const call = (id: string, name: string, args: string) => ({ id, type: "function", function: { name, arguments: args } });

  test("namespaced functions get their namespace, custom tools become custom_tool_call with the input, unknown names stay", () => {
    const completion = {
      choices: [{ message: { content: null, tool_calls: [call("c1", "multi_agent_v1__spawn_agent", "{}"), call("c2", "apply_patch", '{"input":"*** Begin Patch\\n"}'), call("c3", "made_up", "{}")] }, finish_reason: "tool_calls" }],
    };
    const output = convertCompletionToResponse(completion, context({}, { tools })).output as any[];
    expect(output.map(({ id: _id, ...item }) => item)).toEqual([
      { type: "function_call", status: "completed", call_id: "c1", name: "spawn_agent", namespace: "multi_agent_v1", arguments: "{}" },
      { type: "custom_tool_call", status: "completed", call_id: "c2", name: "apply_patch", input: "*** Begin Patch\n" },
      { type: "function_call", status: "completed", call_id: "c3", name: "made_up", arguments: "{}" },
    ]);
    expect(output[1].id).toMatch(/^ctc_/);
  });

  test("the request's settings are echoed", () => {
    const request: Partial<ResponsesRequest> = {
      instructions: "Be brief.",
      tools: [{ type: "function", name: "f", parameters: { type: "object" } }, { type: "web_search" }],
      tool_choice: "required",
      parallel_tool_calls: false,
      temperature: 0.3,
      top_p: 0.5,
      store: false,
      metadata: { k: "v" },
      previous_response_id: "resp_prev",
      reasoning: { effort: "low", summary: "auto" },
      text: { format: { type: "json_object" } },
    };
    const response = convertCompletionToResponse({ choices: [{ message: { content: "{}" }, finish_reason: "stop" }] }, context(request));
    expect(response).toMatchObject({ ...request, text: { format: { type: "json_object" }, verbosity: "medium" } });
  });
});
