/** What an OpenAI-compatible host receives from a request that came in as Anthropic Messages. */

import { expect, test } from "bun:test";
import { convertMessagesToOpenAI } from "../../../src/formats/anthropic/convert-messages-to-openai.ts";
import { stripAnthropicExtras } from "../../../src/formats/anthropic/strip-anthropic-extras.ts";
import type { AnthropicRequest } from "../../../src/formats/anthropic/types.ts";

const claudeCodeLike: AnthropicRequest = {
  model: "openai/gpt-4o",
  max_tokens: 1024,
  top_k: 5,
  thinking: { type: "enabled", budget_tokens: 2048 },
  system: [{ type: "text", text: "You are a coding agent.", cache_control: { type: "ephemeral" } }],
  messages: [
    { role: "user", content: [{ type: "text", text: "list files", cache_control: { type: "ephemeral" } }] },
    {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "I should call ls.", signature: "sig-1" },
        { type: "tool_use", id: "toolu_1", name: "ls", input: { path: "." } },
      ],
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "no such dir", is_error: true }] },
  ],
};

test("no Anthropic-only field reaches an OpenAI-compatible host", () => {
  const stripped = stripAnthropicExtras(convertMessagesToOpenAI(claudeCodeLike), { keepReasoning: false });
  const json = JSON.stringify(stripped);
  for (const field of ["thinking", "top_k", "cache_control", "is_error", "reasoning_signature", "reasoning_content"]) {
    expect(json).not.toContain(`"${field}"`);
  }
  expect(stripped.reasoning_effort).toBe("low");
  const tool = stripped.messages.find((message) => message.role === "tool");
  expect(tool?.content).toContain("no such dir");
});

test("reasoning stays for hosts that want it back", () => {
  const stripped = stripAnthropicExtras(convertMessagesToOpenAI(claudeCodeLike), { keepReasoning: true });
  const assistant = stripped.messages.find((message) => message.role === "assistant");
  expect(assistant?.reasoning_content).toBe("I should call ls.");
  expect(JSON.stringify(stripped)).not.toContain("reasoning_signature");
});
