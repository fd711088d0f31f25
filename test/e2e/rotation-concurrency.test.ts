/**
 * Key rotation under load, end to end: many parallel requests spread over every key and leave no
 * lease behind, and MAX_CONCURRENT_REQUESTS_PER_KEY_<P> makes a request wait for a free slot
 * (never two at once on a capped key) or answer 429 when none frees up before GLOBAL_TIMEOUT.
 */

import { describe, expect, test } from "bun:test";
import { DEFAULT_CONTENT } from "../support/mock-upstream.ts";
import type { MockUpstream } from "../support/mock-upstream.ts";
import { chat, errorBody, readStream, sdkChat, sdkStreamText, standing, testKeys, timed, totalInFlight, useRotationRig, waitFor } from "./rotation-helpers.ts";

const rig = useRotationRig();

/** Samples how many requests the upstream serves at once until `stop()`; returns the peak. */
function watchPeak(mock: MockUpstream): { stop(): number } {
  let peak = mock.openConnections();
  const timer = setInterval(() => {
    peak = Math.max(peak, mock.openConnections());
  }, 2);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, mock.openConnections());
    },
  };
}

describe("parallel load", () => {
  test("200 parallel chats (half streamed) over 5 keys all succeed, spread over every key, and leave nothing in flight", async () => {
    const { mock, proxy, keys } = await rig.start({ keys: testKeys(5) });
    mock.setDefault({ kind: "success", delayMs: 20 });

    const requests = Array.from({ length: 200 }, (_, i) =>
      i % 2 === 0 ? sdkChat(proxy).then(({ data }) => data.choices[0]!.message.content) : sdkStreamText(proxy).then(({ text }) => text),
    );
    const replies = await Promise.all(requests);
    expect(replies.filter((reply) => reply !== DEFAULT_CONTENT)).toEqual([]);

    // One upstream call per request (no retries), fairly shared: 40 each with a little slack.
    expect(mock.calls).toHaveLength(200);
    const perKey = keys.map((key) => mock.callsFor(key).length);
    for (const count of perKey) {
      expect(count).toBeGreaterThanOrEqual(30);
      expect(count).toBeLessThanOrEqual(50);
    }

    await waitFor(() => totalInFlight(proxy) === 0, "every lease released");
    expect(standing(proxy).keys.map((key) => key.inFlight)).toEqual([0, 0, 0, 0, 0]);
    expect(standing(proxy)).toMatchObject({ healthy: 5, cooling: 0, disabled: 0 });
    await waitFor(() => mock.openConnections() === 0, "upstream connections closed");
  });
});

describe("MAX_CONCURRENT_REQUESTS_PER_KEY", () => {
  test("cap 1, one key, slow upstream: two parallel requests both succeed, the second waits, the upstream never sees two at once", async () => {
    const { mock, proxy } = await rig.start({ keys: testKeys(1), env: { MAX_CONCURRENT_REQUESTS_PER_KEY_OPENAI: "1" } });
    mock.setDefault({ kind: "success", delayMs: 400 });

    const peak = watchPeak(mock);
    const [first, second] = await Promise.all([timed(sdkChat(proxy)), timed(sdkChat(proxy))]);
    expect(peak.stop()).toBe(1);

    expect(first.value.data.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(second.value.data.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(mock.calls).toHaveLength(2);
    expect(mock.calls[1]!.at - mock.calls[0]!.at).toBeGreaterThanOrEqual(380);
    expect(Math.max(first.ms, second.ms)).toBeGreaterThanOrEqual(780);
    // The one that got the key first did not wait for the other: it ended a whole upstream call
    // (400 ms) sooner. Relative, so a slow moment of the machine does not count as waiting.
    expect(Math.max(first.ms, second.ms) - Math.min(first.ms, second.ms)).toBeGreaterThanOrEqual(300);
    await waitFor(() => totalInFlight(proxy) === 0, "lease released");
  });

  test("cap 1 and GLOBAL_TIMEOUT shorter than the wait: 429 keys_at_capacity with Retry-After, upstream untouched", async () => {
    const { mock, proxy } = await rig.start({ keys: testKeys(1), env: { MAX_CONCURRENT_REQUESTS_PER_KEY_OPENAI: "1", GLOBAL_TIMEOUT: "0.5" } });
    // A stream that commits at once and then holds its key for about 1.5 s.
    mock.setDefault({ kind: "success", chunks: 5, chunkDelayMs: 300 });

    const holding = await chat(proxy, { stream: true });
    expect(holding.status).toBe(200);
    expect(totalInFlight(proxy)).toBe(1);

    const { value: refused, ms } = await timed(chat(proxy));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    const error = await errorBody(refused);
    expect(error.type).toBe("rate_limit_error");
    expect(error.code).toBe("keys_at_capacity");
    expect(error.message).toContain("MAX_CONCURRENT_REQUESTS_PER_KEY_OPENAI");
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(1000);
    expect(mock.calls).toHaveLength(1);

    // The stream that held the key was not disturbed.
    const stream = await readStream(holding);
    expect(stream.events.at(-1)!.data).toBe("[DONE]");
    expect(stream.payloads.filter((payload) => payload.error !== undefined)).toEqual([]);
    await waitFor(() => totalInFlight(proxy) === 0, "lease released");
  });
});
