/**
 * Limits that protect the proxy itself: an upstream answer bigger than MAX_UPSTREAM_RESPONSE_MB
 * fails its attempt instead of filling memory, and a client that never finishes its body is cut
 * off after REQUEST_BODY_TIMEOUT instead of holding its connection for ever.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { createLogger } from "../../src/logging/logger.ts";
import { startMockUpstream } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { waitFor } from "../support/wait-for.ts";

let proxy: ProxyHarness | undefined;
let upstream: ReturnType<typeof Bun.serve> | undefined;

afterEach(async () => {
  await proxy?.stop();
  upstream?.stop(true);
  proxy = undefined;
  upstream = undefined;
});

const MIB = 1024 * 1024;

/** An upstream whose chat answer is `bytes` of valid-looking JSON, declared or chunked. */
function bigAnswerUpstream(bytes: number, framing: "declared" | "chunked" | "stream"): string {
  const filler = "x".repeat(64 * 1024);
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch() {
      if (framing === "declared") return new Response(`{"pad":"${"x".repeat(bytes)}"}`, { headers: { "content-type": "application/json" } });
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (framing === "stream" && sent === 0) controller.enqueue(new TextEncoder().encode('data: {"choices":[{"index":0,"delta":{"content":"'));
          if (sent >= bytes) return controller.close();
          sent += filler.length;
          controller.enqueue(new TextEncoder().encode(filler));
        },
      });
      return new Response(body, { headers: { "content-type": framing === "stream" ? "text/event-stream" : "application/json" } });
    },
  });
  return `http://127.0.0.1:${upstream.port}/v1`;
}

const chat = (stream = false) =>
  proxy!.request("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: "openai/gpt-4o", stream, messages: [{ role: "user", content: "hi" }] }) });

describe("MAX_UPSTREAM_RESPONSE_MB", () => {
  for (const framing of ["declared", "chunked"] as const) {
    test(`a ${framing} answer past the cap fails the attempt with our message`, async () => {
      proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-limit-aaaa1111", OPENAI_API_BASE: bigAnswerUpstream(3 * MIB, framing), MAX_UPSTREAM_RESPONSE_MB: "1" } });
      const response = await chat();
      const body: any = await response.json();
      expect(response.status).toBe(502);
      expect(body.error.message).toContain("the upstream answer is larger than 1 MiB (MAX_UPSTREAM_RESPONSE_MB)");
    });
  }

  test("a stream event past the cap fails the attempt with our message", async () => {
    proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-limit-aaaa1111", OPENAI_API_BASE: bigAnswerUpstream(3 * MIB, "stream"), MAX_UPSTREAM_RESPONSE_MB: "1" } });
    const response = await chat(true);
    const body: any = await response.json();
    expect(response.status).toBe(502);
    expect(body.error.message).toContain("the upstream answer is larger than 1 MiB (MAX_UPSTREAM_RESPONSE_MB)");
  });

  test("an answer under the cap passes", async () => {
    proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-limit-aaaa1111", OPENAI_API_BASE: bigAnswerUpstream(512 * 1024, "declared"), MAX_UPSTREAM_RESPONSE_MB: "1" } });
    const response = await chat();
    expect(response.status).toBe(200);
    expect((await response.text()).length).toBe(512 * 1024 + 10);
  });
});

describe("a wrong method", () => {
  test("answers 405 with Allow in the route's dialect", async () => {
    proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-limit-aaaa1111" } });
    const openai = await proxy.request("/v1/chat/completions");
    expect(openai.status).toBe(405);
    expect(openai.headers.get("allow")).toBe("POST");
    expect(await openai.json()).toEqual({
      error: { message: "/v1/chat/completions does not take GET; use POST.", type: "invalid_request_error", param: null, code: "method_not_allowed" },
    });
    const anthropic = await proxy.request("/v1/messages", { method: "DELETE" });
    expect(anthropic.status).toBe(405);
    expect(anthropic.headers.get("allow")).toBe("POST");
    expect(((await anthropic.json()) as any).type).toBe("error");
    const unknown = await proxy.request("/v1/nothing-here");
    expect(unknown.status).toBe(404);
  });
});

describe("the console line", () => {
  test("counts an attempt the client cancelled", async () => {
    const mock = await startMockUpstream();
    try {
      proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-cancel-aaaa1111", OPENAI_API_BASE: mock.url } });
      const lines: string[] = [];
      proxy.ctx.log = createLogger({ level: "info", color: false, write: (line) => lines.push(line) });
      mock.script("sk-cancel-aaaa1111", [{ kind: "hang" }]);
      const gone = new AbortController();
      const request = proxy.request("/v1/chat/completions", { method: "POST", signal: gone.signal, body: JSON.stringify({ model: "openai/gpt-4o", messages: [{ role: "user", content: "hi" }] }) });
      await waitFor(() => mock.calls.length === 1);
      gone.abort();
      await request.catch(() => {});
      await waitFor(() => lines.some((line) => line.includes("POST /v1/chat/completions")));
      expect(lines.find((line) => line.includes("POST /v1/chat/completions"))).toContain("  1 attempt  ");
    } finally {
      await mock.stop();
    }
  });
});

describe("/metrics timing", () => {
  test("time to first byte is observed for a stream, and the scrape is not in flight", async () => {
    const mock = await startMockUpstream();
    try {
      proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-ttfb-aaaa1111", OPENAI_API_BASE: mock.url } });
      mock.script("sk-ttfb-aaaa1111", [{ kind: "success", chunks: 3, chunkDelayMs: 150 }]);
      const scrape = async (): Promise<string> => (await proxy!.request("/metrics")).text();
      const sample = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
      const series = '{route="/v1/chat/completions",provider="openai",model="gpt-4o"}';
      expect(sample(await scrape(), "llm_proxy_requests_in_flight")).toBe(0);
      const stream = await chat(true);
      expect(sample(await scrape(), "llm_proxy_requests_in_flight")).toBe(1);
      await stream.text();
      await Bun.sleep(20);
      const text = await scrape();
      expect(sample(text, "llm_proxy_requests_in_flight")).toBe(0);
      expect(sample(text, `llm_proxy_time_to_first_byte_seconds_count${series}`)).toBe(1);
      const ttfb = sample(text, `llm_proxy_time_to_first_byte_seconds_sum${series}`);
      const duration = sample(text, `llm_proxy_request_duration_seconds_sum${series}`);
      expect(ttfb).toBeLessThan(duration - 0.25);
    } finally {
      await mock.stop();
    }
  });
});

describe("shutdown", () => {
  test("a stream still open after the grace period ends with an error event", async () => {
    const mock = await startMockUpstream();
    try {
      proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-shutdown-aaaa1111", OPENAI_API_BASE: mock.url } });
      mock.script("sk-shutdown-aaaa1111", [{ kind: "success", chunks: 3, chunkDelayMs: 4_000 }]);
      const stream = await chat(true);
      expect(stream.status).toBe(200);
      const stopping = proxy.stop();
      proxy = undefined;
      const text = await stream.text();
      await stopping;
      const events = text.split("\n\n").filter((event) => event.startsWith("data: "));
      expect(events.at(-1)).toBe("data: [DONE]");
      expect(JSON.parse(events.at(-2)!.slice(6)).error.message).toBe("upstream request failed: the proxy is shutting down");
    } finally {
      await mock.stop();
    }
  }, 15_000);
});

/** Send `head` and `sent` body bytes on a raw socket; resolves with what came back once it closes. */
function rawExchange(port: number, head: string, sent: Uint8Array, timeoutMs = 5_000): Promise<{ reply: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`socket still open after ${timeoutMs} ms; got ${JSON.stringify(reply.slice(0, 200))}`));
    }, timeoutMs);
    socket.on("connect", () => {
      socket.write(head);
      socket.write(sent);
    });
    socket.on("data", (data) => (reply += data.toString()));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(giveUp);
      resolve({ reply, closedAfterMs: performance.now() - started });
    });
  });
}

const portOf = (url: string): number => Number(new URL(url).port);

describe("request bodies", () => {
  test("a body that never completes gets 408 after REQUEST_BODY_TIMEOUT and the connection is closed", async () => {
    proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-body-aaaa1111", REQUEST_BODY_TIMEOUT: "0.5" } });
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${proxy.proxyKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    const { reply, closedAfterMs } = await rawExchange(portOf(proxy.url), head, new TextEncoder().encode('{"model":'));
    expect(reply.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
    expect(reply.toLowerCase()).toContain("connection: close");
    expect(reply).toContain('"message":"The request body did not arrive within 0.5 s (REQUEST_BODY_TIMEOUT)."');
    expect(closedAfterMs).toBeLessThan(2_000);
    const metrics = await (await proxy.request("/metrics")).text();
    expect(metrics).toContain("\nllm_proxy_requests_in_flight 0\n");
  });

  /** HTTP/1.1 chunked framing of one piece. */
  const chunk = (text: string): string => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
  const chunkedHead = (key: string) =>
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;

  test("a chunked body that stalls gets 408 after REQUEST_BODY_TIMEOUT too, and the connection is closed", async () => {
    proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-body-aaaa1111", REQUEST_BODY_TIMEOUT: "0.5" } });
    const { reply, closedAfterMs } = await rawExchange(portOf(proxy.url), chunkedHead(proxy.proxyKey), new TextEncoder().encode(chunk('{"model":')));
    expect(reply.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
    expect(reply.toLowerCase()).toContain("connection: close");
    expect(closedAfterMs).toBeLessThan(2_000);
  });

  test("a chunked body past MAX_BODY_SIZE_MB gets 413 as soon as it is too large, and the connection is closed", async () => {
    proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-body-aaaa1111", MAX_BODY_SIZE_MB: "0.01" } });
    const { reply, closedAfterMs } = await rawExchange(portOf(proxy.url), chunkedHead(proxy.proxyKey), new TextEncoder().encode(chunk("x".repeat(20_000))));
    expect(reply.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large");
    expect(reply.toLowerCase()).toContain("connection: close");
    expect(reply).toContain("MAX_BODY_SIZE_MB");
    expect(closedAfterMs).toBeLessThan(2_000);
  });

  test("a complete chunked body is read and served", async () => {
    const mock = await startMockUpstream();
    try {
      proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-body-aaaa1111", OPENAI_API_BASE: mock.url } });
      const body = JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Say hello." }] });
      const pieces = chunk(body.slice(0, 20)) + chunk(body.slice(20)) + "0\r\n\r\n";
      const head = chunkedHead(proxy.proxyKey).replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n");
      const { reply } = await rawExchange(portOf(proxy.url), head, new TextEncoder().encode(pieces));
      expect(reply.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
      expect(mock.calls[0]!.body.messages[0].content).toBe("Say hello.");
    } finally {
      await mock.stop();
    }
  });

  test("an unauthenticated upload gets 401 and its socket is closed without receiving the body", async () => {
    proxy = await startProxy({ env: { OPENAI_API_KEY: "sk-body-aaaa1111" } });
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${1024 * MIB}\r\n\r\n`;
    const { reply, closedAfterMs } = await rawExchange(portOf(proxy.url), head, new Uint8Array(64 * 1024));
    expect(reply.split("\r\n")[0]).toBe("HTTP/1.1 401 Unauthorized");
    expect(reply.toLowerCase()).toContain("connection: close");
    expect(closedAfterMs).toBeLessThan(2_000);
  });
});
