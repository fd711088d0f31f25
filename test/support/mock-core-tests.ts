/**
 * The tests of mock-core's machinery that every mock's self-test runs: scripts and defaults, hangs,
 * slow answers, client aborts, stop() and the open-connection count. The machinery lives once in
 * mock-core.ts, but each mock wires it to its own routes and streams, so each runs the same tests
 * through its own wire format. Scripts are driven with `raw` answers, which every mock has.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { CommonBehavior, MockHandle } from "./mock-core.ts";
import { json, waitFor } from "./probes.ts";

type LifecycleMock<B> = MockHandle<B | CommonBehavior, { aborted: boolean }>;

export interface MockCoreSubject<B> {
  start(): Promise<LifecycleMock<B>>;
  /** A request the mock answers by its key's script: plain JSON, or a stream. */
  send(mock: LifecycleMock<B>, key: string, options: { stream: boolean; signal?: AbortSignal }): Promise<Response>;
  /** A success that streams 20 events 50 ms apart, so a test can leave in the middle. */
  longStream: B;
  /** The reply text of a default success, plain (parsed JSON) or streamed (the body text), and what it should say. */
  replyText(body: any): string;
  streamedText(body: string): string;
  defaultText: string;
}

/** A `raw` answer with just this status, so a test can tell which script step answered. */
function status(code: number): CommonBehavior {
  return { kind: "raw", status: code, body: "" };
}

export function describeMockCore<B>(subject: MockCoreSubject<B>): void {
  describe("mock-core machinery", () => {
    let mock: LifecycleMock<B>;
    const send = (key: string, options: { stream?: boolean; signal?: AbortSignal } = {}): Promise<Response> =>
      subject.send(mock, key, { stream: options.stream ?? false, signal: options.signal });
    const statusOf = async (key: string): Promise<number> => (await send(key)).status;

    beforeAll(async () => {
      mock = await subject.start();
    });
    afterEach(() => mock.reset());
    afterAll(() => mock.stop());

    describe("scripts and raw answers", () => {
      test("an array is consumed one per call, then its last entry repeats", async () => {
        mock.script("k-seq", [status(500), status(429), status(418)]);
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) statuses.push(await statusOf("k-seq"));
        expect(statuses).toEqual([500, 429, 418, 418, 418]);
      });

      test("a single behaviour repeats forever; scripts apply per key", async () => {
        mock.script("k-always", status(401));
        for (let i = 0; i < 3; i++) expect(await statusOf("k-always")).toBe(401);
        expect(await statusOf("k-other")).toBe(200);
      });

      test("setDefault applies to unscripted keys; reset restores the default and clears calls and scripts", async () => {
        mock.setDefault(status(503));
        mock.script("k-scripted", status(409));
        expect(await statusOf("k-any")).toBe(503);
        expect(await statusOf("k-scripted")).toBe(409);
        mock.reset();
        expect(mock.calls).toHaveLength(0);
        expect(subject.replyText(await json(await send("k-any")))).toBe(subject.defaultText);
        expect(await statusOf("k-scripted")).toBe(200);
        expect(mock.calls).toHaveLength(2);
      });

      test("an empty script is refused", () => {
        expect(() => mock.script("k-empty", [])).toThrow();
      });

      test("raw sends exactly the given status, headers and body, on plain and stream requests", async () => {
        mock.script("k-raw", { kind: "raw", status: 502, headers: { "x-custom": "yes", "content-type": "text/html" }, body: "<html>bad gateway</html>" });
        for (const stream of [false, true]) {
          const response = await send("k-raw", { stream });
          expect(response.status).toBe(502);
          expect(response.headers.get("x-custom")).toBe("yes");
          expect(response.headers.get("content-type")).toBe("text/html");
          expect(await response.text()).toBe("<html>bad gateway</html>");
        }
      });
    });

    describe("hangs, slowness and aborts", () => {
      test("hang never answers; the client abort is recorded and the connection released", async () => {
        mock.script("k-hang", { kind: "hang" });
        const controller = new AbortController();
        const pending = send("k-hang", { signal: controller.signal });
        await waitFor(() => mock.openConnections() === 1);
        await Bun.sleep(100);
        expect(mock.callsFor("k-hang")[0]!.aborted).toBe(false);
        controller.abort();
        await expect(pending).rejects.toThrow();
        await waitFor(() => mock.openConnections() === 0);
        expect(mock.callsFor("k-hang")[0]!.aborted).toBe(true);
      });

      test("stop() releases hung requests and resolves promptly", async () => {
        const other = await subject.start();
        other.setDefault({ kind: "hang" });
        const pending = subject.send(other, "k", { stream: false });
        pending.catch(() => {});
        await waitFor(() => other.openConnections() === 1);
        const started = Date.now();
        await other.stop();
        expect(Date.now() - started).toBeLessThan(1000);
        expect(other.openConnections()).toBe(0);
        expect(other.calls[0]!.aborted).toBe(true);
        await expect(pending).rejects.toThrow();
      });

      test("stop() cancels pending delays instead of waiting them out", async () => {
        const other = await subject.start();
        other.setDefault({ kind: "slow", firstByteMs: 60_000 });
        subject.send(other, "k", { stream: false }).catch(() => {});
        await waitFor(() => other.openConnections() === 1);
        const started = Date.now();
        await other.stop();
        expect(Date.now() - started).toBeLessThan(1000);
        expect(other.openConnections()).toBe(0);
      });

      test("slow answers normally after firstByteMs", async () => {
        mock.script("k-slow", { kind: "slow", firstByteMs: 150 });
        const started = Date.now();
        const response = await send("k-slow");
        expect(Date.now() - started).toBeGreaterThanOrEqual(130);
        expect(subject.replyText(await json(response))).toBe(subject.defaultText);
      });

      test("slow streams the whole answer once the wait is over", async () => {
        mock.script("k-slow-stream", { kind: "slow", firstByteMs: 150 });
        const started = Date.now();
        const response = await send("k-slow-stream", { stream: true });
        expect(Date.now() - started).toBeGreaterThanOrEqual(130);
        expect(response.headers.get("content-type")).toStartWith("text/event-stream");
        expect(subject.streamedText(await response.text())).toBe(subject.defaultText);
      });

      test("a client giving up during a slow wait is recorded", async () => {
        mock.script("k-slow-abort", { kind: "slow", firstByteMs: 5_000 });
        await expect(send("k-slow-abort", { stream: true, signal: AbortSignal.timeout(100) })).rejects.toThrow();
        await waitFor(() => mock.openConnections() === 0);
        expect(mock.callsFor("k-slow-abort")[0]!.aborted).toBe(true);
      });

      test("openConnections counts requests still being served, plain and streamed", async () => {
        mock.script("k-open", { kind: "hang" });
        const controller = new AbortController();
        const pending = [send("k-open", { signal: controller.signal }), send("k-open", { stream: true, signal: controller.signal })];
        await waitFor(() => mock.openConnections() === 2);
        controller.abort();
        await Promise.allSettled(pending);
        await waitFor(() => mock.openConnections() === 0);
      });

      test("a client abort mid-stream is recorded and the stream stops", async () => {
        mock.script("k-stream-abort", subject.longStream);
        const controller = new AbortController();
        const response = await send("k-stream-abort", { stream: true, signal: controller.signal });
        const reader = response.body!.getReader();
        await reader.read();
        expect(mock.openConnections()).toBe(1);
        controller.abort();
        await waitFor(() => mock.openConnections() === 0);
        expect(mock.callsFor("k-stream-abort")[0]!.aborted).toBe(true);
      });

      test("a completed stream is not marked aborted", async () => {
        await (await send("k-complete", { stream: true })).text();
        await waitFor(() => mock.openConnections() === 0);
        expect(mock.callsFor("k-complete")[0]!.aborted).toBe(false);
      });
    });
  });
}
