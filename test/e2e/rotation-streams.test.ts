/**
 * Deadlines, streams and disconnects end to end, through the real proxy and a scripted mock
 * upstream:
 *
 * - GLOBAL_TIMEOUT bounds a request against a hanging upstream (504, upstream call aborted);
 *   FIRST_BYTE_TIMEOUT rotates away from a slow key;
 * - a stream commits at its first event with content: failures before that rotate invisibly,
 *   failures after it end the client's stream with exactly one error event and `data: [DONE]`;
 * - a client that goes away aborts the upstream call and gives the key back.
 *
 * SSE is read with raw fetch so the exact events the client receives can be checked.
 */

import { describe, expect, test } from "bun:test";
import { parseSse, readFixtureText } from "../support/fixtures.ts";
import { DEFAULT_CONTENT, type Behavior } from "../support/mock-upstream.ts";
import { chat, contentPieces, coolingUntil, errorBody, readStream, sdkStreamText, shownKey, standing, testKeys, timed, totalInFlight, useRotationRig, waitFor, type ReadStream } from "./rotation-helpers.ts";

const rig = useRotationRig();

/**
 * A committed stream that broke: the upstream's chunks up to the break, then exactly one error
 * event, then `[DONE]` as the very last event.
 */
function expectBrokenStream(stream: ReadStream, expectedPieces: number): { message: string; type: string } {
  const { events, payloads } = stream;
  expect(events.at(-1)!.data).toBe("[DONE]");
  expect(events.filter((event) => event.data === "[DONE]")).toHaveLength(1);
  const errors = payloads.filter((payload) => payload.error !== undefined);
  expect(errors).toHaveLength(1);
  // The error event is the last one before [DONE], and it carries nothing but the error.
  expect(payloads.at(-1)).toBe(errors[0]);
  expect(Object.keys(errors[0])).toEqual(["error"]);
  expect(typeof errors[0].error.message).toBe("string");
  const pieces = contentPieces(payloads);
  expect(pieces).toHaveLength(expectedPieces);
  expect(DEFAULT_CONTENT.startsWith(pieces.join(""))).toBe(true);
  return errors[0].error;
}

/** A clean stream: chunks with the whole default reply, no error anywhere, one final [DONE]. */
function expectCleanStream(stream: ReadStream): void {
  expect(stream.events.at(-1)!.data).toBe("[DONE]");
  expect(stream.events.filter((event) => event.data === "[DONE]")).toHaveLength(1);
  expect(stream.payloads.filter((payload) => payload.error !== undefined)).toEqual([]);
  expect(contentPieces(stream.payloads).join("")).toBe(DEFAULT_CONTENT);
}

describe("deadlines", () => {
  test.each([false, true])("a hanging upstream with GLOBAL_TIMEOUT=1 (stream: %p): 504 after about 1 s, and the upstream call is aborted", async (stream) => {
    const { mock, proxy, keys } = await rig.start({ keys: testKeys(1), env: { GLOBAL_TIMEOUT: "1" } });
    mock.script(keys[0]!, { kind: "hang" });

    const { value: response, ms } = await timed(chat(proxy, { stream }));
    expect(response.status).toBe(504);
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(1600);
    const error = await errorBody(response);
    expect(error.type).toBe("timeout_error");
    expect(error.message).toContain("GLOBAL_TIMEOUT");

    await waitFor(() => mock.openConnections() === 0, "upstream connections closed");
    expect(mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(mock.calls.every((call) => call.aborted)).toBe(true);
    expect(totalInFlight(proxy)).toBe(0);
    // A key that hung for the whole budget is taken out briefly (its circuit), not cooled or disabled.
    expect(standing(proxy)).toMatchObject({ healthy: 0, failing: 1, cooling: 0, disabled: 0 });
  });

  test.each([false, true])("a first byte slower than FIRST_BYTE_TIMEOUT (stream: %p) rotates to the next key", async (stream) => {
    const { mock, proxy, keys } = await rig.start({ env: { FIRST_BYTE_TIMEOUT: "0.3", GLOBAL_TIMEOUT: "5" } });
    const [a, b] = keys as [string, string];
    mock.script(a, { kind: "slow", firstByteMs: 3000 });

    const { value: response, ms } = await timed(chat(proxy, { stream }));
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(b));
    if (stream) expectCleanStream(await readStream(response));
    else expect(((await response.json()) as any).choices[0].message.content).toBe(DEFAULT_CONTENT);
    // One 0.3 s try on the slow key (a timeout is never retried on the same key), then the healthy one.
    expect(mock.calls.map((call) => call.key)).toEqual([a, b]);
    expect(ms).toBeGreaterThanOrEqual(280);
    expect(ms).toBeLessThan(1000);
    await waitFor(() => mock.callsFor(a).every((call) => call.aborted), "slow calls aborted");
    expect(coolingUntil(proxy, a)).toBeUndefined();
    // Its circuit is open: the next requests go straight to the healthy key.
    expect(standing(proxy)).toMatchObject({ healthy: 1, failing: 1 });
    const next = await chat(proxy, { stream });
    expect(next.headers.get("x-proxy-key")).toBe(shownKey(b));
    await next.arrayBuffer();
    expect(mock.callsFor(a)).toHaveLength(1);
  });
});

describe("streams before the first content: invisible rotation", () => {
  test("an error event as the first event rotates; the SDK reads a clean reply from the next key", async () => {
    const { mock, proxy, keys } = await rig.start();
    const [a, b] = keys as [string, string];
    mock.script(a, { kind: "error_event_first" });

    const { text, response } = await sdkStreamText(proxy);
    expect(text).toBe(DEFAULT_CONTENT);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(b));
    // The embedded error was a 429: the key cools for this model.
    expect(coolingUntil(proxy, a)).toBeGreaterThan(Date.now());
  });

  test.each([
    ["an error event first", { kind: "error_event_first" } as Behavior, 1],
    ["a malformed first event", { kind: "malformed_json" } as Behavior, 1],
  ])("%s: the raw client stream carries no trace of the failed key", async (_name, behavior, triesOnA) => {
    const { mock, proxy, keys } = await rig.start();
    const [a, b] = keys as [string, string];
    mock.script(a, behavior);

    const response = await chat(proxy, { stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(b));
    expectCleanStream(await readStream(response));
    expect(mock.callsFor(a)).toHaveLength(triesOnA);
    expect(mock.callsFor(b)).toHaveLength(1);
  });
});

describe("streams: every upstream event reaches the client", () => {
  test("a whole recorded stream arriving in one network read is relayed event for event", async () => {
    const { mock, proxy, keys } = await rig.start({ keys: testKeys(1) });
    const recorded = readFixtureText("openai/chat-stream-text.sse.txt");
    // `raw` sends the body in one piece, so the commit point and the events after it share a read.
    mock.script(keys[0]!, { kind: "raw", status: 200, headers: { "content-type": "text/event-stream" }, body: recorded });

    const response = await chat(proxy, { stream: true });
    expect(response.status).toBe(200);
    const stream = await readStream(response);
    const expected = parseSse(recorded);
    const expectedText = contentPieces(expected.filter((e) => e.data !== "[DONE]").map((e) => JSON.parse(e.data))).join("");
    expect(contentPieces(stream.payloads).join("")).toBe(expectedText);
    expect(stream.events).toHaveLength(expected.length);
    expect(stream.events.map((event) => event.data)).toEqual(expected.map((event) => event.data));
  });
});

describe("streams after the first content: one error event and [DONE]", () => {
  test("a connection reset after 2 chunks: the client has the 2 chunks, then one error event and [DONE]", async () => {
    const { mock, proxy, keys } = await rig.start();
    const [a, b] = keys as [string, string];
    mock.script(a, { kind: "reset_mid_stream", afterChunks: 2 });

    const response = await chat(proxy, { stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(a));
    expectBrokenStream(await readStream(response), 2);
    // Committed: no rotation, and a reset is not the key's fault.
    expect(mock.callsFor(b)).toHaveLength(0);
    await waitFor(() => totalInFlight(proxy) === 0, "key released");
    expect(standing(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });

  test("an upstream error event after 2 chunks is replaced by one proxy error event with its message, then [DONE]", async () => {
    const { mock, proxy, keys } = await rig.start();
    const [a, b] = keys as [string, string];
    mock.script(a, { kind: "error_mid_stream", afterChunks: 2 });

    const response = await chat(proxy, { stream: true });
    expect(response.status).toBe(200);
    const error = expectBrokenStream(await readStream(response), 2);
    expect(error.message).toBe("Token limit reached");
    expect(mock.callsFor(b)).toHaveLength(0);
    await waitFor(() => totalInFlight(proxy) === 0, "key released");
    await waitFor(() => mock.openConnections() === 0, "upstream connection closed");
  });

  test("silence longer than STREAM_IDLE_TIMEOUT after the first chunk: error event and [DONE], upstream call aborted", async () => {
    const { mock, proxy, keys } = await rig.start({ env: { STREAM_IDLE_TIMEOUT: "0.3" } });
    const [a] = keys as [string, string];
    // Events 0.8 s apart: the first content arrives at 0.8 s (before commit, under FIRST_BYTE_TIMEOUT),
    // the next would come 0.8 s later, past the 0.3 s idle limit.
    mock.script(a, { kind: "success", chunkDelayMs: 800 });

    const response = await chat(proxy, { stream: true });
    expect(response.status).toBe(200);
    const { value: stream, ms } = await timed(readStream(response));
    const error = expectBrokenStream(stream, 1);
    expect(error.message).toContain("silent");
    expect(ms).toBeLessThan(800);
    await waitFor(() => mock.calls[0]!.aborted && mock.openConnections() === 0, "upstream call aborted");
    await waitFor(() => totalInFlight(proxy) === 0, "key released");
  });
});

describe("client disconnect", () => {
  test("a client that abandons a stream midway aborts the upstream call and releases the key", async () => {
    const { mock, proxy, keys } = await rig.start();
    const [a] = keys as [string, string];
    mock.script(a, { kind: "success", chunks: 20, chunkDelayMs: 100, content: "x".repeat(40) });

    const leave = new AbortController();
    const response = await chat(proxy, { stream: true, signal: leave.signal });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(totalInFlight(proxy)).toBe(1);
    leave.abort();
    await reader.cancel().catch(() => {});

    await waitFor(() => mock.calls[0]!.aborted, "upstream call aborted");
    await waitFor(() => mock.openConnections() === 0, "upstream connections closed");
    await waitFor(() => totalInFlight(proxy) === 0, "key released");
    expect(mock.calls).toHaveLength(1);
    expect(standing(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });

  test("a client that gives up on a slow non-stream request aborts the upstream call and releases the key", async () => {
    const { mock, proxy, keys } = await rig.start();
    const [a] = keys as [string, string];
    mock.script(a, { kind: "slow", firstByteMs: 5000 });

    const leave = new AbortController();
    const pending = chat(proxy, { signal: leave.signal }).catch((error: unknown) => error);
    await waitFor(() => mock.calls.length === 1, "upstream reached");
    expect(totalInFlight(proxy)).toBe(1);
    leave.abort();
    expect(await pending).toBeInstanceOf(Error);

    await waitFor(() => mock.calls[0]!.aborted, "upstream call aborted");
    await waitFor(() => mock.openConnections() === 0, "upstream connections closed");
    await waitFor(() => totalInFlight(proxy) === 0, "key released");
    // Nobody is waiting for an answer any more: no rotation to the other key either.
    await Bun.sleep(100);
    expect(mock.calls).toHaveLength(1);
    expect(standing(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });
});
