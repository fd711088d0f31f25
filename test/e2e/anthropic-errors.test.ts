/**
 * Errors on the Anthropic routes (`/v1/messages`, `/v1/messages/count_tokens`): every failure a
 * client can meet arrives in Anthropic's own envelope, `{"type":"error","error":{"type","message"}}`,
 * with the matching HTTP status — never an OpenAI body, never a `detail` wrapper — so the Anthropic
 * SDK raises the right exception class. Checked with raw fetch (exact status, headers, body) and
 * with `@anthropic-ai/sdk` (what a program actually catches).
 *
 * - the proxy's own checks: wrong or missing proxy key (x-api-key and Bearer), unknown provider,
 *   malformed JSON, missing max_tokens, an oversized body, an unknown route;
 * - upstream outcomes: every key rate-limited → 429 with retry-after; a request fault → 400 with
 *   the upstream's message, not retried on other keys;
 * - a failure after the stream has started: exactly one `event: error`, and nothing after it;
 * - a client that leaves mid-stream: the upstream stream is cancelled and the key released.
 */

import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { TEST_PROXY_KEY } from "../support/proxy-harness.ts";
import { ANTHROPIC_CASE, CLAUDE_MODEL, FLASH_MODEL, GEMINI_CASE, GEMINI_KEY, GPT_MODEL, MAX_TOKENS, OPENAI_CASE, OPENAI_KEY, PROVIDERS, USER_TEXT, anthropicError, anthropicSdk, messagesBody, parseMessageEvents, postCountTokens, postMessages, scriptAnthropic, streamedText, useAnthropicRig, waitFor, type AnthropicRig, type MessageEvent } from "./anthropic-helpers.ts";

const start = useAnthropicRig();

const USER: Anthropic.MessageParam[] = [{ role: "user", content: USER_TEXT }];

/** Nothing reached any upstream: the proxy answered on its own. */
function expectNoUpstreamCall(rig: AnthropicRig): void {
  expect(rig.anthropic.calls).toHaveLength(0);
  expect(rig.openai.calls).toHaveLength(0);
  expect(rig.gemini.calls).toHaveLength(0);
}

/** The SDK's rejection for a create call, with its class, status and parsed error body. */
async function sdkFailure(promise: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Anthropic.APIError) return error;
    throw error;
  }
  throw new Error("expected the SDK call to fail");
}

// ---------------------------------------------------------------------------------------------
// The proxy's own checks
// ---------------------------------------------------------------------------------------------

describe("proxy key", () => {
  test("a wrong key in x-api-key is a 401 authentication_error", async () => {
    const rig = await start();
    const response = await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL), { auth: "x-api-key", key: "not-the-proxy-key" });
    const body = await anthropicError(response, 401, "authentication_error");
    expect(body.error.message).toContain("proxy key");
    expectNoUpstreamCall(rig);
  });

  test("a wrong key as Authorization: Bearer is a 401 authentication_error", async () => {
    const rig = await start();
    const response = await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL), { auth: "bearer", key: "not-the-proxy-key" });
    await anthropicError(response, 401, "authentication_error");
    expectNoUpstreamCall(rig);
  });

  test("no key at all is a 401 authentication_error, on count_tokens too", async () => {
    const rig = await start();
    await anthropicError(await postMessages(rig.proxy, messagesBody(GPT_MODEL), { auth: "none" }), 401, "authentication_error");
    await anthropicError(await postCountTokens(rig.proxy, messagesBody(GPT_MODEL), { auth: "none" }), 401, "authentication_error");
    expectNoUpstreamCall(rig);
  });

  test("the SDK raises AuthenticationError for a wrong apiKey and a wrong authToken", async () => {
    const rig = await start();
    for (const sdk of [anthropicSdk(rig.proxy, { apiKey: "wrong-key" }), anthropicSdk(rig.proxy, { authToken: "wrong-token" })]) {
      const error = await sdkFailure(sdk.messages.create({ model: CLAUDE_MODEL, max_tokens: MAX_TOKENS, messages: USER }));
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(error.status).toBe(401);
      expect((error.error as any).error.type).toBe("authentication_error");
    }
    expectNoUpstreamCall(rig);
  });

  test("the SDK's authToken (Authorization: Bearer) with the right key is accepted", async () => {
    const rig = await start();
    const sdk = anthropicSdk(rig.proxy, { authToken: TEST_PROXY_KEY });
    const message = await sdk.messages.create({ model: CLAUDE_MODEL, max_tokens: MAX_TOKENS, messages: USER });
    expect(message.type).toBe("message");
    // The upstream gets a provider key in x-api-key, never the client's proxy key.
    const call = rig.anthropic.calls[0]!;
    expect(call.authHeader).toBe("x-api-key");
    expect(rig.anthropicKeys).toContain(call.key);
  });
});

describe("request checks", () => {
  test("an unknown provider is a 404 not_found_error naming it", async () => {
    const rig = await start();
    const body = await anthropicError(await postMessages(rig.proxy, messagesBody("nosuch/some-model")), 404, "not_found_error");
    expect(body.error.message).toContain("nosuch");

    const error = await sdkFailure(rig.sdk.messages.create({ model: "nosuch/some-model", max_tokens: MAX_TOKENS, messages: USER }));
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expectNoUpstreamCall(rig);
  });

  test("malformed JSON is a 400 invalid_request_error", async () => {
    const rig = await start();
    const body = await anthropicError(await postMessages(rig.proxy, '{"model": "anthropic/x", "max_tokens": 1,'), 400, "invalid_request_error");
    expect(body.error.message).toContain("JSON");
    await anthropicError(await postCountTokens(rig.proxy, "not json at all"), 400, "invalid_request_error");
    expectNoUpstreamCall(rig);
  });

  test("a missing max_tokens is a 400 naming the field", async () => {
    const rig = await start();
    const { max_tokens: _omitted, ...withoutMaxTokens } = messagesBody(CLAUDE_MODEL);
    const body = await anthropicError(await postMessages(rig.proxy, withoutMaxTokens), 400, "invalid_request_error");
    expect(body.error.message).toContain("max_tokens");
    expectNoUpstreamCall(rig);
  });

  test("a malformed block is a 400 naming its path", async () => {
    const rig = await start();
    const bad = messagesBody(GPT_MODEL, { messages: [{ role: "user", content: [{ type: "tool_result", content: "no id" }] }] });
    const body = await anthropicError(await postMessages(rig.proxy, bad), 400, "invalid_request_error");
    expect(body.error.message).toContain("messages[0].content[0].tool_use_id");
    expectNoUpstreamCall(rig);
  });

  test("a body over MAX_BODY_SIZE_MB is a 413 request_too_large", async () => {
    const rig = await start({ env: { MAX_BODY_SIZE_MB: "0.01" } });
    const huge = messagesBody(CLAUDE_MODEL, { messages: [{ role: "user", content: "x".repeat(64 * 1024) }] });
    const body = await anthropicError(await postMessages(rig.proxy, huge), 413, "request_too_large");
    expect(body.error.message).toContain("MAX_BODY_SIZE_MB");
    expectNoUpstreamCall(rig);
  });

  test("an unknown route under /v1/messages is a 404 in Anthropic's envelope", async () => {
    const rig = await start();
    const response = await fetch(`${rig.proxy.url}/v1/messages/batches`, {
      method: "POST",
      headers: { "x-api-key": rig.proxy.proxyKey, "content-type": "application/json" },
      body: JSON.stringify(messagesBody(CLAUDE_MODEL)),
    });
    await anthropicError(response, 404, "not_found_error");
    expectNoUpstreamCall(rig);
  });
});

// ---------------------------------------------------------------------------------------------
// Upstream outcomes answered before a stream begins
// ---------------------------------------------------------------------------------------------

describe("upstream failures before any answer", () => {
  test("anthropic: every key rate-limited is a 429 rate_limit_error with retry-after, whole and streamed", async () => {
    const rig = await start();
    scriptAnthropic(rig, { kind: "rate_limit", retryAfterSeconds: 60 });

    const response = await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL));
    const retryAfter = Number(response.headers.get("retry-after"));
    await anthropicError(response, 429, "rate_limit_error");
    expect(retryAfter).toBeGreaterThanOrEqual(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(new Set(rig.anthropic.calls.map((call) => call.key))).toEqual(new Set(rig.anthropicKeys));

    // A stream request fails the same way, as an HTTP error rather than a stream.
    const streamed = await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL, { stream: true }));
    expect(streamed.headers.get("retry-after")).not.toBeNull();
    await anthropicError(streamed, 429, "rate_limit_error");

    const error = await sdkFailure(rig.sdk.messages.create({ model: CLAUDE_MODEL, max_tokens: MAX_TOKENS, messages: USER }));
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
  });

  test("openai: a rate-limited key behind /v1/messages is a 429 rate_limit_error with retry-after", async () => {
    const rig = await start();
    rig.openai.script(OPENAI_KEY, { kind: "rate_limit", retryAfterSeconds: 60 });
    const response = await postMessages(rig.proxy, messagesBody(GPT_MODEL));
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    await anthropicError(response, 429, "rate_limit_error");
  });

  test("anthropic: a request fault is a 400 invalid_request_error with Anthropic's message, tried on one key only", async () => {
    const rig = await start();
    scriptAnthropic(rig, { kind: "bad_request" });
    const body = await anthropicError(await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL)), 400, "invalid_request_error");
    expect(body.error.message).toContain("unexpected `tool_use_id` found in `tool_result` blocks");
    expect(rig.anthropic.calls).toHaveLength(1);
  });

  test("anthropic: an unknown Claude model is Anthropic's 404 not_found_error, and no key is blamed", async () => {
    const rig = await start();
    scriptAnthropic(rig, { kind: "bad_request", fixture: "anthropic/error-404-not-found-model.json" });
    const body = await anthropicError(await postMessages(rig.proxy, messagesBody("anthropic/claude-nope")), 404, "not_found_error");
    expect(body.error.message).toContain("model:");
    expect(rig.anthropic.calls).toHaveLength(1);
    const standing = rig.proxy.ctx.providers.get("anthropic")!.pool.standing();
    expect(standing.keys.every((key) => key.coolingModels.length === 0 && key.disabledUntil <= Date.now())).toBe(true);
  });

  test("openai: a request fault behind /v1/messages is a 400 invalid_request_error with the host's message", async () => {
    const rig = await start();
    rig.openai.script(OPENAI_KEY, { kind: "bad_request" });
    const body = await anthropicError(await postMessages(rig.proxy, messagesBody(GPT_MODEL)), 400, "invalid_request_error");
    expect(body.error.message).toContain("Unsupported parameter: 'max_tokens'");
    expect(rig.openai.calls).toHaveLength(1);
  });

  test("gemini: a request fault behind /v1/messages is a 400 invalid_request_error with Google's message, streamed too", async () => {
    const rig = await start();
    rig.gemini.script(GEMINI_KEY, { kind: "bad_request", message: "Unable to submit request because thinking_level is not supported." });
    for (const stream of [false, true]) {
      const body = await anthropicError(await postMessages(rig.proxy, messagesBody(FLASH_MODEL, { stream })), 400, "invalid_request_error");
      expect(body.error.message).toContain("thinking_level is not supported");
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A failure after the stream started
// ---------------------------------------------------------------------------------------------

/**
 * The stream of a failed answer: it began (message_start, some text), then exactly one
 * `event: error` in Anthropic's shape, and nothing after it — no message_delta, no message_stop.
 */
function expectOneTrailingError(events: MessageEvent[]): MessageEvent {
  const names = events.map((e) => e.event);
  expect(names[0]).toBe("message_start");
  expect(names.filter((name) => name === "error")).toHaveLength(1);
  expect(names.at(-1)).toBe("error");
  expect(names).not.toContain("message_stop");
  expect(names).not.toContain("message_delta");
  const error = events.at(-1)!;
  expect(Object.keys(error.data).sort()).toEqual(["error", "type"]);
  expect(error.data.type).toBe("error");
  expect(typeof error.data.error.type).toBe("string");
  expect(typeof error.data.error.message).toBe("string");
  expect(error.data).not.toHaveProperty("detail");
  return error;
}

async function readFailedStream(response: Response): Promise<MessageEvent[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  return parseMessageEvents(await response.text());
}

describe("a failure after the stream started", () => {
  test("anthropic: an upstream event: error mid-stream reaches the client once, as the last event", async () => {
    const rig = await start();
    scriptAnthropic(rig, { kind: "error_mid_stream", afterChunks: 2 });
    const events = await readFailedStream(await postMessages(rig.proxy, messagesBody(CLAUDE_MODEL, { stream: true })));

    const error = expectOneTrailingError(events);
    expect(error.data.error.type).toBe("overloaded_error");
    expect(error.data.error.message).toContain("Overloaded");
    expect(streamedText(events).length).toBeGreaterThan(0);
    // Once content went out, the proxy cannot switch keys behind the client's back.
    expect(rig.anthropic.calls).toHaveLength(1);
  });

  test("openai: a connection reset mid-stream behind /v1/messages ends in one event: error", async () => {
    const rig = await start();
    rig.openai.script(OPENAI_KEY, { kind: "reset_mid_stream", afterChunks: 2 });
    const events = await readFailedStream(await postMessages(rig.proxy, messagesBody(GPT_MODEL, { stream: true })));

    expectOneTrailingError(events);
    expect(streamedText(events).length).toBeGreaterThan(0);
    expect(rig.openai.calls).toHaveLength(1);
  });

  test("openai: an in-stream error chunk behind /v1/messages ends in one event: error with the host's message", async () => {
    const rig = await start();
    rig.openai.script(OPENAI_KEY, { kind: "error_mid_stream", afterChunks: 2 });
    const events = await readFailedStream(await postMessages(rig.proxy, messagesBody(GPT_MODEL, { stream: true })));
    const error = expectOneTrailingError(events);
    expect(error.data.error.message.length).toBeGreaterThan(0);
    // The recorded chunk is OpenRouter's `{"code":400,"message":"Token limit reached"}`: the request's
    // fault, typed as the native Anthropic stream types it, not a generic api_error.
    expect(error.data.error).toEqual({ type: "invalid_request_error", message: "Token limit reached" });
  });

  test("gemini: a connection reset mid-stream behind /v1/messages ends in one event: error", async () => {
    const rig = await start();
    rig.gemini.script(GEMINI_KEY, { kind: "reset_mid_stream", afterChunks: 2 });
    const events = await readFailedStream(await postMessages(rig.proxy, messagesBody(FLASH_MODEL, { stream: true })));
    expectOneTrailingError(events);
  });

  for (const provider of PROVIDERS) {
    test(`${provider.name}: the SDK's stream rejects on the mid-stream failure instead of returning a partial message`, async () => {
      const rig = await start();
      if (provider === ANTHROPIC_CASE) scriptAnthropic(rig, { kind: "error_mid_stream", afterChunks: 2 });
      if (provider === OPENAI_CASE) rig.openai.script(OPENAI_KEY, { kind: "reset_mid_stream", afterChunks: 2 });
      if (provider === GEMINI_CASE) rig.gemini.script(GEMINI_KEY, { kind: "reset_mid_stream", afterChunks: 2 });
      const stream = rig.sdk.messages.stream({ model: provider.model, max_tokens: MAX_TOKENS, messages: USER });
      await expect(stream.finalMessage()).rejects.toThrow();
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The client goes away
// ---------------------------------------------------------------------------------------------

describe("a client that leaves mid-stream", () => {
  const LONG = "word ".repeat(60);

  for (const provider of PROVIDERS) {
    test(`${provider.name}: the upstream stream is cancelled and the key is free again`, async () => {
      const rig = await start();
      scriptAnthropic(rig, { kind: "text", text: LONG, chunks: 40, chunkDelayMs: 50 });
      rig.openai.script(OPENAI_KEY, { kind: "success", content: LONG, chunks: 40, chunkDelayMs: 50 });
      rig.gemini.script(GEMINI_KEY, { kind: "text", text: LONG, chunks: 40, chunkDelayMs: 50 });
      const leaving = new AbortController();
      const response = await fetch(`${rig.proxy.url}/v1/messages`, {
        method: "POST",
        signal: leaving.signal,
        headers: { "x-api-key": rig.proxy.proxyKey, "content-type": "application/json" },
        body: JSON.stringify(messagesBody(provider.model, { stream: true })),
      });
      const reader = response.body!.getReader();
      await reader.read();
      leaving.abort();

      const open = () => rig.anthropic.openConnections() + rig.openai.openConnections() + rig.gemini.openConnections();
      await waitFor(() => open() === 0, `the ${provider.name} upstream connection to close`);
      const pool = rig.proxy.ctx.providers.get(provider.name)!.pool;
      await waitFor(() => pool.standing().keys.every((key) => key.inFlight === 0), "the key to be released");
      const calls = provider === ANTHROPIC_CASE ? rig.anthropic.calls : provider === OPENAI_CASE ? rig.openai.calls : rig.gemini.calls;
      expect(calls.at(-1)!.aborted).toBe(true);
    });
  }
});
