/**
 * Shared set-up for the key-rotation end-to-end suites (test/e2e/rotation*.test.ts): one scripted
 * mock upstream plus the real proxy pointed at it, torn down after every test, and small readers
 * for what a client observes (status, headers, SSE events) and for the pool's key standing.
 *
 * Not a test file itself; each suite calls `useRotationRig()` once at module level.
 */

import type { KeyStanding } from "../../src/engine/types.ts";
import { parseSse, type SseEvent } from "../support/fixtures.ts";
import { startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { findKeyStanding, keyCoolingUntil, providerInFlight, providerStanding } from "../support/key-standing.ts";
export { shownKey } from "../support/key-standing.ts";
export { waitFor } from "../support/probes.ts";
import { numberedKeys, stopRigAfterEach } from "./rig-helpers.ts";
export { contentPieces, errorBody } from "./rig-helpers.ts";

/** The model every test asks for, and the name the pool keys its lanes by. */
export const MODEL = "openai/gpt-4o-mini";
export const UPSTREAM_MODEL = "gpt-4o-mini";
export const MESSAGES = [{ role: "user" as const, content: "Say hello." }];

export interface Rig {
  mock: MockUpstream;
  proxy: ProxyHarness;
  /** The configured provider keys, in configuration order. */
  keys: string[];
}

export interface RigOptions {
  /** Provider keys (default: two from `testKeys`). */
  keys?: string[];
  /** Extra env (timeouts, caps …). */
  env?: Record<string, string>;
  transientBackoffMs?: number;
}

/**
 * Registers an afterEach that stops whatever the current test started, and returns the starter.
 * `rig.proxy` may be replaced (after `restart()`); the teardown stops the latest one.
 */
export function useRotationRig(): { start(options?: RigOptions): Promise<Rig> } {
  const keep = stopRigAfterEach<Rig>((rig) => [rig.mock]);
  return {
    async start(options = {}) {
      const keys = options.keys ?? testKeys(2);
      const mock = await startMockUpstream();
      const env = { OPENAI_API_BASE: mock.url, ...options.env, ...numberedKeys("OPENAI_API_KEY", keys) };
      const proxy = await startProxy({ env, transientBackoffMs: options.transientBackoffMs });
      return keep({ mock, proxy, keys });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/** A chat completion through the proxy with raw fetch (status, headers and bytes as sent). */
export function chat(proxy: ProxyHarness, options: { stream?: boolean; signal?: AbortSignal; body?: Record<string, unknown> } = {}): Promise<Response> {
  const body = { model: MODEL, messages: MESSAGES, ...(options.stream ? { stream: true } : {}), ...options.body };
  return proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify(body), signal: options.signal });
}

/** A non-stream chat through the real SDK; returns the completion and the raw response. */
export async function sdkChat(proxy: ProxyHarness) {
  return proxy.openai().chat.completions.create({ model: MODEL, messages: MESSAGES }).withResponse();
}

/** A streamed chat through the real SDK; returns the concatenated content. */
export async function sdkStreamText(proxy: ProxyHarness): Promise<{ text: string; response: Response }> {
  const { data: stream, response } = await proxy.openai().chat.completions.create({ model: MODEL, messages: MESSAGES, stream: true }).withResponse();
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  return { text, response };
}

/** Time a promise. */
export async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

export interface ReadStream {
  events: SseEvent[];
  /** JSON payloads of every data event except [DONE]. */
  payloads: any[];
  text: string;
}

export async function readStream(response: Response): Promise<ReadStream> {
  const text = await response.text();
  const events = parseSse(text);
  const payloads = events.filter((event) => event.data !== "[DONE]").map((event) => JSON.parse(event.data));
  return { events, payloads, text };
}

// ---------------------------------------------------------------------------------------------
// Key standing
// ---------------------------------------------------------------------------------------------

export const standing = (proxy: ProxyHarness) => providerStanding(proxy, "openai");

export const keyStanding = (proxy: ProxyHarness, secret: string): KeyStanding => findKeyStanding(proxy, "openai", secret);

/** When (key, model) comes back, or undefined when it is not cooling. */
export const coolingUntil = (proxy: ProxyHarness, secret: string) => keyCoolingUntil(proxy, "openai", secret, UPSTREAM_MODEL);

export const totalInFlight = (proxy: ProxyHarness) => providerInFlight(proxy, "openai");

/**
 * A DAILY_RESET_TIME_UTC twelve hours away, for tests that disable every key: with the default
 * 03:00, a run just before 03:00 UTC would see the keys come back within GLOBAL_TIMEOUT and wait.
 */
export function farResetEnv(): Record<string, string> {
  const at = new Date(Date.now() + 12 * 60 * 60 * 1000);
  return { DAILY_RESET_TIME_UTC: `${String(at.getUTCHours()).padStart(2, "0")}:${String(at.getUTCMinutes()).padStart(2, "0")}` };
}

/** `n` distinct provider keys whose last four characters differ, so their masked forms do too. */
export function testKeys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `sk-mock-key-${String(i + 1).padStart(4, "0")}`);
}
