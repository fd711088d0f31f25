/**
 * Odd 200 answers end to end: a Gemini answer whose shape the converter cannot read is a transient
 * failure of that attempt (same key once more, then the next key), worded by the proxy and never a
 * 500 with our exception text; absurd or malformed usage counts are clamped and validated; and with
 * a concurrency cap of 2 per key, such answers leave no key leased. An Anthropic 200 without `usage`
 * is still an answer (zero usage); one with a null content block is unreadable like the Gemini ones.
 */

import { describe, expect, test } from "bun:test";
import { providerInFlight } from "../support/key-standing.ts";
import { DEFAULT_TEXT } from "../support/mock-gemini.ts";
import { CLAUDE, CLAUDE_MODEL, anthropicMessageCalls, scriptAnthropic, useAnthropicRig } from "./anthropic-helpers.ts";
import { keysTried, postChat, readClientStream, totalInFlight, useGeminiRig } from "./gemini-helpers.ts";

const start = useGeminiRig();
const startAnthropic = useAnthropicRig();

const JSON_HEADERS = { "content-type": "application/json; charset=UTF-8" };
const SSE_HEADERS = { "content-type": "text/event-stream" };
const CAP = { MAX_CONCURRENT_REQUESTS_PER_KEY_GEMINI: "2" };

const textAnswer = (usageMetadata: unknown) =>
  JSON.stringify({ candidates: [{ index: 0, content: { role: "model", parts: [{ text: "Hi." }] }, finishReason: "STOP" }], usageMetadata });

describe("odd Gemini answers", () => {
  for (const [name, body] of [
    ["candidates not an array", JSON.stringify({ candidates: { 0: {} } })],
    ["a null candidate", JSON.stringify({ candidates: [null] })],
    ["a null part", JSON.stringify({ candidates: [{ content: { parts: [null] }, finishReason: "STOP" }] })],
    ["parts not an array", JSON.stringify({ candidates: [{ content: { parts: 7 }, finishReason: "STOP" }] })],
    ["a null body", "null"],
  ] as const) {
    test(`${name}: answered by the next key at once, no lease left`, async () => {
      const { mock, proxy, keys } = await start({ env: CAP });
      mock.script(keys[0]!, { kind: "raw", status: 200, headers: JSON_HEADERS, body });
      const response = await postChat(proxy, {});
      expect(response.status).toBe(200);
      const answer = (await response.json()) as any;
      expect(answer.choices[0].message.content).toBe(DEFAULT_TEXT);
      expect(keysTried(mock)).toEqual([keys[0]!, keys[1]!]);
      expect(totalInFlight(proxy)).toBe(0);
    });
  }

  test("with every key answering unreadably, the client gets our own sentence, not an exception", async () => {
    const { mock, proxy, keys } = await start({ env: CAP });
    for (const key of keys) mock.script(key, { kind: "raw", status: 200, headers: JSON_HEADERS, body: JSON.stringify({ candidates: { 0: {} } }) });
    // Attempts per request fall as the keys' circuits open: 3 (both keys, the last one twice), 2, 1.
    for (const attempts of [3, 2, 1]) {
      const response = await postChat(proxy, {});
      const text = await response.text();
      expect(response.status).toBe(502);
      expect(JSON.parse(text).error.message).toBe(
        `All ${attempts} attempt(s) on gemini failed for gemini-2.5-flash; last error (HTTP 200, transient): upstream request failed: the upstream answered HTTP 200 with a body of a shape the proxy cannot read`,
      );
      expect(text).not.toContain("is not a function");
      expect(totalInFlight(proxy)).toBe(0);
    }
  });

  test("absurd and malformed usage counts are clamped and validated", async () => {
    const { mock, proxy, keys } = await start({ env: CAP });
    mock.script(keys[0]!, {
      kind: "raw",
      status: 200,
      headers: JSON_HEADERS,
      body: textAnswer({ promptTokenCount: 1e20, candidatesTokenCount: {}, thoughtsTokenCount: -3, cachedContentTokenCount: 2.6, totalTokenCount: "9" }),
    });
    const response = await postChat(proxy, {});
    expect(response.status).toBe(200);
    const answer = (await response.json()) as any;
    expect(answer.usage).toEqual({
      prompt_tokens: 4294967295,
      completion_tokens: 0,
      total_tokens: 4294967295,
      prompt_tokens_details: { cached_tokens: 3 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(keysTried(mock)).toEqual([keys[0]!]);
    expect(totalInFlight(proxy)).toBe(0);
  });

  test("a stream event the converter cannot read rotates before commit and leaves no lease", async () => {
    const { mock, proxy, keys } = await start({ env: CAP });
    mock.script(keys[0]!, { kind: "raw", status: 200, headers: SSE_HEADERS, body: "data: null\r\n\r\n" });
    const response = await postChat(proxy, { stream: true });
    const stream = await readClientStream(response);
    expect(stream.payloads.map((payload) => payload.choices?.[0]?.delta?.content ?? "").join("")).toBe(DEFAULT_TEXT);
    expect(keysTried(mock)).toEqual([keys[0]!, keys[1]!]);
    expect(totalInFlight(proxy)).toBe(0);
  });
});

describe("odd Anthropic answers", () => {
  const message = (extra: Record<string, unknown>) =>
    JSON.stringify({ id: "msg_1", type: "message", role: "assistant", model: CLAUDE, stop_reason: "end_turn", content: [{ type: "text", text: "Hi." }], ...extra });
  const chat = (rig: Awaited<ReturnType<typeof startAnthropic>>) =>
    rig.proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: CLAUDE_MODEL, messages: [{ role: "user", content: "Say hello." }] }) });

  test("a 200 without usage is an answer with zero usage, not a 500", async () => {
    const rig = await startAnthropic({ env: { MAX_CONCURRENT_REQUESTS_PER_KEY_ANTHROPIC: "2" } });
    scriptAnthropic(rig, { kind: "raw", status: 200, headers: { "content-type": "application/json" }, body: message({}) });
    const response = await chat(rig);
    expect(response.status).toBe(200);
    const answer = (await response.json()) as any;
    expect(answer.choices[0].message.content).toBe("Hi.");
    expect(answer.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } });
    expect(providerInFlight(rig.proxy, "anthropic")).toBe(0);
  });

  test("a null content block is a transient failure of that key, worded by us", async () => {
    const rig = await startAnthropic({ anthropicKeyCount: 1, env: { MAX_CONCURRENT_REQUESTS_PER_KEY_ANTHROPIC: "2" } });
    scriptAnthropic(rig, { kind: "raw", status: 200, headers: { "content-type": "application/json" }, body: message({ content: [null], usage: { input_tokens: 1e20, output_tokens: 2 } }) });
    // The single key is retried once; after that its circuit is open, and each request makes one trial.
    for (const attempts of [2, 1, 1]) {
      const response = await chat(rig);
      const text = await response.text();
      expect(response.status).toBe(502);
      expect(JSON.parse(text).error.message).toBe(
        `All ${attempts} attempt(s) on anthropic failed for ${CLAUDE}; last error (HTTP 200, transient): upstream request failed: the upstream answered HTTP 200 with a body of a shape the proxy cannot read`,
      );
      expect(providerInFlight(rig.proxy, "anthropic")).toBe(0);
    }
    expect(anthropicMessageCalls(rig.anthropic)).toHaveLength(4);
  });
});
