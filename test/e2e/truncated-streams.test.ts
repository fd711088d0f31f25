/**
 * Streams that break after the commit without an error of their own, end to end through the real
 * proxy: an upstream that closes before the answer finished, or sends bytes that are not events.
 * The client gets the events up to the break, then exactly one error event and `data: [DONE]`
 * (never the broken bytes), and the attempt counts as a failure. A host that closes a finished
 * answer without `[DONE]` gives a clean stream and a success.
 */

import { describe, expect, test } from "bun:test";
import { readFixtureText } from "../support/fixtures.ts";
import type { ProxyHarness } from "../support/proxy-harness.ts";
import { chat, readStream, testKeys, useRotationRig, waitFor, totalInFlight } from "./rotation-helpers.ts";

const rig = useRotationRig();
const SSE = { "content-type": "text/event-stream" };
const recorded = readFixtureText("openai/chat-stream-text.sse.txt").split(/(?<=\n\n)/);
const content = recorded.slice(0, -2);
const finish = recorded.at(-2)!;

/** The key's counters for today, from /v1/stats once the stream has settled. */
async function todayUsage(proxy: ProxyHarness): Promise<{ requests: number; successes: number; failures: number }> {
  await waitFor(() => totalInFlight(proxy) === 0, "key released");
  const stats = (await (await proxy.request("/v1/stats")).json()) as any;
  const { requests, successes, failures } = stats.providers.find((p: any) => p.name === "openai").keys[0].usage.today;
  return { requests, successes, failures };
}

async function streamOf(upstream: string) {
  const { mock, proxy, keys } = await rig.start({ keys: testKeys(1) });
  mock.script(keys[0]!, { kind: "raw", status: 200, headers: SSE, body: upstream });
  const response = await chat(proxy, { stream: true });
  expect(response.status).toBe(200);
  return { proxy, stream: await readStream(response) };
}

const text = (payloads: any[]): string => payloads.map((payload) => payload.choices?.[0]?.delta?.content ?? "").join("");
const recordedPayloads = content.map((event) => JSON.parse(event.slice("data: ".length)));
const REPLY = text(recordedPayloads);
/** The content chunks of the recorded stream (the first one only opens the assistant turn). */
const CONTENT_PIECES = recordedPayloads.filter((payload) => payload.choices[0].delta.content).length;

describe("a committed stream that breaks silently ends with one error event and [DONE], and is a failure", () => {
  test.each([
    ["closed before any finish reason", content.join(""), CONTENT_PIECES, "upstream request failed: the upstream closed the stream before the answer finished"],
    ["closed inside an event", content.slice(0, 4).join("") + content[4]!.slice(0, 90), 3, "upstream request failed: the upstream sent a stream event that is not well-formed"],
    ["a data event that is not JSON", [...content.slice(0, 4), "data: <html>502 Bad Gateway</html>\n\n", ...recorded.slice(4)].join(""), 3, "upstream request failed: the upstream sent a stream event that is not well-formed"],
    ["binary garbage", [...content.slice(0, 4), "\u0000\u00ffPK\u0003\u0004\n\n", ...recorded.slice(4)].join(""), 3, "upstream request failed: the upstream sent a stream event that is not well-formed"],
  ])("%s", async (_name, upstream, pieces, message) => {
    const { proxy, stream } = await streamOf(upstream);
    expect(stream.text).not.toContain("<html>");
    expect(stream.text).not.toContain("\u0000");
    expect(stream.events.map((event) => event.data).slice(-2)).toEqual([
      JSON.stringify({ error: { message, type: "upstream_error", code: "transient", param: null } }),
      "[DONE]",
    ]);
    const chunks = stream.payloads.slice(0, -1);
    expect(chunks.map((payload) => payload.choices[0].delta.content).filter((piece) => piece)).toHaveLength(pieces);
    expect(REPLY.startsWith(text(chunks))).toBe(true);
    expect(await todayUsage(proxy)).toEqual({ requests: 1, successes: 0, failures: 1 });
  });
});

test("a finished answer closed without [DONE] is a clean stream ending in [DONE], and a success", async () => {
  const { proxy, stream } = await streamOf([...content, finish].join(""));
  expect(stream.text).toBe(recorded.join(""));
  expect(text(stream.payloads)).toBe(REPLY);
  expect(await todayUsage(proxy)).toEqual({ requests: 1, successes: 1, failures: 0 });
});
