/**
 * Shared set-up for the Anthropic end-to-end suites (test/e2e/anthropic-*.test.ts): the three
 * scripted upstreams — Anthropic (test/support/mock-anthropic.ts), OpenAI-compatible
 * (mock-upstream.ts) and Gemini (mock-gemini.ts) — with the real proxy pointed at all of them,
 * torn down after every test; the real `@anthropic-ai/sdk` and `openai` clients aimed at the proxy;
 * and small readers for what a client observes (Anthropic error envelopes, `event:` streams) and
 * for what reached each upstream and the key pools.
 *
 * `PROVIDERS` describes the three providers behind `/v1/messages` the same way (model id, how to
 * script an answer, where its generate calls are recorded), so one test body can run against each.
 *
 * Not a test file itself; each suite calls `useAnthropicRig()` once at module level.
 */

import Anthropic from "@anthropic-ai/sdk";
import { expect } from "bun:test";
import type OpenAI from "openai";
import type { KeyStanding } from "../../src/engine/types.ts";
import { parseSse, type SseEvent } from "../support/fixtures.ts";
import { startMockAnthropic, type AnthropicBehavior, type MockAnthropic, type MockAnthropicOptions, type RecordedAnthropicCall } from "../support/mock-anthropic.ts";
import { startMockGemini, type MockGemini } from "../support/mock-gemini.ts";
import { startMockUpstream, type MockUpstream, type RecordedCall } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { findKeyStanding, keyCoolingUntil } from "../support/key-standing.ts";
export { waitFor } from "../support/probes.ts";
import { generateCalls } from "./gemini-helpers.ts";
import { FAST_ENV, numberedKeys, stopRigAfterEach } from "./rig-helpers.ts";

// ---------------------------------------------------------------------------------------------
// Models and keys
// ---------------------------------------------------------------------------------------------

/** Upstream model ids (what each provider sees). */
export const CLAUDE = "claude-sonnet-4-5-20250929";
export const GPT = "gpt-4o-mini";
export const FLASH = "gemini-2.5-flash";

/** The proxy ids clients ask for. */
export const CLAUDE_MODEL = `anthropic/${CLAUDE}`;
export const GPT_MODEL = `openai/${GPT}`;
export const FLASH_MODEL = `gemini/${FLASH}`;

/**
 * Keys, long enough that their masked forms differ and shaped like no vendor's key. Anthropic gets
 * up to three (rotation tests), the others one each.
 */
export const ANTHROPIC_KEYS = ["anthropic-test-key-0001", "anthropic-test-key-0002", "anthropic-test-key-0003"] as const;
export const OPENAI_KEY = "openai-test-key-0001";
export const GEMINI_KEY = "gemini-test-key-0001";

export const USER_TEXT = "Say hello.";
export const MAX_TOKENS = 256;

// ---------------------------------------------------------------------------------------------
// The rig
// ---------------------------------------------------------------------------------------------

export interface AnthropicRig {
  anthropic: MockAnthropic;
  openai: MockUpstream;
  gemini: MockGemini;
  proxy: ProxyHarness;
  /** The configured Anthropic keys, in configuration order (slot 0 is tried first). */
  anthropicKeys: string[];
  /** `@anthropic-ai/sdk` at the proxy, sending the proxy key as `x-api-key`, retries off. */
  sdk: Anthropic;
  /** The real `openai` SDK at the proxy, retries off. */
  openaiClient: OpenAI;
}

export interface AnthropicRigOptions {
  /** How many of `ANTHROPIC_KEYS` to configure (default 2). */
  anthropicKeyCount?: number;
  env?: Record<string, string>;
  anthropicMock?: MockAnthropicOptions;
  transientBackoffMs?: number;
}

/** Registers an afterEach that stops what the current test started, and returns the starter. */
export function useAnthropicRig(): (options?: AnthropicRigOptions) => Promise<AnthropicRig> {
  const keep = stopRigAfterEach<AnthropicRig>((rig) => [rig.anthropic, rig.openai, rig.gemini]);
  return async (options = {}) => {
    const anthropicKeys = ANTHROPIC_KEYS.slice(0, options.anthropicKeyCount ?? 2);
    const [anthropic, openai, gemini] = await Promise.all([startMockAnthropic(options.anthropicMock), startMockUpstream(), startMockGemini()]);
    const env = {
      ANTHROPIC_API_BASE: anthropic.url,
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_API_BASE: openai.url,
      GEMINI_API_KEY: GEMINI_KEY,
      GEMINI_API_BASE: gemini.url,
      ...FAST_ENV,
      ...options.env,
      ...numberedKeys("ANTHROPIC_API_KEY", anthropicKeys),
    };
    const proxy = await startProxy({ env, transientBackoffMs: options.transientBackoffMs });
    return keep({
      anthropic,
      openai,
      gemini,
      proxy,
      anthropicKeys,
      sdk: anthropicSdk(proxy),
      openaiClient: proxy.openai({ timeoutMs: 10_000 }),
    });
  };
}

/** An Anthropic SDK client at the proxy: `apiKey` → `x-api-key`, `authToken` → `Authorization: Bearer`. */
export function anthropicSdk(proxy: ProxyHarness, auth: { apiKey?: string | null; authToken?: string | null } = { apiKey: proxy.proxyKey }): Anthropic {
  return new Anthropic({ baseURL: proxy.url, apiKey: auth.apiKey ?? null, authToken: auth.authToken ?? null, maxRetries: 0, timeout: 10_000 });
}

// ---------------------------------------------------------------------------------------------
// The three providers behind /v1/messages, described alike
// ---------------------------------------------------------------------------------------------

/** What a generate call to any upstream looked like, reduced to what the tests compare. */
export interface GenerateCall {
  key: string;
  body: any;
  stream: boolean;
}

export interface ProviderCase {
  name: "anthropic" | "openai" | "gemini";
  /** The model id a client sends to the proxy. */
  model: string;
  /** Script every key of this provider to answer `text` from now on (replacing earlier scripts). */
  scriptText(rig: AnthropicRig, text: string): void;
  /** Script every key of this provider to answer with a tool call `name(input)` from now on. */
  scriptToolCall(rig: AnthropicRig, name: string, input: Record<string, unknown>): void;
  /** The chat/messages/generate calls this provider's mock received, in order. */
  generateCalls(rig: AnthropicRig): GenerateCall[];
}

/** Give every configured Anthropic key the same script (which key serves a call is the pool's choice). */
export function scriptAnthropic(rig: AnthropicRig, behavior: AnthropicBehavior | AnthropicBehavior[]): void {
  for (const key of rig.anthropicKeys) rig.anthropic.script(key, behavior);
}

export const ANTHROPIC_CASE: ProviderCase = {
  name: "anthropic",
  model: CLAUDE_MODEL,
  scriptText: (rig, text) => scriptAnthropic(rig, { kind: "text", text }),
  scriptToolCall: (rig, name, input) => scriptAnthropic(rig, { kind: "tool_use", calls: [{ name, input }] }),
  generateCalls: (rig) => anthropicMessageCalls(rig.anthropic).map((call) => ({ key: call.key, body: call.body, stream: call.stream })),
};

export const OPENAI_CASE: ProviderCase = {
  name: "openai",
  model: GPT_MODEL,
  scriptText: (rig, text) => rig.openai.script(OPENAI_KEY, { kind: "success", content: text }),
  // The OpenAI mock can only answer its recorded parallel calls (delete_file + create_file whole,
  // get_weather + get_product_name streamed); `name` and `input` are not scriptable there.
  scriptToolCall: (rig) => rig.openai.script(OPENAI_KEY, { kind: "success", toolCalls: true }),
  generateCalls: (rig) => openaiChatCalls(rig.openai).map((call) => ({ key: call.key, body: call.body, stream: call.body?.stream === true })),
};

export const GEMINI_CASE: ProviderCase = {
  name: "gemini",
  model: FLASH_MODEL,
  scriptText: (rig, text) => rig.gemini.script(GEMINI_KEY, { kind: "text", text }),
  scriptToolCall: (rig, name, input) => rig.gemini.script(GEMINI_KEY, { kind: "tool_call", calls: [{ name, args: input }], signature: null }),
  generateCalls: (rig) => generateCalls(rig.gemini).map((call) => ({ key: call.key, body: call.body, stream: call.stream })),
};

export const PROVIDERS: readonly ProviderCase[] = [ANTHROPIC_CASE, OPENAI_CASE, GEMINI_CASE];

// ---------------------------------------------------------------------------------------------
// Requests through the proxy
// ---------------------------------------------------------------------------------------------

/** A minimal valid Messages body for `model`, with `extra` fields merged over it. */
export function messagesBody(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, max_tokens: MAX_TOKENS, messages: [{ role: "user", content: USER_TEXT }], ...extra };
}

export interface RawInit {
  /** Extra headers (e.g. `anthropic-beta`). */
  headers?: Record<string, string>;
  /** How the proxy key is sent (default `x-api-key`, as the Anthropic SDK sends it). */
  auth?: "x-api-key" | "bearer" | "none";
  /** Send this key instead of the proxy's. */
  key?: string;
}

/** POST a raw body (string or object) to an Anthropic route, as an Anthropic client would. */
export function postAnthropic(proxy: ProxyHarness, path: "/v1/messages" | "/v1/messages/count_tokens", body: string | Record<string, unknown>, init: RawInit = {}): Promise<Response> {
  const headers = new Headers({ "content-type": "application/json", "anthropic-version": "2023-06-01", ...init.headers });
  const key = init.key ?? proxy.proxyKey;
  const auth = init.auth ?? "x-api-key";
  if (auth === "x-api-key") headers.set("x-api-key", key);
  else if (auth === "bearer") headers.set("authorization", `Bearer ${key}`);
  return fetch(`${proxy.url}${path}`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}

export const postMessages = (proxy: ProxyHarness, body: string | Record<string, unknown>, init?: RawInit): Promise<Response> =>
  postAnthropic(proxy, "/v1/messages", body, init);

export const postCountTokens = (proxy: ProxyHarness, body: string | Record<string, unknown>, init?: RawInit): Promise<Response> =>
  postAnthropic(proxy, "/v1/messages/count_tokens", body, init);

// ---------------------------------------------------------------------------------------------
// What the client sees
// ---------------------------------------------------------------------------------------------

export interface AnthropicErrorEnvelope {
  type: "error";
  error: { type: string; message: string };
}

/**
 * The body of a failed answer, checked to be exactly Anthropic's envelope: top-level
 * `{"type":"error","error":{"type","message"}}` (optionally a `request_id`), never a `detail`
 * wrapper or an OpenAI-style `{"error":{…,"code","param"}}` alone.
 */
export async function anthropicError(response: Response, status: number, type: string): Promise<AnthropicErrorEnvelope> {
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`expected an Anthropic error envelope, got HTTP ${response.status}: ${text.slice(0, 300)}`);
  }
  expect({ status: response.status, type: body?.error?.type }).toEqual({ status, type });
  expect(response.headers.get("content-type")).toContain("application/json");
  expect(body.type).toBe("error");
  expect(body).not.toHaveProperty("detail");
  expect(Object.keys(body).filter((key) => key !== "request_id").sort()).toEqual(["error", "type"]);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(0);
  return body;
}

/** One named event of an Anthropic stream, with its JSON payload. */
export interface MessageEvent {
  event: string;
  data: any;
}

/** Read a whole `text/event-stream` answer of /v1/messages into named events (data parsed). */
export async function readMessageEvents(response: Response): Promise<{ text: string; events: MessageEvent[] }> {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const text = await response.text();
  return { text, events: parseMessageEvents(text) };
}

export function parseMessageEvents(text: string): MessageEvent[] {
  return parseSse(text).map((event: SseEvent) => {
    let data: any;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw new Error(`stream event ${event.event ?? "(unnamed)"} has data that is not JSON: ${event.data.slice(0, 200)}`);
    }
    // Anthropic names every event, and the name repeats the payload's type.
    expect(event.event).toBe(data.type);
    return { event: event.event!, data };
  });
}

/**
 * Assert the event grammar of a successful Messages stream: `message_start` first; pings anywhere
 * after it; content blocks one at a time (`content_block_start` → deltas → `content_block_stop`),
 * with indexes 0, 1, 2 … and deltas naming the open block; then one `message_delta` carrying a
 * stop reason and usage; `message_stop` last; no `error`. Returns the block types in order.
 */
export function expectMessageGrammar(events: MessageEvent[]): string[] {
  const names = events.map((e) => e.event);
  expect(names[0]).toBe("message_start");
  expect(names.at(-1)).toBe("message_stop");
  expect(names).not.toContain("error");
  expect(names.filter((name) => name === "message_start")).toHaveLength(1);
  expect(names.filter((name) => name === "message_delta")).toHaveLength(1);
  expect(names.filter((name) => name === "message_stop")).toHaveLength(1);
  expect(names.indexOf("message_delta")).toBe(names.length - 2);

  const blockTypes: string[] = [];
  let open: number | undefined;
  for (const { event, data } of events.slice(1, -2)) {
    switch (event) {
      case "ping":
        break;
      case "content_block_start":
        expect(open).toBeUndefined();
        expect(data.index).toBe(blockTypes.length);
        open = data.index;
        blockTypes.push(data.content_block.type);
        break;
      case "content_block_delta":
        expect(data.index).toBe(open);
        break;
      case "content_block_stop":
        expect(data.index).toBe(open);
        open = undefined;
        break;
      default:
        throw new Error(`unexpected ${event} event inside the message`);
    }
  }
  expect(open).toBeUndefined();
  const delta = events.at(-2)!.data;
  expect(typeof delta.delta.stop_reason).toBe("string");
  expect(typeof delta.usage.output_tokens).toBe("number");
  return blockTypes;
}

/** The concatenated `text_delta` pieces of a stream. */
export function streamedText(events: MessageEvent[]): string {
  return events.filter((e) => e.event === "content_block_delta" && e.data.delta.type === "text_delta").map((e) => e.data.delta.text).join("");
}

/** Content blocks reduced to what every provider fills in alike (the SDK adds `citations` etc.). */
export function comparableContent(content: readonly any[]): any[] {
  return content.map((block) => {
    switch (block.type) {
      case "text":
        return { type: "text", text: block.text };
      case "thinking":
        return { type: "thinking", thinking: block.thinking, signature: block.signature };
      case "tool_use":
        return { type: "tool_use", id: block.id, name: block.name, input: block.input };
      default:
        return block;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// What reached the upstreams
// ---------------------------------------------------------------------------------------------

/** POST /v1/messages calls to the Anthropic mock (count_tokens and model listing excluded). */
export function anthropicMessageCalls(mock: MockAnthropic): RecordedAnthropicCall[] {
  return mock.calls.filter((call) => call.path === "/v1/messages");
}

export function anthropicCountCalls(mock: MockAnthropic): RecordedAnthropicCall[] {
  return mock.calls.filter((call) => call.path === "/v1/messages/count_tokens");
}

export function openaiChatCalls(mock: MockUpstream): RecordedCall[] {
  return mock.calls.filter((call) => call.path === "/v1/chat/completions");
}

/** The single generate call of a provider in a test, asserting there was exactly one. */
export function onlyCall(rig: AnthropicRig, provider: ProviderCase): GenerateCall {
  const calls = provider.generateCalls(rig);
  expect(calls).toHaveLength(1);
  return calls[0]!;
}

/** The keys the Anthropic mock's /v1/messages calls came with, in order. */
export function anthropicKeysTried(mock: MockAnthropic): string[] {
  return anthropicMessageCalls(mock).map((call) => call.key);
}

// ---------------------------------------------------------------------------------------------
// Key standing
// ---------------------------------------------------------------------------------------------

export const anthropicKeyStanding = (proxy: ProxyHarness, secret: string): KeyStanding => findKeyStanding(proxy, "anthropic", secret);

export const coolingUntil = (proxy: ProxyHarness, secret: string, model: string) => keyCoolingUntil(proxy, "anthropic", secret, model);

export function isDisabled(proxy: ProxyHarness, secret: string): boolean {
  return anthropicKeyStanding(proxy, secret).disabledUntil > Date.now();
}

// ---------------------------------------------------------------------------------------------
// Test data
// ---------------------------------------------------------------------------------------------

/** A 1×1 transparent PNG, base64. */
export const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

export const WEATHER_TOOL = {
  name: "get_weather",
  description: "The current weather in a city.",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
} as const;

/** Every object key anywhere under `value`, for "this field appears nowhere" checks. */
export function jsonKeysDeep(value: unknown, keys = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) jsonKeysDeep(item, keys);
  else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      keys.add(key);
      jsonKeysDeep(item, keys);
    }
  }
  return keys;
}
