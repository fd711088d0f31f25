/**
 * The lifecycle tests every mock's self-test runs: hangs, slow answers, client aborts, stop() and
 * the open-connection count. That machinery lives once in mock-core.ts, but each mock wires it to
 * its own routes and streams, so each runs the same tests through its own wire format.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { CommonBehavior, MockHandle } from "./mock-core.ts";
import { json, waitFor } from "./probes.ts";

type LifecycleMock<B> = MockHandle<B | CommonBehavior, { aborted: boolean }>;

export interface LifecycleSubject<B> {
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

export function describeLifecycle<B>(subject: LifecycleSubject<B>): void {
  describe("hangs, slowness and aborts", () => {
    let mock: LifecycleMock<B>;
    const send = (key: string, options: { stream?: boolean; signal?: AbortSignal } = {}): Promise<Response> =>
      subject.send(mock, key, { stream: options.stream ?? false, signal: options.signal });

    beforeAll(async () => {
      mock = await subject.start();
    });
    afterEach(() => mock.reset());
    afterAll(() => mock.stop());

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
}
