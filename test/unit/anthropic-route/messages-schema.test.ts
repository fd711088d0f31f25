/** The `/v1/messages` and `/v1/messages/count_tokens` body schemas: what passes, and the exact 400 text of what does not. */

import { describe, expect, test } from "bun:test";
import { countTokensRequestSchema, messagesRequestSchema } from "../../../src/formats/anthropic/messages-schema.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

const BASE = { model: "groq/llama-3.3-70b", max_tokens: 1024, messages: [{ role: "user", content: "Hello" }] };

/** The first issue as the server reports it (`messages[0].role: …`, the format of read-request.ts). */
function firstError(body: Record<string, unknown>, schema: typeof messagesRequestSchema | typeof countTokensRequestSchema = messagesRequestSchema): string {
  const result = schema.safeParse(body);
  if (result.success) throw new Error("expected the body to be rejected");
  const issue = result.error.issues[0]!;
  const path = issue.path.map((part, index) => (typeof part === "number" ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join("");
  return `${path}: ${issue.message}`;
}

const withMessages = (...messages: unknown[]) => ({ ...BASE, messages });
const userBlocks = (...blocks: unknown[]) => withMessages({ role: "user", content: blocks });

describe("accepted bodies", () => {
  test("a Claude Code–style request passes with every field it sent, unknown ones included", () => {
    const body = {
      model: "deepseek/deepseek-chat",
      max_tokens: 32000,
      system: [
        { type: "text", text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "You are an interactive CLI tool.", cache_control: { type: "ephemeral", ttl: "1h" } },
      ],
      messages: [
        { role: "user", content: [{ type: "text", text: "<system-reminder>ctx</system-reminder>" }, { type: "text", text: "fix the bug", cache_control: { type: "ephemeral" } }] },
        { role: "assistant", content: [{ type: "thinking", thinking: "Look first.", signature: "sig" }, { type: "tool_use", id: "toolu_1", name: "Read", input: { file_path: "/a.ts" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "1\tconst a = 1;" }], is_error: false }] },
      ],
      tools: [{ name: "Read", description: "Reads a file", input_schema: { type: "object", properties: { file_path: { type: "string" } }, required: ["file_path"], additionalProperties: false, $schema: "http://json-schema.org/draft-07/schema#" } }],
      tool_choice: { type: "auto" },
      thinking: { type: "enabled", budget_tokens: 31999 },
      metadata: { user_id: "user_abc_account_def_session_123" },
      stream: true,
      temperature: 1,
      context_management: { edits: [] },
      service_tier: "auto",
    };
    const result = messagesRequestSchema.safeParse(body);
    expect(result.success).toBe(true);
    expect<unknown>(result.data).toEqual(body);
  });

  test("recorded Anthropic answers pass as assistant history, redacted thinking included", () => {
    for (const name of ["parallel-tool-use.json", "redacted-thinking.json", "text.json"]) {
      const recorded = readFixtureJson(`anthropic/${name}`);
      expect(messagesRequestSchema.safeParse(withMessages({ role: "user", content: "Hi" }, { role: "assistant", content: recorded.content })).success).toBe(true);
    }
  });

  test("every request block kind passes", () => {
    const body = userBlocks(
      { type: "text", text: "see" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
      { type: "image", source: { type: "file", file_id: "file_011" } },
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" }, title: "spec.pdf" },
      { type: "document", source: { type: "text", media_type: "text/plain", data: "plain" } },
      { type: "document", source: { type: "url", url: "https://example.com/a.pdf" } },
      { type: "document", source: { type: "content", content: [{ type: "text", text: "chunk" }] } },
      { type: "tool_result", tool_use_id: "toolu_1" },
      { type: "tool_result", tool_use_id: "toolu_2", content: "out", is_error: true },
    );
    expect(messagesRequestSchema.safeParse(body).success).toBe(true);
  });

  test("blocks of types this proxy does not know pass (they are dropped later, not refused)", () => {
    const body = withMessages(
      { role: "user", content: "search" },
      { role: "assistant", content: [{ type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "x" } }, { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [] }] },
    );
    expect(messagesRequestSchema.safeParse(body).success).toBe(true);
  });

  test("server tools need no input_schema; tool_choice, thinking and output_config variants pass", () => {
    for (const fields of [
      { tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 3 }] },
      { tool_choice: { type: "any", disable_parallel_tool_use: true } },
      { tool_choice: { type: "tool", name: "Read" } },
      { tool_choice: { type: "none" } },
      { thinking: { type: "adaptive" }, output_config: { effort: "max" } },
      { thinking: { type: "disabled" } },
      { output_config: { format: { type: "json_schema", schema: { type: "object" } } } },
      { stop_sequences: ["END"], top_p: 0.9, top_k: 40 },
    ]) {
      expect(messagesRequestSchema.safeParse({ ...BASE, ...fields }).success).toBe(true);
    }
  });

  test("metadata.user_id null means absent", () => {
    expect(messagesRequestSchema.parse({ ...BASE, metadata: { user_id: null } }).metadata).toEqual({ user_id: undefined });
  });

  test("max_tokens 0 (prompt-cache warm-up) is valid", () => {
    expect(messagesRequestSchema.safeParse({ ...BASE, max_tokens: 0 }).success).toBe(true);
  });

  test("count_tokens takes the same body without max_tokens", () => {
    const { max_tokens: _unused, ...body } = BASE;
    expect(countTokensRequestSchema.safeParse(body).success).toBe(true);
    expect(countTokensRequestSchema.safeParse({ ...body, tools: [{ name: "Read", input_schema: { type: "object" } }], extra: 1 }).success).toBe(true);
  });
});

describe("rejected bodies name the field", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["missing model", { max_tokens: 1, messages: BASE.messages }, 'model: is required and must be a string like "openai/gpt-4o"'],
    ["empty model", { ...BASE, model: "" }, "model: must not be empty"],
    ["missing max_tokens", { model: "m", messages: BASE.messages }, "max_tokens: is required and must be the most tokens to generate"],
    ["fractional max_tokens", { ...BASE, max_tokens: 1.5 }, "max_tokens: must be a whole number"],
    ["negative max_tokens", { ...BASE, max_tokens: -1 }, "max_tokens: must not be negative"],
    ["missing messages", { model: "m", max_tokens: 1 }, "messages: is required and must be an array of messages"],
    ["no messages", withMessages(), "messages: must contain at least one message"],
    ["unknown role", withMessages({ role: "tool", content: "x" }), 'messages[0].role: must be "user", "assistant" or "system"'],
    ["system message with an image", withMessages({ role: "user", content: "a" }, { role: "system", content: [{ type: "image", source: { type: "url", url: "https://x/y.png" } }] }), "messages[1].content: must be a string or an array of text blocks"],
    ["numeric content", withMessages({ role: "user", content: 5 }), "messages[0].content: must be a string or an array of content blocks"],
    ["block that is not an object", userBlocks("hi"), "messages[0].content[0]: must be a content block object"],
    ["block without a type", userBlocks({ text: "hi" }), 'messages[0].content[0].type: is required and must be a block type such as "text"'],
    ["text block without text", userBlocks({ type: "text" }), "messages[0].content[0].text: must be a string"],
    ["tool_result without its id", withMessages({ role: "user", content: "a" }, { role: "user", content: [{ type: "tool_result", content: "x" }] }), "messages[1].content[0].tool_use_id: is required and must be the id of the tool_use it answers"],
    ["tool_result with a bad is_error", userBlocks({ type: "tool_result", tool_use_id: "t", is_error: "yes" }), "messages[0].content[0].is_error: must be true or false"],
    ["bad block inside a tool_result", userBlocks({ type: "tool_result", tool_use_id: "t", content: [{ type: "image", source: { type: "base64", data: "x" } }] }), "messages[0].content[0].content[0].source.media_type: must be a string"],
    ["tool_use without input", withMessages({ role: "assistant", content: [{ type: "tool_use", id: "t", name: "Read" }] }), "messages[0].content[0].input: must be an object"],
    ["image with an unknown source", userBlocks({ type: "image", source: { type: "ftp", url: "x" } }), 'messages[0].content[0].source.type: must be {"type":"base64",media_type,data}, {"type":"url",url} or {"type":"file",file_id}'],
    ["thinking block without signature", withMessages({ role: "assistant", content: [{ type: "thinking", thinking: "t" }] }), "messages[0].content[0].signature: must be a string"],
    ["system of numbers", { ...BASE, system: 5 }, "system: must be a string or an array of text blocks"],
    ["client tool without schema", { ...BASE, tools: [{ name: "Read" }] }, "tools[0].input_schema: is required for a client tool"],
    ["tool without name", { ...BASE, tools: [{ input_schema: { type: "object" } }] }, "tools[0].name: is required and must be a string"],
    ["tool_choice tool without name", { ...BASE, tool_choice: { type: "tool" } }, "tool_choice.name: is required and must name one of the tools"],
    ["unknown tool_choice", { ...BASE, tool_choice: { type: "required" } }, 'tool_choice.type: must be "auto", "any", "tool" or "none"'],
    ["enabled thinking without budget", { ...BASE, thinking: { type: "enabled" } }, "thinking.budget_tokens: is required and must be a number of tokens"],
    ["unknown thinking type", { ...BASE, thinking: { type: "on" } }, 'thinking.type: must be "enabled", "adaptive" or "disabled"'],
    ["stop_sequences as a string", { ...BASE, stop_sequences: "END" }, "stop_sequences: must be an array of strings"],
    ["temperature as a string", { ...BASE, temperature: "0.5" }, "temperature: must be a number"],
    ["stream as a string", { ...BASE, stream: "yes" }, "stream: must be true or false"],
  ];

  for (const [name, body, message] of cases) {
    test(name, () => {
      expect(firstError(body)).toBe(message);
    });
  }

  test("count_tokens still checks the messages", () => {
    expect(firstError({ model: "m", messages: [{ role: "user" }] }, countTokensRequestSchema)).toBe("messages[0].content: must be a string or an array of content blocks");
  });
});
