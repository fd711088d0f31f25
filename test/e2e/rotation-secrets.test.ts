/**
 * Provider keys never reach the client: whatever an upstream error says, and however the proxy
 * ends up answering (502 after every key failed, 429 while keys cool, a request fault passed
 * through, a broken stream's error event), no configured key string appears in any body or header
 * the client receives. Upstream bodies here echo the key that sent the request, as real providers
 * do ("Incorrect API key provided: sk-…"), in wordings with and without a recognisable key shape.
 */

import { describe, expect, test } from "bun:test";
import type { Behavior } from "../support/mock-upstream.ts";
import { chat, farResetEnv, useRotationRig } from "./rotation-helpers.ts";

const rig = useRotationRig();

/** One key shaped like an OpenAI key, one like nothing a pattern would recognise. */
const KEYS = ["sk-proj-Secret0001abcdXYZ", "acct9f3kLq8Zp0002tokenvalue"];
const SHAPES = { "an sk- key": KEYS, "a key of no known shape": [KEYS[1]!, KEYS[0]!] } as const;

function jsonError(message: string, type: string, code: string | null): string {
  return JSON.stringify({ error: { message, type, param: null, code } });
}

/** A `raw` upstream answer whose message quotes `key`, as a careless provider would. */
function echoing(status: number, key: string, wording: (key: string) => string, headers: Record<string, string> = {}): Behavior {
  const type = status === 401 ? "invalid_request_error" : status === 429 ? "requests" : status >= 500 ? "server_error" : "invalid_request_error";
  const code = status === 401 ? "invalid_api_key" : status === 429 ? "rate_limit_exceeded" : null;
  return { kind: "raw", status, headers: { "content-type": "application/json", ...headers }, body: jsonError(wording(key), type, code) };
}

const WORDINGS: Record<string, (key: string) => string> = {
  "OpenAI's wording": (key) => `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
  "a quoted key": (key) => `The key '${key}' was revoked by its owner`,
  "a bare key": (key) => `access denied for ${key}`,
};

/** Everything the client received, as text: status line, every header, the whole body. */
async function everythingSeen(response: Response): Promise<string> {
  const headers = [...response.headers.entries()].map(([name, value]) => `${name}: ${value}`).join("\n");
  return `${response.status}\n${headers}\n\n${await response.text()}`;
}

function expectNoKeys(seen: string): void {
  for (const key of KEYS) expect(seen).not.toContain(key);
}

describe("no provider key in what the client receives", () => {
  const EACH_WORDING_AND_MODE = Object.keys(WORDINGS).flatMap((name) => [[name, false] as const, [name, true] as const]);

  test.each(EACH_WORDING_AND_MODE)("every key 401 with %s echoing the key (stream: %p): the 503 names the failure but no key", async (name, stream) => {
    const { mock, proxy } = await rig.start({ keys: KEYS, env: farResetEnv() });
    for (const key of KEYS) mock.script(key, echoing(401, key, WORDINGS[name]!));

    const response = await chat(proxy, { stream });
    const seen = await everythingSeen(response);
    expect(response.status).toBe(503);
    expect(seen).toContain("HTTP 401");
    expectNoKeys(seen);
    expect(mock.calls).toHaveLength(2);
  });

  const EACH_WORDING_AND_SHAPE = Object.keys(WORDINGS).flatMap((name) => Object.keys(SHAPES).map((shape) => [name, shape] as const));

  test.each(EACH_WORDING_AND_SHAPE)("a request fault whose message has %s, sent with %s: the 400 passes the message through without the key", async (name, shape) => {
    const keys = [...SHAPES[shape as keyof typeof SHAPES]];
    const { mock, proxy } = await rig.start({ keys });
    mock.script(keys[0]!, echoing(400, keys[0]!, WORDINGS[name]!));

    const response = await chat(proxy);
    const seen = await everythingSeen(response);
    expect(response.status).toBe(400);
    expectNoKeys(seen);
  });

  test.each(Object.keys(WORDINGS))("every key rate-limited with %s in the 429 message: neither 429 shows a key", async (name) => {
    const { mock, proxy } = await rig.start({ keys: KEYS, env: { GLOBAL_TIMEOUT: "3" } });
    for (const key of KEYS) mock.script(key, echoing(429, key, WORDINGS[name]!, { "retry-after": "60" }));

    for (let i = 0; i < 2; i++) {
      const response = await chat(proxy);
      const seen = await everythingSeen(response);
      expect(response.status).toBe(429);
      expectNoKeys(seen);
    }
  });

  test.each(Object.keys(WORDINGS))("every key failing with a 500 whose body has %s: the final error shows no key", async (name) => {
    const { mock, proxy } = await rig.start({ keys: KEYS });
    for (const key of KEYS) mock.script(key, echoing(500, key, WORDINGS[name]!));

    const response = await chat(proxy);
    const seen = await everythingSeen(response);
    expect(response.status).toBe(502);
    expectNoKeys(seen);
  });

  test.each(EACH_WORDING_AND_SHAPE)("a stream whose upstream error event after the first content has %s, sent with %s: the client's error event shows no key", async (name, shape) => {
    const upstream = startKeyEchoingStream(WORDINGS[name]!);
    try {
      const { proxy } = await rig.start({ keys: [...SHAPES[shape as keyof typeof SHAPES]], env: { OPENAI_API_BASE: upstream.url } });
      const response = await chat(proxy, { stream: true });
      const seen = await everythingSeen(response);
      expect(response.status).toBe(200);
      // The stream committed on "Hi" and then broke: the client does get an error event.
      expect(seen).toContain("Hi");
      expect(seen).toContain('"error"');
      expectNoKeys(seen);
    } finally {
      await upstream.stop();
    }
  });
});

/**
 * A tiny upstream of its own, because the scripted mock's mid-stream errors are recorded fixtures:
 * it streams one content event, pauses so the next event is a separate read, then sends an error
 * event whose message quotes the bearer key it was called with, then `[DONE]`.
 */
function startKeyEchoingStream(wording: (key: string) => string): { url: string; stop(): Promise<void> } {
  const encoder = new TextEncoder();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const key = (request.headers.get("authorization") ?? "").replace(/^Bearer\s+/i, "");
      const content = { id: "chatcmpl-echo", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }] };
      const error = { error: { message: wording(key), type: "invalid_request_error", code: "invalid_api_key" } };
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(content)}\n\n`));
          await Bun.sleep(50);
          controller.enqueue(encoder.encode(`data: ${JSON.stringify(error)}\n\ndata: [DONE]\n\n`));
          controller.close();
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/v1`, stop: () => server.stop(true) };
}
