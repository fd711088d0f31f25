/**
 * Translated streams cut short after the commit: a Gemini or Anthropic upstream that closes cleanly
 * before it said the answer was over (no finishReason, no message_delta). The client gets what came,
 * then one error event and `[DONE]`, and the attempt is a failure — not a clean-looking success.
 * Garbage between events (a block that is no SSE event) ends the stream the same way.
 */

import { describe, expect, test } from "bun:test";
import { readSseFixture } from "../support/fixtures.ts";
import { startMockAnthropic } from "../support/mock-anthropic.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { parseClientStream, postChat, readClientStream, useGeminiRig, waitFor } from "./gemini-helpers.ts";
import { FAST_ENV } from "./rig-helpers.ts";

const SSE = { "content-type": "text/event-stream" };

/** The recorded stream's events up to (not including) the first whose data matches `isEnd`, framed again. */
function cutBefore(fixture: string, isEnd: (data: string) => boolean): string {
  const events = readSseFixture(fixture);
  const end = events.findIndex((event) => isEnd(event.data));
  expect(end).toBeGreaterThan(0);
  return events
    .slice(0, end)
    .map((event) => `${event.event === undefined ? "" : `event: ${event.event}\n`}data: ${event.data}\n\n`)
    .join("");
}

async function todayUsage(proxy: ProxyHarness, provider: string): Promise<{ requests: number; successes: number; failures: number }> {
  await waitFor(() => proxy.ctx.providers.get(provider)!.pool.standing().keys.every((key) => key.inFlight === 0), "key released");
  const stats = (await (await proxy.request("/v1/stats")).json()) as any;
  const { requests, successes, failures } = stats.providers.find((p: any) => p.name === provider).keys[0].usage.today;
  return { requests, successes, failures };
}

describe("a translated stream cut short ends with one error event and is a failure", () => {
  const startGemini = useGeminiRig();

  test("Gemini: closed before any finishReason", async () => {
    const { mock, proxy, keys } = await startGemini({ keyCount: 1 });
    mock.script(keys[0]!, { kind: "raw", status: 200, headers: SSE, body: cutBefore("google/stream-thought-summaries-include-thoughts.sse.txt", (data) => data.includes('"finishReason"')) });
    const stream = await readClientStream(await postChat(proxy, { model: "gemini/gemini-2.5-flash", stream: true, messages: [{ role: "user", content: "Hi" }] }));
    expect(stream.payloads.some((payload) => payload.choices?.[0]?.delta?.content)).toBe(true);
    expect(stream.payloads.at(-1).error.message).toContain("Gemini closed the stream before its final event");
    expect(await todayUsage(proxy, "gemini")).toEqual({ requests: 1, successes: 0, failures: 1 });
  });

  test("Gemini: binary garbage between events after the first content", async () => {
    const { mock, proxy, keys } = await startGemini({ keyCount: 1 });
    const events = readSseFixture("google/stream-thought-summaries-include-thoughts.sse.txt").map((event) => `data: ${event.data}\n\n`);
    const body = [...events.slice(0, 2), "\u0000\u00ff\u00fe not an event\n\n", ...events.slice(2)].join("");
    mock.script(keys[0]!, { kind: "raw", status: 200, headers: SSE, body });
    const text = await (await postChat(proxy, { model: "gemini/gemini-2.5-flash", stream: true, messages: [{ role: "user", content: "Hi" }] })).text();
    const stream = parseClientStream(text);
    expect(stream.payloads.some((payload) => payload.choices?.[0]?.delta)).toBe(true);
    expect(stream.payloads.at(-1).error).toBeDefined();
    expect(text).not.toContain("not an event");
    expect(await todayUsage(proxy, "gemini")).toEqual({ requests: 1, successes: 0, failures: 1 });
  });

  test("Anthropic: closed before message_delta", async () => {
    const anthropic = await startMockAnthropic();
    const proxy = await startProxy({ env: { ...FAST_ENV, ANTHROPIC_API_KEY: "anthropic-test-key-0001", ANTHROPIC_API_BASE: anthropic.url } });
    try {
      anthropic.script("anthropic-test-key-0001", { kind: "raw", status: 200, headers: SSE, body: cutBefore("anthropic/stream-text.sse.txt", (data) => data.includes("message_delta")) });
      const stream = await readClientStream(await postChat(proxy, { model: "anthropic/claude-sonnet-4-5", stream: true, messages: [{ role: "user", content: "Hi" }] }));
      expect(stream.payloads.some((payload) => payload.choices?.[0]?.delta?.content)).toBe(true);
      expect(stream.payloads.at(-1).error.message).toContain("Anthropic closed the stream before the message finished");
      expect(await todayUsage(proxy, "anthropic")).toEqual({ requests: 1, successes: 0, failures: 1 });
    } finally {
      await proxy.stop();
      await anthropic.stop();
    }
  });
});
