/**
 * Proof that `/v1/messages` with an `anthropic/…` model is a native pass-through, not a round trip
 * through the OpenAI format: the upstream receives the client's body as sent with only `model`
 * renamed (unknown fields, beta features, cache_control and server tools included), the
 * `anthropic-beta` header is forwarded, the provider key replaces the proxy key, and the answer —
 * JSON or event stream — is the upstream's, byte for byte, so fields the proxy knows nothing about
 * (`stop_details`, `service_tier`, `inference_geo`, padding inside events) reach the client intact.
 */

import { describe, expect, test } from "bun:test";
import { readFixtureText } from "../support/fixtures.ts";
import { TEST_PROXY_KEY } from "../support/proxy-harness.ts";
import { CLAUDE, CLAUDE_MODEL, anthropicCountCalls, anthropicMessageCalls, messagesBody, postCountTokens, postMessages, readMessageEvents, useAnthropicRig } from "./anthropic-helpers.ts";

const start = useAnthropicRig();

/**
 * A body a current Claude Code / SDK might send: beta and server-side features the proxy has no
 * schema for, cache breakpoints with a TTL, a server tool without input_schema, and a thinking
 * turn with its signature.
 */
const RICH_BODY = {
  model: CLAUDE_MODEL,
  max_tokens: 4096,
  system: [{ type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral", ttl: "1h" } }],
  messages: [
    { role: "user", content: [{ type: "text", text: "List the files.", cache_control: { type: "ephemeral" } }] },
    {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "I should call ls.", signature: "EqQBCkYIBxgCKkBsig" },
        { type: "tool_use", id: "toolu_01A", name: "ls", input: { path: "." } },
      ],
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01A", content: [{ type: "text", text: "a.txt\nb.txt" }], is_error: false }] },
  ],
  tools: [
    { name: "ls", description: "List files", input_schema: { type: "object", properties: { path: { type: "string" } } }, cache_control: { type: "ephemeral" } },
    { type: "web_search_20250305", name: "web_search", max_uses: 3 },
  ],
  tool_choice: { type: "auto", disable_parallel_tool_use: true },
  thinking: { type: "enabled", budget_tokens: 2048 },
  metadata: { user_id: "user-42" },
  service_tier: "auto",
  context_management: { edits: [{ type: "clear_tool_uses_20250919", trigger: { type: "input_tokens", value: 30000 } }] },
  container: null,
  stop_sequences: ["\n\nHuman:"],
};

const BETA = "context-management-2025-06-27,interleaved-thinking-2025-05-14";

describe("the request", () => {
  test("the upstream receives the client's body as sent, only model renamed", async () => {
    const rig = await start();
    const response = await postMessages(rig.proxy, RICH_BODY);
    expect(response.status).toBe(200);

    const [call] = anthropicMessageCalls(rig.anthropic);
    expect(call!.body).toEqual({ ...RICH_BODY, model: CLAUDE });
  });

  test("a streamed request is forwarded the same way, stream flag included", async () => {
    const rig = await start();
    const sent = { ...RICH_BODY, stream: true };
    await readMessageEvents(await postMessages(rig.proxy, sent));

    const [call] = anthropicMessageCalls(rig.anthropic);
    expect(call!.stream).toBe(true);
    expect(call!.body).toEqual({ ...sent, model: CLAUDE });
  });

  test("the anthropic-beta header reaches the upstream on messages, streams and count_tokens", async () => {
    const rig = await start();
    const headers = { "anthropic-beta": BETA };
    await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL), { headers });
    await (await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL, { stream: true }), { headers })).text();
    const counted = await postCountTokens(rig.proxy, messagesBody(CLAUDE_MODEL), { headers });
    expect(counted.status).toBe(200);

    expect(rig.anthropic.calls.map((call) => [call.path, call.anthropicBeta])).toEqual([
      ["/v1/messages", BETA],
      ["/v1/messages", BETA],
      ["/v1/messages/count_tokens", BETA],
    ]);
    // The SDK's own beta option ends up in the same header.
    await rig.sdk.beta.messages.create({ model: CLAUDE_MODEL, max_tokens: 16, messages: [{ role: "user", content: "hi" }], betas: ["interleaved-thinking-2025-05-14"] });
    expect(rig.anthropic.calls.at(-1)!.anthropicBeta).toBe("interleaved-thinking-2025-05-14");
  });

  test("without an anthropic-beta header none is invented", async () => {
    const rig = await start();
    await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL));
    expect(rig.anthropic.calls[0]!.anthropicBeta).toBeNull();
  });

  test("the upstream gets a provider key and the pinned API version, never the client's proxy key", async () => {
    const rig = await start();
    await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL), { headers: { "anthropic-version": "2023-01-01" } });
    const call = rig.anthropic.calls[0]!;
    expect(rig.anthropicKeys).toContain(call.key);
    expect(call.authHeader).toBe("x-api-key");
    expect(call.anthropicVersion).toBe("2023-06-01");
    expect(JSON.stringify(call.body)).not.toContain(TEST_PROXY_KEY);
  });

  test("fields that could redirect the key (api_key, api_base, base_url) are not forwarded", async () => {
    const rig = await start();
    await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL, { api_key: "sk-ant-elsewhere", api_base: "https://evil.example/v1", base_url: "https://evil.example" }));
    expect(rig.anthropic.calls[0]!.body).toEqual({ ...messagesBody(CLAUDE_MODEL), model: CLAUDE });
  });

  test("count_tokens forwards the body without max_tokens and stream", async () => {
    const rig = await start();
    const { max_tokens: _max, ...countable } = RICH_BODY;
    await postCountTokens(rig.proxy, { ...RICH_BODY, stream: true });
    const [call] = anthropicCountCalls(rig.anthropic);
    expect(call!.body).toEqual({ ...countable, model: CLAUDE });
  });
});

describe("the answer", () => {
  test("a JSON answer is the upstream's bytes, unknown fields and formatting included", async () => {
    const rig = await start();
    const upstream = JSON.stringify(
      {
        model: CLAUDE,
        id: "msg_01PassThroughAbcdef",
        type: "message",
        role: "assistant",
        content: [],
        stop_reason: "refusal",
        stop_sequence: null,
        stop_details: { type: "refusal", category: "cyber", explanation: "Blocked under the Usage Policy.", recommended_model: "claude-fable-5" },
        container: { id: "container_01", expires_at: "2026-01-01T00:00:00Z" },
        usage: { input_tokens: 18, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 5, service_tier: "priority", inference_geo: "eu" },
      },
      null,
      2,
    );
    rig.anthropic.setDefault({ kind: "raw", status: 200, headers: { "content-type": "application/json" }, body: upstream });

    const response = await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(await response.text()).toBe(upstream);
  });

  test("the SDK reads stop_details and service_tier of a passed-through answer", async () => {
    const rig = await start();
    rig.anthropic.setDefault({ kind: "refusal" });
    const message: any = await rig.sdk.messages.create({ model: CLAUDE_MODEL, max_tokens: 64, messages: [{ role: "user", content: "hi" }] });
    expect(message.stop_reason).toBe("refusal");
    expect(message.stop_details).toMatchObject({ type: "refusal", category: "cyber" });
    expect(message.usage.service_tier).toBe("standard");
    expect(message.usage.inference_geo).toBe("not_available");
  });

  for (const fixture of ["anthropic/stream-text.sse.txt", "anthropic/stream-thinking.sse.txt", "anthropic/stream-tool-use.sse.txt"]) {
    test(`a recorded stream (${fixture}) reaches the client byte for byte`, async () => {
      const rig = await start();
      rig.anthropic.setDefault({ kind: "fixture", file: fixture });
      const { text } = await readMessageEvents(await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL, { stream: true })));
      expect(text).toBe(readFixtureText(fixture));
    });
  }

  test("a streamed refusal keeps its stop_details in message_delta", async () => {
    const rig = await start();
    rig.anthropic.setDefault({ kind: "fixture", file: "anthropic/refusal-stop-details.chunks.txt" });
    const { events } = await readMessageEvents(await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL, { stream: true })));
    const delta = events.find((e) => e.event === "message_delta")!.data;
    expect(delta.delta.stop_reason).toBe("refusal");
    expect(delta.delta.stop_details).toEqual({
      type: "refusal",
      category: "cyber",
      explanation: "This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy.",
      recommended_model: "claude-fable-5",
    });
    expect(events.map((e) => e.event)).toEqual(["message_start", "ping", "message_delta", "message_stop"]);
  });

  test("the mock's own stream (padded events, ping after the first block start) passes unchanged", async () => {
    const rig = await start();
    rig.anthropic.setDefault({ kind: "text", text: "Pass me through." });
    const { text, events } = await readMessageEvents(await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL, { stream: true })));
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    // Anthropic pads data lines before their closing brace; a re-serialising proxy would lose it.
    expect(text).toMatch(/ {2,}}\n\n/);
    expect(events[0]!.data.message.usage).toHaveProperty("service_tier", "standard");
  });
});
