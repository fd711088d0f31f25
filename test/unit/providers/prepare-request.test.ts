/** Client body → upstream body for OpenAI-compatible hosts. */

import { describe, expect, test } from "bun:test";
import { prepareChatBody, prepareEmbeddingsBody } from "../../../src/providers/openai/prepare-request.ts";

const messages = [{ role: "user", content: "hi" }];

describe("prepareChatBody", () => {
  test("strips the provider prefix and forwards every other field untouched", () => {
    const prepared = prepareChatBody({ model: "groq/llama-3", messages, temperature: 0.2, tools: [{ type: "function" }], vendor_field: { x: 1 } }, "llama-3");
    expect(JSON.parse(prepared.json)).toEqual({ model: "llama-3", messages, temperature: 0.2, tools: [{ type: "function" }], vendor_field: { x: 1 } });
    expect(prepared.stream).toBe(false);
  });

  test("never forwards fields that would redirect the key or that upstreams reject", () => {
    const prepared = prepareChatBody({ model: "p/m", messages, api_key: "x", api_base: "http://evil", base_url: "http://evil", custom_reasoning_budget: true, safety_settings: {} }, "m");
    expect(Object.keys(JSON.parse(prepared.json)).sort()).toEqual(["messages", "model"]);
  });

  test("streams ask for usage and mark the usage chunk for removal when the client did not", () => {
    const prepared = prepareChatBody({ model: "p/m", messages, stream: true }, "m");
    expect(JSON.parse(prepared.json).stream_options).toEqual({ include_usage: true });
    expect(prepared.stripUsageChunk).toBe(true);
    const explicitOff = prepareChatBody({ model: "p/m", messages, stream: true, stream_options: { include_usage: false, include_obfuscation: false } }, "m");
    expect(JSON.parse(explicitOff.json).stream_options).toEqual({ include_usage: true, include_obfuscation: false });
    expect(explicitOff.stripUsageChunk).toBe(true);
  });

  test("a client that asked for usage keeps its usage chunk", () => {
    const prepared = prepareChatBody({ model: "p/m", messages, stream: true, stream_options: { include_usage: true } }, "m");
    expect(prepared.stripUsageChunk).toBe(false);
    expect(JSON.parse(prepared.json).stream_options).toEqual({ include_usage: true });
  });

  test("stream_options is dropped from non-stream requests (hosts reject it there)", () => {
    const prepared = prepareChatBody({ model: "p/m", messages, stream_options: { include_usage: true } }, "m");
    expect(JSON.parse(prepared.json).stream_options).toBeUndefined();
  });
});

describe("prepareEmbeddingsBody", () => {
  test("strips the prefix and the proxy-only fields, keeps dimensions", () => {
    expect(JSON.parse(prepareEmbeddingsBody({ model: "openai/text-embedding-3-small", input: ["a"], dimensions: 256, api_key: "x" }, "text-embedding-3-small"))).toEqual({
      model: "text-embedding-3-small",
      input: ["a"],
      dimensions: 256,
    });
  });
});
