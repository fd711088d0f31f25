/** Recorded Responses requests (Codex, the llm CLI, pydantic-ai, the AI SDK) → canonical chat requests, checked whole. */

import { describe, expect, test } from "bun:test";
import { convertResponsesToChat } from "../../../src/formats/responses/convert-responses-to-chat.ts";
import { encodeReasoningCarrier } from "../../../src/formats/responses/reasoning-carrier.ts";
import { responsesRequestSchema } from "../../../src/formats/responses/responses-schema.ts";
import { providerToolName } from "../../../src/formats/responses/tool-names.ts";
import type { ResponseInputItem, ResponsesRequest } from "../../../src/formats/responses/types.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

/** A recorded body, through the schema first as the route will do. */
function recorded(relative: string): ResponsesRequest {
  const json = readFixtureJson(relative);
  return responsesRequestSchema.parse(relative.startsWith("clients/") ? json.body : json);
}

const convert = (request: ResponsesRequest, history: ResponseInputItem[] = []) => convertResponsesToChat(request, history);
const base = (input: ResponsesRequest["input"], rest: Partial<ResponsesRequest> = {}): ResponsesRequest => ({ model: "gemini/gemini-2.5-flash", input, ...rest });

/** The chat tools Codex's tool list becomes: its functions as they are, the namespace flattened. */
function codexChatTools(body: any): any[] {
  const asFunction = (tool: any, name: string) => ({ type: "function", function: { name, description: tool.description, parameters: tool.parameters, strict: tool.strict } });
  return body.tools.flatMap((tool: any) => {
    if (tool.type === "function") return [asFunction(tool, tool.name)];
    if (tool.type === "namespace") return tool.tools.map((inner: any) => asFunction(inner, `${tool.name}__${inner.name}`));
    return [];
  });
}

describe("recorded Codex requests", () => {
  test("turn 1: developer messages become system messages, the namespace is flattened, web_search is dropped", () => {
    const body = readFixtureJson("clients/codex-0.171-responses-request.json").body;
    const result = convert(recorded("clients/codex-0.171-responses-request.json"));
    expect(result.chat).toEqual({
      model: "mock/codex-like",
      messages: [
        { role: "system", content: body.input[0].content[0].text },
        // Its parts are sections (skills, then permissions): kept apart by a blank line.
        { role: "system", content: body.input[1].content.map((part: any) => part.text).join("\n\n") },
        { role: "user", content: [{ type: "text", text: body.input[2].content[0].text }] },
        { role: "user", content: [{ type: "text", text: "What is the capital of France?" }] },
      ],
      tools: codexChatTools(body),
      tool_choice: "auto",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(result.droppedTools).toEqual(["web_search"]);
    expect(result.tools.get("multi_agent_v1__spawn_agent")).toEqual({ name: "spawn_agent", namespace: "multi_agent_v1", kind: "function" });
    expect(result.tools.get("exec_command")).toEqual({ name: "exec_command", kind: "function" });
    expect(result.tools.size).toBe(12);
  });

  test("turn 2: the function_call is an assistant tool call answered by the tool message right after it", () => {
    const body = readFixtureJson("clients/codex-0.171-responses-request-turn2.json").body;
    const { chat } = convert(recorded("clients/codex-0.171-responses-request-turn2.json"));
    expect(chat.messages.slice(4)).toEqual([
      { role: "assistant", content: null, tool_calls: [{ id: "call_fake2", type: "function", function: { name: "exec_command", arguments: '{"cmd":"echo proxy-tool-ok"}' } }] },
      { role: "tool", tool_call_id: "call_fake2", content: body.input[5].output },
    ]);
    expect(chat.messages).toHaveLength(6);
    expect(chat.tools).toEqual(codexChatTools(body));
  });
});

describe("recorded SDK requests", () => {
  test("llm CLI stateless replay: OpenAI's encrypted reasoning is dropped, the call pairs with its output", () => {
    const { chat } = convert(recorded("openai-responses/requests/llm-stateless-reasoning-replay.json"));
    expect(chat).toEqual({
      model: "gpt-5.5",
      messages: [
        { role: "user", content: readFixtureJson("openai-responses/requests/llm-stateless-reasoning-replay.json").input[0].content },
        { role: "assistant", content: null, tool_calls: [{ id: "call_I670mAzR6AYszdoqaI96qg0k", type: "function", function: { name: "db_lookup", arguments: '{"key": "start"}' } }] },
        { role: "tool", tool_call_id: "call_I670mAzR6AYszdoqaI96qg0k", content: "Begin with the value 7." },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "db_lookup",
            description: "Look up a value by key in the puzzle database.",
            parameters: { properties: { key: { type: "string" } }, required: ["key"], type: "object" },
          },
        },
      ],
      reasoning_effort: "high",
    });
  });

  test("pydantic-ai previous_response_id: the history comes first, a null description is left out, strict stays", () => {
    const history: ResponseInputItem[] = [
      { role: "user", content: "Weather in Paris?" },
      { type: "function_call", id: "fc_1", call_id: "call_N2BikjqNxghwNIwHl2XKfb0F", name: "get_weather", arguments: '{"city":"Paris"}', status: "completed" },
    ];
    const { chat } = convert(recorded("openai-responses/requests/pydantic-ai-previous-response-id-tool-output.json"), history);
    expect(chat).toEqual({
      model: "gpt-4.1",
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: null, tool_calls: [{ id: "call_N2BikjqNxghwNIwHl2XKfb0F", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
        { role: "tool", tool_call_id: "call_N2BikjqNxghwNIwHl2XKfb0F", content: "Sunny, 72F" },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            parameters: { additionalProperties: false, properties: { city: { type: "string" } }, required: ["city"], type: "object" },
            strict: true,
          },
        },
      ],
      tool_choice: "auto",
    });
  });

  test("AI SDK store:false: a typeless message with input_text parts", () => {
    expect(convert(recorded("openai-responses/requests/ai-sdk-store-false-reasoning-model.json")).chat).toEqual({
      model: "gpt-5-mini",
      messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }],
    });
  });
});

describe("messages and content", () => {
  test("instructions lead, a string input is one user message, sampling fields map", () => {
    const request = base("Hi", { instructions: "Be brief.", max_output_tokens: 50, temperature: 0.2, top_p: 0.9, store: false, metadata: { a: "b" }, previous_response_id: "resp_1", prompt_cache_key: "k", include: ["reasoning.encrypted_content"] });
    expect(convert(request).chat).toEqual({
      model: "gemini/gemini-2.5-flash",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
      max_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
    });
  });

  test("images, inline files and unforwardable files", () => {
    const { chat } = convert(
      base([
        {
          role: "user",
          content: [
            { type: "input_image", image_url: "https://x.test/a.png", detail: "high" },
            { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "original" },
            { type: "input_image", file_id: "file-1" },
            { type: "input_file", file_data: "data:application/pdf;base64,JVBER", filename: "a.pdf" },
            { type: "input_file", file_url: "https://x.test/b.pdf" },
          ],
        },
      ]),
    );
    expect(chat.messages[0]!.content).toEqual([
      { type: "image_url", image_url: { url: "https://x.test/a.png", detail: "high" } },
      { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
      { type: "text", text: "[file file-1 was not forwarded: OpenAI file ids and file URLs cannot be read by this provider]" },
      { type: "file", file: { file_data: "data:application/pdf;base64,JVBER", filename: "a.pdf" } },
      { type: "text", text: "[file https://x.test/b.pdf was not forwarded: OpenAI file ids and file URLs cannot be read by this provider]" },
    ]);
  });

  test("an assistant message and the calls after it are one assistant message; parallel outputs follow in order", () => {
    const { chat } = convert(
      base([
        { role: "user", content: "Go" },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Checking ", annotations: [], logprobs: [] }, { type: "output_text", text: "both.", annotations: [], logprobs: [] }] },
        { type: "function_call", call_id: "c1", name: "a", arguments: "{}" },
        { type: "function_call", call_id: "c2", name: "b", arguments: '{"x":1}' },
        { type: "function_call_output", call_id: "c1", output: "one" },
        { type: "function_call_output", call_id: "c2", output: [{ type: "input_text", text: "two" }, { type: "input_image", image_url: "https://x.test/s.png" }] },
        { type: "web_search_call", id: "ws_1" },
        { role: "user", content: "Thanks" },
      ]),
    );
    expect(chat.messages).toEqual([
      { role: "user", content: "Go" },
      {
        role: "assistant",
        content: "Checking both.",
        tool_calls: [
          { id: "c1", type: "function", function: { name: "a", arguments: "{}" } },
          { id: "c2", type: "function", function: { name: "b", arguments: '{"x":1}' } },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "one" },
      { role: "tool", tool_call_id: "c2", content: "two\n[1 attachment of this tool output follows in the next user message]" },
      { role: "user", content: [{ type: "image_url", image_url: { url: "https://x.test/s.png" } }] },
      { role: "user", content: "Thanks" },
    ]);
  });

  test("item_reference resolves to the history's item; an unknown reference is dropped", () => {
    const history: ResponseInputItem[] = [{ type: "message", id: "msg_1", role: "user", content: "Earlier" }];
    const { chat } = convert(base([{ type: "item_reference", id: "msg_1" }, { type: "item_reference", id: "msg_gone" }]), history);
    expect(chat.messages).toEqual([
      { role: "user", content: "Earlier" },
      { role: "user", content: "Earlier" },
    ]);
  });
});

describe("reasoning", () => {
  const call = { type: "function_call", call_id: "toolu_1", name: "f", arguments: "{}" } as const;

  test("our carrier gives the next assistant message its reasoning and signature", () => {
    const encrypted = encodeReasoningCarrier({ text: "Let me think.", signature: "sig==" });
    const { chat } = convert(base([{ role: "user", content: "Q" }, { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Let me think." }], encrypted_content: encrypted }, call]));
    expect(chat.messages[1]).toEqual({ role: "assistant", content: null, tool_calls: [{ id: "toolu_1", type: "function", function: { name: "f", arguments: "{}" } }], reasoning_content: "Let me think.", reasoning_signature: "sig==" });
  });

  test("foreign encrypted content is dropped and only the summary is kept; reasoning starts a new assistant message", () => {
    const { chat } = convert(
      base([
        { role: "assistant", content: "Before." },
        { type: "reasoning", summary: [{ type: "summary_text", text: "A" }, { type: "summary_text", text: "B" }], encrypted_content: "gAAAAABforeign" },
        call,
      ]),
    );
    expect(chat.messages).toEqual([
      { role: "assistant", content: "Before." },
      { role: "assistant", content: null, tool_calls: [{ id: "toolu_1", type: "function", function: { name: "f", arguments: "{}" } }], reasoning_content: "A\n\nB" },
    ]);
  });

  test("reasoning.effort maps to reasoning_effort; xhigh becomes high, unknown efforts are left out", () => {
    const effort = (value: string) => convert(base("x", { reasoning: { effort: value } })).chat.reasoning_effort;
    expect(["none", "minimal", "low", "medium", "high", "xhigh", "max"].map(effort)).toEqual(["none", "minimal", "low", "medium", "high", "high", undefined]);
  });
});

describe("tools", () => {
  test("custom tools are functions with one string argument; their calls and outputs round-trip", () => {
    const result = convert(
      base(
        [
          { type: "custom_tool_call", call_id: "c1", name: "apply_patch", input: "*** Begin Patch" },
          { type: "custom_tool_call_output", call_id: "c1", output: "Done" },
        ],
        { tools: [{ type: "custom", name: "apply_patch", description: "Patch files.", format: { type: "grammar", syntax: "lark", definition: "start: x" } }] },
      ),
    );
    expect(result.chat.tools).toEqual([
      {
        type: "function",
        function: {
          name: "apply_patch",
          description: "Patch files.",
          parameters: {
            type: "object",
            properties: { input: { type: "string", description: "The raw text input of the tool. It must follow this lark grammar:\nstart: x" } },
            required: ["input"],
            additionalProperties: false,
          },
        },
      },
    ]);
    expect(result.tools.get("apply_patch")).toEqual({ name: "apply_patch", kind: "custom" });
    expect(result.chat.messages).toEqual([
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "apply_patch", arguments: '{"input":"*** Begin Patch"}' } }] },
      { role: "tool", tool_call_id: "c1", content: "Done" },
    ]);
  });

  test("built-in tools are dropped and listed once; with no tool left, tool_choice and parallel_tool_calls go too", () => {
    const result = convert(base("x", { tools: [{ type: "web_search" }, { type: "file_search" }, { type: "web_search" }, { type: "mcp" }], tool_choice: "required", parallel_tool_calls: false }));
    expect(result.droppedTools).toEqual(["web_search", "file_search", "mcp"]);
    expect(result.chat).toEqual({ model: "gemini/gemini-2.5-flash", messages: [{ role: "user", content: "x" }] });
  });

  const tools = [
    { type: "function", name: "a", parameters: { type: "object" } },
    { type: "function", name: "b", parameters: { type: "object", properties: {} } },
    { type: "namespace", name: "ns", description: "N", tools: [{ type: "function", name: "a" }, { type: "function", name: "c" }] },
  ] as ResponsesRequest["tools"];

  test("tool_choice: a named function, a namespaced-only name, allowed_tools, a built-in choice", () => {
    const choice = (toolChoice: ResponsesRequest["tool_choice"]) => {
      const { chat } = convert(base("x", { tools, tool_choice: toolChoice, parallel_tool_calls: false }));
      return { names: (chat.tools as any[]).map((tool) => tool.function.name), choice: chat.tool_choice, parallel: chat.parallel_tool_calls };
    };
    expect(choice({ type: "function", name: "a" })).toEqual({ names: ["a", "b", "ns__a", "ns__c"], choice: { type: "function", function: { name: "a" } }, parallel: false });
    expect(choice({ type: "function", name: "c" }).choice).toEqual({ type: "function", function: { name: "ns__c" } });
    expect(choice({ type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "b" }] })).toEqual({ names: ["b"], choice: "required", parallel: false });
    expect(choice({ type: "web_search_preview" })).toEqual({ names: ["a", "b", "ns__a", "ns__c"], choice: undefined, parallel: false });
    expect((convert(base("x", { tools })).chat.tools as any[])[0].function.parameters).toEqual({ type: "object", properties: {} });
  });

  test("provider names that do not fit are shortened with a hash, deterministically", () => {
    const long = providerToolName("x".repeat(60), "namespace");
    expect(long).toMatch(/^[a-zA-Z0-9_-]{64}$/);
    expect(long).toBe(providerToolName("x".repeat(60), "namespace"));
    expect(long).not.toBe(providerToolName("x".repeat(61), "namespace"));
    expect(providerToolName("read.file")).toMatch(/^read_file_[0-9a-f]{8}$/);
    const { tools: names, chat } = convert(base([{ type: "function_call", call_id: "c", name: "x".repeat(60), namespace: "namespace", arguments: "{}" }], { tools: [{ type: "namespace", name: "namespace", tools: [{ type: "function", name: "x".repeat(60) }] }] }));
    expect(names.get(long)).toEqual({ name: "x".repeat(60), namespace: "namespace", kind: "function" });
    expect((chat.messages[0] as any).tool_calls[0].function.name).toBe(long);
  });

  test("text.format: json_schema and json_object map to response_format, text to nothing", () => {
    const format = (value: any) => convert(base("x", { text: { format: value } })).chat.response_format;
    expect(format({ type: "json_schema", name: "Book", schema: { type: "object" }, strict: true })).toEqual({ type: "json_schema", json_schema: { name: "Book", schema: { type: "object" }, strict: true } });
    expect(format({ type: "json_object" })).toEqual({ type: "json_object" });
    expect(format({ type: "text" })).toBeUndefined();
  });
});

describe("schema", () => {
  const issue = (body: unknown) => {
    const result = responsesRequestSchema.safeParse(body);
    return result.success ? undefined : result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };

  test("names the failing field of an item, tolerates unknown items, tools and fields", () => {
    expect(issue({ model: "m", input: [{ role: "user", content: "x" }, { type: "function_call", name: "f", arguments: "{}" }] })).toEqual(["input.1.call_id: is required and must be the id of the call"]);
    expect(issue({ model: "m", input: [{ content: "x" }] })).toEqual(['input.0.type: is required and must be a string such as "message"']);
    expect(issue({ model: "m", tool_choice: "sometimes" })).toEqual(['tool_choice: must be "auto", "none", "required" or a tool choice object']);
    expect(issue({ input: "x" })).toEqual(['model: is required and must be a string like "gemini/gemini-2.5-flash"']);
    expect(issue({ model: "m", input: [{ type: "web_search_call", id: "w" }], tools: [{ type: "web_search", x: 1 }], prompt_cache_key: "k", client_metadata: {} })).toBeUndefined();
  });
});
