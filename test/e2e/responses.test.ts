/**
 * `POST /v1/responses` and its companions, driven with the real `openai` SDK and the AI SDK's
 * default provider (which speaks the Responses API): natively against a host that serves
 * `/responses` itself (`openai/`, the recorded Responses answers), and translated through the
 * canonical chat form against an OpenAI-compatible, a Gemini and an Anthropic upstream.
 */

import { createOpenAI } from "@ai-sdk/openai";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { decodeReasoningCarrier } from "../../src/formats/responses/reasoning-carrier.ts";
import { readFixtureJson } from "../support/fixtures.ts";
import { DEFAULT_SIGNATURE as CLAUDE_SIGNATURE, DEFAULT_TEXT as ANTHROPIC_TEXT, DEFAULT_THINKING, startMockAnthropic, type MockAnthropic } from "../support/mock-anthropic.ts";
import { DEFAULT_SIGNATURE as GEMINI_SIGNATURE, DEFAULT_TEXT as GEMINI_TEXT, startMockGemini, type MockGemini } from "../support/mock-gemini.ts";
import { startMockResponses, type MockResponses } from "../support/mock-responses.ts";
import { DEFAULT_CONTENT, startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { FAST_ENV } from "./rig-helpers.ts";

const NATIVE_KEYS = ["openai-test-key-0001", "openai-test-key-0002"];
const MOCK_KEY = "mock-test-key-0001";
const GEMINI_KEY = "gemini-test-key-0001";
const ANTHROPIC_KEY = "anthropic-test-key-0001";
const VLLM_KEY = "vllm-test-key-0001";

let responsesHost: MockResponses;
let chatHost: MockUpstream;
let gemini: MockGemini;
let anthropic: MockAnthropic;
let proxy: ProxyHarness;

beforeAll(async () => {
  [responsesHost, chatHost, gemini, anthropic] = await Promise.all([startMockResponses(), startMockUpstream(), startMockGemini(), startMockAnthropic()]);
  proxy = await startProxy({
    env: {
      ...FAST_ENV,
      OPENAI_API_KEY_1: NATIVE_KEYS[0]!,
      OPENAI_API_KEY_2: NATIVE_KEYS[1]!,
      OPENAI_API_BASE: responsesHost.url,
      MOCK_API_KEY: MOCK_KEY,
      MOCK_API_BASE: chatHost.url,
      GEMINI_API_KEY: GEMINI_KEY,
      GEMINI_API_BASE: gemini.url,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_API_BASE: anthropic.url,
      // A self-hosted server with its own /responses (vLLM, say), marked native.
      VLLM_API_KEY: VLLM_KEY,
      VLLM_API_BASE: responsesHost.url,
      VLLM_RESPONSES: "native",
    },
  });
});

afterAll(async () => {
  await proxy.stop();
  await Promise.all([responsesHost.stop(), chatHost.stop(), gemini.stop(), anthropic.stop()]);
});

beforeEach(async () => {
  for (const mock of [responsesHost, chatHost, gemini, anthropic]) mock.reset();
  await proxy.request("/v1/keys/reset", { method: "POST", body: "{}" });
});

function postResponses(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return postResponsesPath("/v1/responses", body, headers);
}

function postResponsesPath(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return proxy.request(path, { method: "POST", body: JSON.stringify(body), headers });
}

/** The `event:` names and parsed data of a Responses stream body. */
async function readEvents(response: Response): Promise<{ type: string; data: any }[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const type = /^event: (.+)$/m.exec(block)?.[1] ?? "";
      const data = JSON.parse(/^data: (.+)$/m.exec(block)![1]!);
      return { type, data };
    });
}

const responsesCalls = () => responsesHost.calls.filter((call) => call.path === "/v1/responses");
const chatCalls = () => chatHost.calls.filter((call) => call.path === "/v1/chat/completions");

describe("native pass-through (openai/, a host with its own /responses)", () => {
  test("non-stream: the host's answer as it came, stored, listed, deleted", async () => {
    const client = proxy.openai();
    const response = await client.responses.create({ model: "openai/gpt-5.5", input: "ping" });
    expect(response.output_text).toBe("pong");
    expect(response.id).toBe("resp_mock000001");
    expect(responsesCalls()).toHaveLength(1);
    expect(responsesCalls()[0]!.body).toMatchObject({ model: "gpt-5.5", input: "ping" });

    const fetched = await client.responses.retrieve(response.id);
    expect(fetched.output_text).toBe("pong");
    const items = await client.responses.inputItems.list(response.id);
    expect(items.data).toHaveLength(1);
    expect(items.data[0]).toMatchObject({ type: "message", role: "user", content: [{ type: "input_text", text: "ping" }] });
    expect(items.data[0]!.id).toMatch(/^msg_/);

    const deleted = await proxy.request(`/v1/responses/${response.id}`, { method: "DELETE" });
    expect(await deleted.json()).toEqual({ id: response.id, object: "response", deleted: true });
    const gone = await proxy.request(`/v1/responses/${response.id}`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as any).error).toMatchObject({ type: "invalid_request_error", message: `Response with id '${response.id}' not found.` });
  });

  test("stream: the recorded events pass as they came", async () => {
    const stream = await proxy.openai().responses.create({ model: "openai/gpt-5.5", input: "ping", stream: true });
    const types: string[] = [];
    let text = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
    }
    expect(types).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(text).toBe("pong");
    expect(responsesCalls()[0]!.body.stream).toBe(true);
  });

  test("an error event and response.failed before any output rotate to the next key invisibly", async () => {
    responsesHost.script(NATIVE_KEYS[0]!, { kind: "stream_error_first" });
    responsesHost.script(NATIVE_KEYS[1]!, { kind: "stream_error_first" });
    responsesHost.script(NATIVE_KEYS[1]!, { kind: "success" });
    const response = await postResponses({ model: "openai/gpt-5.5", input: "ping", stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    const events = await readEvents(response);
    expect(events.map((event) => event.type)).not.toContain("error");
    expect(events.at(-1)!.type).toBe("response.completed");
    expect(responsesCalls().map((call) => call.key)).toEqual(NATIVE_KEYS);
  });

  test("a stream cut after its first output ends with an error event and response.failed, numbered on", async () => {
    responsesHost.setDefault({ kind: "reset_after_first_output" });
    const response = await postResponses({ model: "openai/gpt-5.5", input: "ping", stream: true });
    expect(response.status).toBe(200);
    const events = await readEvents(response);
    expect(events.slice(-2).map((event) => event.type)).toEqual(["error", "response.failed"]);
    const numbers = events.map((event) => event.data.sequence_number);
    expect(numbers).toEqual(numbers.map((_, index) => index));
    expect(events.at(-1)!.data.response.status).toBe("failed");
  });

  test("previous_response_id is rebuilt from the proxy's store, so the next key need not know it", async () => {
    const client = proxy.openai();
    const first = await client.responses.create({ model: "openai/gpt-5.5", input: "ping" });
    await client.responses.create({ model: "openai/gpt-5.5", input: "again", previous_response_id: first.id });
    const [one, two] = responsesCalls();
    expect(one!.key).not.toBe(two!.key);
    expect(two!.body.previous_response_id).toBeUndefined();
    const input = two!.body.input as any[];
    expect(input.map((item) => [item.type, item.role ?? null])).toEqual([
      ["message", "user"],
      ["message", "assistant"],
      ["message", "user"],
    ]);
    expect(input.every((item) => item.id === undefined)).toBe(true);
    expect(input.at(-1).content[0].text).toBe("again");
  });

  test("a conversation moving from a translated provider to the native host leaves this proxy's reasoning carrier behind", async () => {
    anthropic.script(ANTHROPIC_KEY, { kind: "thinking" });
    const client = proxy.openai();
    const first = await client.responses.create({ model: "anthropic/claude-sonnet-4-5-20250929", input: "Think first.", reasoning: { effort: "high" }, include: ["reasoning.encrypted_content"] });
    expect(first.output[0]!.type).toBe("reasoning");
    await client.responses.create({ model: "openai/gpt-5.5", input: "Now you.", previous_response_id: first.id });
    await client.responses.create({ model: "openai/gpt-5.5", input: [...(first.output as any[]), { role: "user", content: "Stateless too." }], store: false });
    const [viaStore, stateless] = responsesCalls().map((call) => call.body.input as any[]);
    expect(viaStore!.map((item) => item.type ?? item.role)).toEqual(["message", "message", "message"]);
    expect(stateless!.map((item) => item.type ?? item.role)).toEqual(["message", "user"]);
  });

  test("<P>_RESPONSES=native passes another provider through too, its usage read from response.completed", async () => {
    const stream = await proxy.openai().responses.create({ model: "vllm/qwen3-coder", input: "ping", stream: true });
    let text = "";
    for await (const event of stream) if (event.type === "response.output_text.delta") text += event.delta;
    expect(text).toBe("pong");
    expect(responsesCalls().map((call) => [call.key, call.body.model])).toEqual([[VLLM_KEY, "qwen3-coder"]]);
    expect(chatHost.calls).toHaveLength(0);
    const [usage] = await proxy.ctx.store.usage({ provider: "vllm" });
    expect(usage).toMatchObject({ model: "qwen3-coder", requests: 1, successes: 1, promptTokens: 11, completionTokens: 5 });
  });

  test("an id the proxy never stored goes to the host as it is", async () => {
    await proxy.openai().responses.create({ model: "openai/gpt-5.5", input: "x", previous_response_id: "resp_made_elsewhere" });
    expect(responsesCalls()[0]!.body.previous_response_id).toBe("resp_made_elsewhere");
  });
});

/** The three translated families, each with what its mock answers by default. */
const TRANSLATED = [
  { family: "OpenAI-compatible", model: "mock/gpt-4o-mini", text: DEFAULT_CONTENT },
  { family: "Gemini", model: "gemini/gemini-2.5-flash", text: GEMINI_TEXT },
  { family: "Anthropic", model: "anthropic/claude-sonnet-4-5-20250929", text: ANTHROPIC_TEXT },
] as const;

describe.each(TRANSLATED)("translated to chat: $family", ({ model, text }) => {
  test("non-stream: a completed response with the answer, usage and a stored copy", async () => {
    const client = proxy.openai();
    const response = await client.responses.create({ model, input: "Say hello.", instructions: "Be brief." });
    expect(response.status).toBe("completed");
    expect(response.object).toBe("response");
    expect(response.id).toMatch(/^resp_/);
    expect(response.model).toBe(model);
    expect(response.output_text).toBe(text);
    expect(response.usage!.input_tokens).toBeGreaterThan(0);
    expect(response.usage!.output_tokens).toBeGreaterThan(0);
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens);
    expect((await client.responses.retrieve(response.id)).output_text).toBe(text);
  });

  test("stream: the Responses event sequence, numbered, with one terminal event", async () => {
    const stream = await proxy.openai().responses.create({ model, input: "Say hello.", stream: true });
    const types: string[] = [];
    const numbers: number[] = [];
    let deltas = "";
    let completed: any;
    for await (const event of stream) {
      types.push(event.type);
      numbers.push(event.sequence_number);
      if (event.type === "response.output_text.delta") deltas += event.delta;
      if (event.type === "response.completed") completed = event.response;
    }
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    expect(types.filter((type) => type.startsWith("response.") && ["response.completed", "response.incomplete", "response.failed"].includes(type))).toHaveLength(1);
    expect(numbers).toEqual(numbers.map((_, index) => index));
    expect(deltas).toBe(text);
    expect(completed.output.at(-1).content[0].text).toBe(text);
  });

  test("previous_response_id continues the conversation from the store", async () => {
    const client = proxy.openai();
    const first = await client.responses.create({ model, input: "First question." });
    await client.responses.create({ model, input: "Second question.", previous_response_id: first.id });
    const bodies = upstreamBodies(model);
    expect(bodies).toHaveLength(2);
    expect(conversationTexts(model, bodies[1])).toEqual(["First question.", text, "Second question."]);
  });
});

describe("translated to chat: errors and tools", () => {
  test("an unknown previous_response_id is a 404 in OpenAI's words, and nothing is sent", async () => {
    const response = await postResponses({ model: "mock/gpt-4o-mini", input: "x", previous_response_id: "resp_nope" });
    expect(response.status).toBe(404);
    expect(((await response.json()) as any).error).toEqual({
      message: "Previous response with id 'resp_nope' not found.",
      type: "invalid_request_error",
      code: "previous_response_not_found",
      param: "previous_response_id",
    });
    expect(chatCalls()).toHaveLength(0);
  });

  test("malformed JSON, a wrong field type and an unknown provider get honest statuses", async () => {
    const malformed = await proxy.request("/v1/responses", { method: "POST", body: "{not json" });
    expect(malformed.status).toBe(400);
    const wrongType = await postResponses({ model: "mock/x", input: 42 });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as any).error.message).toStartWith("input: ");
    const unknown = await postResponses({ model: "nobody/x", input: "hi" });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error.code).toBe("unknown_provider");
  });

  test("a stateless tool loop (store: false): function_call out, function_call_output back as a tool message", async () => {
    chatHost.script(MOCK_KEY, [{ kind: "success", toolCalls: true }, { kind: "success", content: "Done." }]);
    const client = proxy.openai();
    const tools = [
      { type: "function" as const, name: "delete_file", description: "Delete a file", parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] }, strict: false },
      { type: "function" as const, name: "create_file", description: "Create a file", parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] }, strict: false },
    ];
    const first = await client.responses.create({ model: "mock/gpt-4o-mini", input: "Tidy up.", tools, store: false });
    const calls = first.output.filter((item) => item.type === "function_call");
    expect(calls.map((call) => [call.name, call.arguments])).toEqual([
      ["delete_file", '{"path": ".env"}'],
      ["create_file", '{"path": "test.txt"}'],
    ]);
    expect(await proxy.request(`/v1/responses/${first.id}`).then((r) => r.status)).toBe(404);
    const outputs = calls.map((call) => ({ type: "function_call_output" as const, call_id: call.call_id, output: `ok:${call.name}` }));
    const second = await client.responses.create({ model: "mock/gpt-4o-mini", input: [{ role: "user", content: "Tidy up." }, ...(first.output as any[]), ...outputs], tools, store: false });
    expect(second.output_text).toBe("Done.");
    const messages = chatCalls()[1]!.body.messages as any[];
    expect(messages.map((message) => message.role)).toEqual(["user", "assistant", "tool", "tool"]);
    expect(messages[1].tool_calls.map((call: any) => call.id)).toEqual(calls.map((call) => call.call_id));
    expect(messages.slice(2).map((message) => [message.tool_call_id, message.content])).toEqual(calls.map((call) => [call.call_id, `ok:${call.name}`]));
  });

  test("Codex CLI's recorded turns: built-in tools dropped and named, namespace tools flattened, the tool result answered", async () => {
    for (const fixture of ["clients/codex-0.171-responses-request.json", "clients/codex-0.171-responses-request-turn2.json"]) {
      const recorded = readFixtureJson(fixture);
      const response = await postResponses({ ...recorded.body, model: "mock/gpt-4o-mini" });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-proxy-dropped-tools")).toBe("web_search");
      const events = await readEvents(response);
      expect(events.at(-1)!.type).toBe("response.completed");
    }
    const [turn1, turn2] = chatCalls();
    const names = (turn1!.body.tools as any[]).map((t) => t.function.name);
    expect(names).toContain("exec_command");
    expect(names.some((name: string) => name.startsWith("multi_agent_v1__"))).toBe(true);
    expect(names).not.toContain("web_search");
    const last = (turn2!.body.messages as any[]).slice(-2);
    expect(last[0]).toMatchObject({ role: "assistant", tool_calls: [{ id: "call_fake2", function: { name: "exec_command", arguments: '{"cmd":"echo proxy-tool-ok"}' } }] });
    expect(last[1]).toMatchObject({ role: "tool", tool_call_id: "call_fake2" });
    expect(String(last[1].content)).toContain("proxy-tool-ok");
  });
});

describe("stateless multi-turn tool use keeps what the provider needs (store: false, encrypted reasoning)", () => {
  const searchTool = { type: "function" as const, name: "searchDocs", description: "Search", parameters: { type: "object", properties: { query: { type: "string" } }, required: ["query"] }, strict: false };

  test("Claude's thinking travels in the reasoning item, so the next turn is signed even when the proxy remembers nothing", async () => {
    anthropic.script(ANTHROPIC_KEY, [{ kind: "tool_use", withThinking: true }, { kind: "text" }]);
    const client = proxy.openai();
    const request = {
      model: "anthropic/claude-sonnet-4-5-20250929",
      tools: [searchTool],
      store: false,
      include: ["reasoning.encrypted_content" as const],
      reasoning: { effort: "high" as const },
    };
    const first = await client.responses.create({ ...request, input: "Find alpha." });
    const reasoning = first.output.find((item) => item.type === "reasoning") as any;
    expect(reasoning.summary.map((part: any) => part.text).join("")).toBe(DEFAULT_THINKING);
    expect(reasoning.encrypted_content).toStartWith("lkp-r1.");
    const call = first.output.find((item) => item.type === "function_call") as any;
    expect(call.name).toBe("searchDocs");
    // A call id the proxy never handed out (as after a restart): only the reasoning item can sign the turn.
    const input = [
      { role: "user" as const, content: "Find alpha." },
      reasoning,
      { ...call, call_id: "call_after_restart", id: undefined },
      { type: "function_call_output" as const, call_id: "call_after_restart", output: "alpha: found" },
    ];
    const second = await client.responses.create({ ...request, input });
    expect(second.output_text).toBe(ANTHROPIC_TEXT);
    const sent = anthropic.calls.filter((c) => c.path === "/v1/messages")[1]!.body;
    expect(sent.thinking).toBeDefined();
    expect(sent.messages[1].role).toBe("assistant");
    expect(sent.messages[1].content[0]).toEqual({ type: "thinking", thinking: DEFAULT_THINKING, signature: CLAUDE_SIGNATURE });
    expect(sent.messages[1].content[1]).toMatchObject({ type: "tool_use", name: "searchDocs" });
  });

  test.each([false, true])("without include no encrypted content is shown (stream: %p), yet the stored copy keeps the signature", async (stream) => {
    anthropic.script(ANTHROPIC_KEY, { kind: "tool_use", withThinking: true });
    const request = { model: "anthropic/claude-sonnet-4-5-20250929", tools: [searchTool], input: "Find alpha.", reasoning: { effort: "high" as const } };
    let response: any;
    if (stream) {
      for await (const event of await proxy.openai().responses.create({ ...request, stream: true })) {
        if (event.type === "response.output_item.done" && event.item.type === "reasoning") expect((event.item as any).encrypted_content).toBeUndefined();
        if (event.type === "response.completed") response = event.response;
      }
    } else {
      response = await proxy.openai().responses.create(request);
    }
    const reasoning = response.output.find((item: any) => item.type === "reasoning");
    expect(reasoning.summary[0].text).toBe(DEFAULT_THINKING);
    expect(reasoning.encrypted_content).toBeUndefined();
    const fetched = ((await (await proxy.request(`/v1/responses/${response.id}`)).json()) as any).output.find((item: any) => item.type === "reasoning");
    expect(fetched.encrypted_content).toBeUndefined();
    const stored = (await proxy.ctx.responses.get(response.id))!.response.output as any[];
    const carried = stored.find((item) => item.type === "reasoning").encrypted_content;
    expect(decodeReasoningCarrier(carried)).toEqual({ text: DEFAULT_THINKING, signature: CLAUDE_SIGNATURE });
  });

  test("Gemini 3's thought signature rides in the call_id and comes back on the function call", async () => {
    gemini.script(GEMINI_KEY, [{ kind: "tool_call" }, { kind: "text" }]);
    const client = proxy.openai();
    const weather = { ...searchTool, name: "weather", parameters: { type: "object", properties: { location: { type: "string" } } } };
    const first = await client.responses.create({ model: "gemini/gemini-3-pro-preview", input: "Weather?", tools: [weather], store: false });
    const call = first.output.find((item) => item.type === "function_call") as any;
    expect(call.call_id).toContain("_ts_");
    await client.responses.create({
      model: "gemini/gemini-3-pro-preview",
      tools: [weather],
      store: false,
      input: [{ role: "user", content: "Weather?" }, call, { type: "function_call_output", call_id: call.call_id, output: "sunny" }],
    });
    const sent = gemini.calls.filter((c) => c.path.includes(":generateContent"))[1]!.body;
    const modelTurn = sent.contents.find((content: any) => content.role === "model");
    expect(modelTurn.parts[0].functionCall.name).toBe("weather");
    expect(modelTurn.parts[0].thoughtSignature).toBe(GEMINI_SIGNATURE);
  });
});

describe("POST /v1/responses/input_tokens", () => {
  test("the provider's own count where it has one, else the local estimate", async () => {
    const counted = await postResponsesPath("/v1/responses/input_tokens", { model: "gemini/gemini-2.5-flash", input: "Count these words please.", instructions: "Be brief." });
    expect(counted.status).toBe(200);
    expect(counted.headers.get("x-proxy-token-count")).toBe("provider");
    const body = (await counted.json()) as any;
    expect(body.object).toBe("response.input_tokens");
    expect(body.input_tokens).toBe(Math.ceil("Count these words please.".length / 4) + Math.ceil("Be brief.".length / 4));
    const estimated = await postResponsesPath("/v1/responses/input_tokens", { model: "mock/gpt-4o-mini", input: "Count these words please." });
    expect(estimated.headers.get("x-proxy-token-count")).toBe("estimate");
    expect(((await estimated.json()) as any).input_tokens).toBeGreaterThan(3);
    expect(chatCalls()).toHaveLength(0);
  });
});

/** Per translated family: how to make its mock call one tool, and the call it makes. */
const TOOL_TURNS = [
  { ...TRANSLATED[0], script: () => chatHost.script(MOCK_KEY, [{ kind: "success", toolCalls: true }, { kind: "success", content: DEFAULT_CONTENT }]), tool: "delete_file", args: { path: ".env" } },
  { ...TRANSLATED[1], script: () => gemini.script(GEMINI_KEY, [{ kind: "tool_call" }, { kind: "text" }]), tool: "weather", args: { location: "San Francisco" } },
  { ...TRANSLATED[2], script: () => anthropic.script(ANTHROPIC_KEY, [{ kind: "tool_use" }, { kind: "text" }]), tool: "searchDocs", args: { query: "alpha" } },
] as const;

describe.each(TOOL_TURNS)("the AI SDK's default provider (Responses API): $family", ({ model, text, script, tool: toolName, args }) => {
  const provider = () => createOpenAI({ baseURL: proxy.baseURL, apiKey: proxy.proxyKey });

  test("generateText and streamText", async () => {
    const generated = await generateText({ model: provider()(model), prompt: "Say hello." });
    expect(generated.text).toBe(text);
    expect(generated.usage.inputTokens).toBeGreaterThan(0);
    const streamed = streamText({ model: provider()(model), prompt: "Say hello." });
    expect(await streamed.text).toBe(text);
    expect((await streamed.usage).outputTokens).toBeGreaterThan(0);
  });

  test("a tool call runs and its result goes back for the final answer", async () => {
    script();
    const executed: unknown[] = [];
    const anyObject = jsonSchema<Record<string, unknown>>({ type: "object", properties: Object.fromEntries(Object.keys(args).map((key) => [key, { type: "string" }])) });
    // Every tool the mocks call is offered (the OpenAI-compatible one calls create_file too).
    const tools = Object.fromEntries(
      [...TOOL_TURNS.map((turn) => turn.tool), "create_file"].map((name) => [name, tool({ description: name, inputSchema: anyObject, execute: async (input) => (executed.push(input), `ran ${name}`) })]),
    );
    const result = await generateText({ model: provider()(model), prompt: "Use the tool.", tools, stopWhen: stepCountIs(3) });
    expect(result.text).toBe(text);
    expect(executed[0]).toEqual(args);
    const second = upstreamBodies(model)[1];
    expect(JSON.stringify(second)).toContain(`ran ${toolName}`);
  });
});

/** What each translated upstream received, as request bodies in order. */
function upstreamBodies(model: string): any[] {
  if (model.startsWith("mock/")) return chatCalls().map((call) => call.body);
  if (model.startsWith("gemini/")) return gemini.calls.filter((call) => call.path.includes(":generateContent") || call.path.includes(":streamGenerateContent")).map((call) => call.body);
  return anthropic.calls.filter((call) => call.path === "/v1/messages").map((call) => call.body);
}

/** The user and assistant texts of an upstream request, in order, whatever its wire format. */
function conversationTexts(model: string, body: any): string[] {
  const text = (content: unknown): string =>
    typeof content === "string" ? content : (content as any[]).map((part) => part.text ?? "").join("");
  if (model.startsWith("mock/")) return (body.messages as any[]).filter((m) => m.role !== "system").map((m) => text(m.content));
  if (model.startsWith("gemini/")) return (body.contents as any[]).map((content) => text(content.parts));
  return (body.messages as any[]).map((message) => text(message.content));
}
