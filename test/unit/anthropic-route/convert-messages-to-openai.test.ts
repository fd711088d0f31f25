/** Anthropic Messages request → canonical OpenAI chat request: every block kind, tools, thinking, and Claude Code's shape. */

import { describe, expect, test } from "bun:test";
import { convertMessagesToOpenAI, effortForBudget } from "../../../src/formats/anthropic/convert-messages-to-openai.ts";
import { messagesRequestSchema } from "../../../src/formats/anthropic/messages-schema.ts";
import { chatRequestSchema } from "../../../src/formats/openai-requests.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

/** Parses the body as the route will (so tests cannot feed what the schema would refuse), converts, and checks the result is a valid canonical request. */
function convert(fields: Record<string, unknown>) {
  const request = messagesRequestSchema.parse({ model: "deepseek/deepseek-chat", max_tokens: 1024, messages: [{ role: "user", content: "Hi" }], ...fields });
  const converted = convertMessagesToOpenAI(request);
  expect(chatRequestSchema.safeParse(converted).success).toBe(true);
  return converted;
}

const messagesOf = (...messages: unknown[]) => convert({ messages }).messages;
const userTurn = (...blocks: unknown[]) => messagesOf({ role: "user", content: blocks });

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const PDF = "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoK";

describe("top-level fields", () => {
  test("a plain request keeps model and max_tokens, nothing else is invented", () => {
    expect(convert({})).toStrictEqual({ model: "deepseek/deepseek-chat", messages: [{ role: "user", content: "Hi" }], max_tokens: 1024 });
  });

  test("sampling, stop sequences, user (hashed) and stream map to their OpenAI names", () => {
    expect(convert({ temperature: 0.2, top_p: 0.9, top_k: 40, stop_sequences: ["END", "\n\nHuman:"], metadata: { user_id: "user_42" }, stream: true })).toEqual({
      model: "deepseek/deepseek-chat",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 1024,
      stop: ["END", "\n\nHuman:"],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      // sha256("user_42"), its first 32 hex digits.
      user: "573baabb5ca42a23f3a118d027eadd8d",
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  test("stream false, empty stop_sequences and metadata without user_id add nothing", () => {
    expect(convert({ stream: false, stop_sequences: [], metadata: {} })).toStrictEqual({ model: "deepseek/deepseek-chat", messages: [{ role: "user", content: "Hi" }], max_tokens: 1024 });
  });

  test("unknown top-level fields are not forwarded", () => {
    const converted = convert({ service_tier: "auto", context_management: { edits: [] }, container: "c1" });
    expect(Object.keys(converted).sort()).toEqual(["max_tokens", "messages", "model"]);
  });

  test("output_config.format becomes a json_schema response_format", () => {
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] };
    expect(convert({ output_config: { format: { type: "json_schema", schema } } }).response_format).toEqual({ type: "json_schema", json_schema: { name: "output", schema } });
  });
});

describe("system", () => {
  test("a string becomes one leading system message", () => {
    expect(convert({ system: "Be brief." }).messages).toEqual([{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }]);
  });

  test("blocks become text parts of one system message, cache_control kept", () => {
    const system = [
      { type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } },
      { type: "text", text: "Answer tersely." },
    ];
    expect(convert({ system }).messages[0]).toEqual({
      role: "system",
      content: [
        { type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "Answer tersely." },
      ],
    });
  });

  test("an empty system says nothing", () => {
    expect(convert({ system: "" }).messages).toEqual([{ role: "user", content: "Hi" }]);
    expect(convert({ system: [{ type: "text", text: "" }] }).messages).toEqual([{ role: "user", content: "Hi" }]);
  });
});

describe("user content blocks", () => {
  test("text blocks become text parts, cache_control kept", () => {
    expect(userTurn({ type: "text", text: "a" }, { type: "text", text: "b", cache_control: { type: "ephemeral" } })).toEqual([
      { role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b", cache_control: { type: "ephemeral" } }] },
    ]);
  });

  test("a base64 image becomes a data URL image_url part; a url image keeps its URL", () => {
    expect(
      userTurn(
        { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
        { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
        { type: "text", text: "What is shown?" },
      ),
    ).toEqual([
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
          { type: "text", text: "What is shown?" },
        ],
      },
    ]);
  });

  test("a base64 PDF becomes a file part named by its title, or document.pdf", () => {
    expect(
      userTurn(
        { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF }, title: "spec.pdf" },
        { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF } },
      ),
    ).toEqual([
      {
        role: "user",
        content: [
          { type: "file", file: { file_data: `data:application/pdf;base64,${PDF}`, filename: "spec.pdf" } },
          { type: "file", file: { file_data: `data:application/pdf;base64,${PDF}`, filename: "document.pdf" } },
        ],
      },
    ]);
  });

  test("text and content documents become text, titled when they have a title; a url document an image_url part", () => {
    expect(
      userTurn(
        { type: "document", source: { type: "text", media_type: "text/plain", data: "Line one." }, title: "notes.txt" },
        { type: "document", source: { type: "text", media_type: "text/plain", data: "Untitled." } },
        { type: "document", source: { type: "content", content: [{ type: "text", text: "chunk 1" }, { type: "text", text: "chunk 2" }] } },
        { type: "document", source: { type: "content", content: "whole" } },
        { type: "document", source: { type: "url", url: "https://example.com/paper.pdf" } },
      ),
    ).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "notes.txt\n\nLine one." },
          { type: "text", text: "Untitled." },
          { type: "text", text: "chunk 1" },
          { type: "text", text: "chunk 2" },
          { type: "text", text: "whole" },
          { type: "image_url", image_url: { url: "https://example.com/paper.pdf" } },
        ],
      },
    ]);
  });

  test("Files API references are spelled out instead of silently lost", () => {
    expect(userTurn({ type: "image", source: { type: "file", file_id: "file_011abc" } }, { type: "document", source: { type: "file", file_id: "file_022def" } })).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "[file file_011abc was not forwarded: Anthropic Files API ids cannot be read by this provider]" },
          { type: "text", text: "[file file_022def was not forwarded: Anthropic Files API ids cannot be read by this provider]" },
        ],
      },
    ]);
  });

  test("cache_control on image and document blocks lands on their last part", () => {
    const breakpoint = { type: "ephemeral" };
    expect(
      userTurn(
        { type: "image", source: { type: "url", url: "https://example.com/a.png" }, cache_control: breakpoint },
        { type: "document", source: { type: "content", content: [{ type: "text", text: "p1" }, { type: "text", text: "p2" }] }, cache_control: breakpoint },
      ),
    ).toEqual([
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: "https://example.com/a.png" }, cache_control: breakpoint },
          { type: "text", text: "p1" },
          { type: "text", text: "p2", cache_control: breakpoint },
        ],
      },
    ]);
  });

  test("blocks of unknown types are dropped; a turn left empty disappears", () => {
    expect(userTurn({ type: "search_result", source: "https://x", title: "t", content: [] }, { type: "text", text: "q" })).toEqual([{ role: "user", content: [{ type: "text", text: "q" }] }]);
    expect(messagesOf({ role: "user", content: "a" }, { role: "user", content: [{ type: "container_upload", file_id: "f" }] })).toEqual([{ role: "user", content: "a" }]);
  });
});

describe("tool results", () => {
  const callTurn = { role: "assistant", content: [{ type: "tool_use", id: "toolu_A", name: "Read", input: { file_path: "/a" } }, { type: "tool_use", id: "toolu_B", name: "Bash", input: { command: "ls" } }] };
  const assistantCalls = {
    role: "assistant",
    content: null,
    tool_calls: [
      { id: "toolu_A", type: "function", function: { name: "Read", arguments: '{"file_path":"/a"}' } },
      { id: "toolu_B", type: "function", function: { name: "Bash", arguments: '{"command":"ls"}' } },
    ],
  };

  test("tool messages come right after the calls, before the rest of the user turn, whatever the block order", () => {
    const messages = messagesOf(
      { role: "user", content: "go" },
      callTurn,
      {
        role: "user",
        content: [
          { type: "text", text: "before" },
          { type: "tool_result", tool_use_id: "toolu_A", content: "file body" },
          { type: "tool_result", tool_use_id: "toolu_B", content: [{ type: "text", text: "a.ts" }, { type: "text", text: "b.ts" }] },
          { type: "text", text: "<system-reminder>keep going</system-reminder>" },
        ],
      },
    );
    expect(messages).toEqual([
      { role: "user", content: "go" },
      assistantCalls,
      { role: "tool", tool_call_id: "toolu_A", content: "file body" },
      { role: "tool", tool_call_id: "toolu_B", content: "a.ts\nb.ts" },
      { role: "user", content: [{ type: "text", text: "before" }, { type: "text", text: "<system-reminder>keep going</system-reminder>" }] },
    ]);
  });

  test("is_error prefixes the content with [error] (OpenAI tool messages have no error flag) and stays as a field for the Anthropic adapter", () => {
    expect(userTurn({ type: "tool_result", tool_use_id: "toolu_A", content: "ENOENT: no such file", is_error: true }, { type: "tool_result", tool_use_id: "toolu_B", is_error: false, content: "ok" })).toEqual([
      { role: "tool", tool_call_id: "toolu_A", content: "[error] ENOENT: no such file", is_error: true },
      { role: "tool", tool_call_id: "toolu_B", content: "ok" },
    ]);
  });

  test("a result without content is an empty tool message; an erroring one still says so", () => {
    expect(userTurn({ type: "tool_result", tool_use_id: "t1" }, { type: "tool_result", tool_use_id: "t2", content: [], is_error: true })).toEqual([
      { role: "tool", tool_call_id: "t1", content: "" },
      { role: "tool", tool_call_id: "t2", content: "[error] ", is_error: true },
    ]);
  });

  test("images and PDFs of a tool result follow in a user message, with a note where they were", () => {
    const image = { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } };
    expect(
      userTurn(
        { type: "tool_result", tool_use_id: "toolu_A", content: [image] },
        {
          type: "tool_result",
          tool_use_id: "toolu_B",
          content: [
            { type: "text", text: "two files" },
            { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF }, title: "r.pdf" },
            { type: "document", source: { type: "text", media_type: "text/plain", data: "inline text" } },
            { type: "image", source: { type: "url", url: "https://example.com/b.png" } },
          ],
        },
        { type: "text", text: "look" },
      ),
    ).toEqual([
      { role: "tool", tool_call_id: "toolu_A", content: "[1 attachment of this tool result follows in the next user message]" },
      { role: "tool", tool_call_id: "toolu_B", content: "two files\ninline text\n[2 attachments of this tool result follow in the next user message]" },
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
          { type: "file", file: { file_data: `data:application/pdf;base64,${PDF}`, filename: "r.pdf" } },
          { type: "image_url", image_url: { url: "https://example.com/b.png" } },
          { type: "text", text: "look" },
        ],
      },
    ]);
  });
});

describe("assistant turns", () => {
  test("a string stays a string", () => {
    expect(messagesOf({ role: "user", content: "a" }, { role: "assistant", content: "b" })[1]).toEqual({ role: "assistant", content: "b" });
  });

  test("a recorded Anthropic answer (text + 4 parallel tool_use) becomes one message with content and tool_calls", () => {
    const recorded = readFixtureJson("anthropic/parallel-tool-use.json");
    const [, assistant] = messagesOf({ role: "user", content: "Who is youngest?" }, { role: "assistant", content: recorded.content });
    expect(assistant).toEqual({
      role: "assistant",
      content: "I'll help you find out who is the youngest by retrieving information about each family member. I'll retrieve their entity information to compare their ages.",
      tool_calls: ["Alice", "Bob", "Charlie", "Daisy"].map((name, index) => ({
        id: recorded.content[index + 1].id,
        type: "function",
        function: { name: "retrieve_entity_info", arguments: JSON.stringify({ name }) },
      })),
    });
  });

  test("thinking becomes reasoning_content with its signature in reasoning_signature; text pieces join as they were", () => {
    const [, assistant] = messagesOf(
      { role: "user", content: "a" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "First idea.", signature: "EqQBsig1" },
          { type: "thinking", thinking: "Second idea.", signature: "EqQBsig2" },
          { type: "text", text: "The answer is " },
          { type: "text", text: "42", citations: [] },
          { type: "text", text: "." },
        ],
      },
    );
    expect(assistant).toEqual({ role: "assistant", content: "The answer is 42.", reasoning_content: "First idea.\n\nSecond idea.", reasoning_signature: "EqQBsig2" });
  });

  test("thinking without a signature (one this proxy relayed from an OpenAI-shaped host) keeps only reasoning_content", () => {
    const [, assistant] = messagesOf(
      { role: "user", content: "weather?" },
      { role: "assistant", content: [{ type: "thinking", thinking: "Use the tool.", signature: "" }, { type: "tool_use", id: "call_00_9V0", name: "weather", input: { location: "SF" } }] },
    );
    expect(assistant).toEqual({
      role: "assistant",
      content: null,
      reasoning_content: "Use the tool.",
      tool_calls: [{ id: "call_00_9V0", type: "function", function: { name: "weather", arguments: '{"location":"SF"}' } }],
    });
  });

  test("redacted_thinking is dropped (recorded answer); a turn of nothing else disappears", () => {
    const recorded = readFixtureJson("anthropic/redacted-thinking.json");
    const text = recorded.content.find((block: { type: string }) => block.type === "text").text;
    expect(messagesOf({ role: "user", content: "a" }, { role: "assistant", content: recorded.content })[1]).toEqual({ role: "assistant", content: text });
    expect(messagesOf({ role: "user", content: "a" }, { role: "assistant", content: [{ type: "redacted_thinking", data: "EmwKAhgB" }] })).toEqual([{ role: "user", content: "a" }]);
  });

  test("a tool_use with empty input sends {} as arguments", () => {
    const [, assistant] = messagesOf({ role: "user", content: "a" }, { role: "assistant", content: [{ type: "tool_use", id: "t", name: "get_time", input: {} }] });
    expect(assistant).toEqual({ role: "assistant", content: null, tool_calls: [{ id: "t", type: "function", function: { name: "get_time", arguments: "{}" } }] });
  });
});

describe("tools and tool_choice", () => {
  const readTool = { name: "Read", description: "Reads a file", input_schema: { type: "object", properties: { file_path: { type: "string" } }, required: ["file_path"] } };
  const readFunction = { type: "function", function: { name: "Read", description: "Reads a file", parameters: readTool.input_schema } };

  test("tools become functions; an object schema without properties gets an empty one; cache_control is dropped", () => {
    expect(convert({ tools: [readTool, { name: "now", input_schema: { type: "object" }, cache_control: { type: "ephemeral" } }] }).tools).toEqual([
      readFunction,
      { type: "function", function: { name: "now", parameters: { type: "object", properties: {} } } },
    ]);
  });

  test("server tools are dropped; with no function left, tool_choice goes too", () => {
    const webSearch = { type: "web_search_20250305", name: "web_search", max_uses: 5 };
    expect(convert({ tools: [webSearch, readTool] }).tools).toEqual([readFunction]);
    const converted = convert({ tools: [webSearch], tool_choice: { type: "any" } });
    expect(converted.tools).toBeUndefined();
    expect(converted.tool_choice).toBeUndefined();
  });

  test("tool_choice auto/any/tool/none and disable_parallel_tool_use", () => {
    const choice = (toolChoice: unknown) => {
      const { tool_choice, parallel_tool_calls } = convert({ tools: [readTool], tool_choice: toolChoice });
      return { tool_choice, parallel_tool_calls };
    };
    expect(choice({ type: "auto" })).toEqual({ tool_choice: "auto", parallel_tool_calls: undefined });
    expect(choice({ type: "any" })).toEqual({ tool_choice: "required", parallel_tool_calls: undefined });
    expect(choice({ type: "tool", name: "Read" })).toEqual({ tool_choice: { type: "function", function: { name: "Read" } }, parallel_tool_calls: undefined });
    expect(choice({ type: "none" })).toEqual({ tool_choice: "none", parallel_tool_calls: undefined });
    expect(choice({ type: "auto", disable_parallel_tool_use: true })).toEqual({ tool_choice: "auto", parallel_tool_calls: false });
    expect(choice({ type: "any", disable_parallel_tool_use: false })).toEqual({ tool_choice: "required", parallel_tool_calls: undefined });
  });
});

describe("thinking", () => {
  const reasoning = (fields: Record<string, unknown>) => {
    const { reasoning_effort, thinking } = convert(fields);
    return { reasoning_effort, thinking };
  };

  test("enabled: the budget picks an effort bucket and the original object travels along", () => {
    expect(reasoning({ max_tokens: 32000, thinking: { type: "enabled", budget_tokens: 1024 } })).toEqual({ reasoning_effort: "low", thinking: { type: "enabled", budget_tokens: 1024 } });
    expect(reasoning({ max_tokens: 32000, thinking: { type: "enabled", budget_tokens: 4000 } })).toEqual({ reasoning_effort: "medium", thinking: { type: "enabled", budget_tokens: 4000 } });
    expect(reasoning({ max_tokens: 32000, thinking: { type: "enabled", budget_tokens: 31999 } })).toEqual({ reasoning_effort: "high", thinking: { type: "enabled", budget_tokens: 31999 } });
  });

  test("bucket edges: ≤2048 low, ≤8192 medium, above high", () => {
    expect([1024, 2048, 2049, 8192, 8193, 100000].map(effortForBudget)).toEqual(["low", "low", "medium", "medium", "high", "high"]);
  });

  test("adaptive: no reasoning_effort by default (the provider's own), else output_config.effort (xhigh and max cap at high)", () => {
    expect(convert({ thinking: { type: "adaptive" } })).not.toHaveProperty("reasoning_effort");
    expect(reasoning({ thinking: { type: "adaptive", display: "omitted" } })).toEqual({ reasoning_effort: undefined, thinking: { type: "adaptive", display: "omitted" } });
    const effort = (value: string) => convert({ thinking: { type: "adaptive" }, output_config: { effort: value } }).reasoning_effort;
    expect(["low", "medium", "high", "xhigh", "max", "extreme"].map(effort)).toEqual(["low", "medium", "high", "high", "high", undefined]);
  });

  test("output_config.effort alone still becomes reasoning_effort, without a thinking object", () => {
    expect(reasoning({ output_config: { effort: "high" } })).toEqual({ reasoning_effort: "high", thinking: undefined });
    expect(reasoning({ output_config: { effort: "max" } })).toEqual({ reasoning_effort: "high", thinking: undefined });
    expect(convert({ output_config: { effort: "unheard-of" } })).not.toHaveProperty("reasoning_effort");
  });

  test("disabled: reasoning_effort none, whatever the effort says", () => {
    expect(reasoning({ thinking: { type: "disabled" } })).toEqual({ reasoning_effort: "none", thinking: { type: "disabled" } });
    expect(reasoning({ thinking: { type: "disabled" }, output_config: { effort: "high" } })).toEqual({ reasoning_effort: "none", thinking: { type: "disabled" } });
  });

  test("no thinking field, no reasoning fields", () => {
    expect(reasoning({})).toEqual({ reasoning_effort: undefined, thinking: undefined });
  });
});

describe("a Claude Code–style request end to end", () => {
  test("system blocks with cache_control, tools with input_schema, metadata, thinking, a tool loop and a stream", () => {
    const converted = convert({
      model: "deepseek/deepseek-reasoner",
      max_tokens: 32000,
      stream: true,
      system: [
        { type: "text", text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "Use the tools available.", cache_control: { type: "ephemeral" } },
      ],
      tools: [
        {
          name: "Bash",
          description: "Executes a bash command",
          input_schema: { $schema: "http://json-schema.org/draft-07/schema#", type: "object", properties: { command: { type: "string" } }, required: ["command"], additionalProperties: false },
        },
      ],
      metadata: { user_id: "user_5e3f_account__session_9b1c" },
      thinking: { type: "enabled", budget_tokens: 10000 },
      messages: [
        { role: "user", content: [{ type: "text", text: "<system-reminder>As you answer…</system-reminder>" }, { type: "text", text: "list files", cache_control: { type: "ephemeral" } }] },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "I should run ls.", signature: "" },
            { type: "text", text: "Listing." },
            { type: "tool_use", id: "call_0_ls", name: "Bash", input: { command: "ls" } },
          ],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "call_0_ls", content: "a.ts\nb.ts", cache_control: { type: "ephemeral" } }] },
      ],
    });
    expect(converted).toEqual({
      model: "deepseek/deepseek-reasoner",
      max_tokens: 32000,
      user: "6643fdffb0b803fcb27789e54a94f6e4",
      stream: true,
      stream_options: { include_usage: true },
      reasoning_effort: "high",
      thinking: { type: "enabled", budget_tokens: 10000 },
      tools: [
        {
          type: "function",
          function: {
            name: "Bash",
            description: "Executes a bash command",
            parameters: { $schema: "http://json-schema.org/draft-07/schema#", type: "object", properties: { command: { type: "string" } }, required: ["command"], additionalProperties: false },
          },
        },
      ],
      messages: [
        {
          role: "system",
          content: [
            { type: "text", text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: { type: "ephemeral" } },
            { type: "text", text: "Use the tools available.", cache_control: { type: "ephemeral" } },
          ],
        },
        { role: "user", content: [{ type: "text", text: "<system-reminder>As you answer…</system-reminder>" }, { type: "text", text: "list files", cache_control: { type: "ephemeral" } }] },
        {
          role: "assistant",
          content: "Listing.",
          reasoning_content: "I should run ls.",
          tool_calls: [{ id: "call_0_ls", type: "function", function: { name: "Bash", arguments: '{"command":"ls"}' } }],
        },
        // Claude Code's last cache breakpoint sits on the tool result; it survives as a text part.
        { role: "tool", tool_call_id: "call_0_ls", content: [{ type: "text", text: "a.ts\nb.ts", cache_control: { type: "ephemeral" } }] },
      ],
    });
  });
});
