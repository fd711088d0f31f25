/**
 * The library's request types take what the official SDKs build: a request typed with the OpenAI
 * SDK (chat completions, embeddings, responses) or the Anthropic SDK (messages) is passed to the
 * client as it is — `tsc` checks that — and answered, here by the mock upstream.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import type Anthropic from "@anthropic-ai/sdk";
import type OpenAI from "openai";
import { createRotatingClient, type RotatingClient } from "../../../src/library/index.ts";
import { DEFAULT_CONTENT, startMockUpstream, type MockUpstream } from "../../support/mock-upstream.ts";

let mock: MockUpstream;
let client: RotatingClient;
beforeAll(async () => {
  mock = await startMockUpstream();
  client = createRotatingClient({ providers: { mine: { keys: ["sk-sdk-types-0001"], baseUrl: mock.url } } });
});
afterAll(async () => {
  await client.close();
  await mock.stop();
});

test("an OpenAI SDK chat request, with tools and options, is a chat() request", async () => {
  const params: OpenAI.ChatCompletionCreateParamsNonStreaming = {
    model: "mine/gpt-4o-mini",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Say hello." }] },
    ],
    tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } }],
    tool_choice: "auto",
    temperature: 0.2,
    max_completion_tokens: 64,
    stop: ["\n\n"],
    response_format: { type: "text" },
    metadata: { run: "sdk-types" },
  };
  const completion = await client.chat(params);
  expect((completion.choices[0] as { message: { content: string } }).message.content).toBe(DEFAULT_CONTENT);

  const streamed: OpenAI.ChatCompletionCreateParamsStreaming = { model: "mine/gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } };
  let chunks = 0;
  for await (const chunk of await client.chat(streamed)) chunks += chunk.object === "chat.completion.chunk" ? 1 : 0;
  expect(chunks).toBeGreaterThan(0);
});

test("OpenAI SDK embeddings and Responses requests, and an Anthropic SDK Messages request", async () => {
  const embeddings: OpenAI.EmbeddingCreateParams = { model: "mine/text-embedding-3-small", input: ["a", "b"], encoding_format: "float" };
  expect((await client.embeddings(embeddings)).data).toHaveLength(2);

  const response: OpenAI.Responses.ResponseCreateParamsNonStreaming = {
    model: "mine/gpt-4o-mini",
    input: [{ role: "user", content: [{ type: "input_text", text: "Say hello." }] }],
    instructions: "Be brief.",
    store: false,
  };
  expect((await client.responses(response)).status).toBe("completed");

  const message: Anthropic.MessageCreateParamsNonStreaming = {
    model: "mine/gpt-4o-mini",
    max_tokens: 64,
    system: [{ type: "text", text: "Be brief." }],
    messages: [{ role: "user", content: [{ type: "text", text: "Say hello." }] }],
    stop_sequences: ["\n\n"],
  };
  const answer = await client.messages(message);
  expect(answer.content).toEqual([{ type: "text", text: DEFAULT_CONTENT }]);
});
