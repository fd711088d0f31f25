/**
 * Shared set-up for the Gemini end-to-end suites (test/e2e/gemini*.test.ts): the scripted Gemini
 * mock (test/support/mock-gemini.ts) with the real proxy pointed at it through `GEMINI_API_BASE`,
 * torn down after every test, plus small readers for what a client observes (status, headers, SSE
 * events, content and reasoning pieces), for what reached the upstream (`mock.calls[].body`) and
 * for the key pool's standing.
 *
 * Not a test file itself; each suite calls `useGeminiRig()` once at module level.
 */

import { expect } from "bun:test";
import type OpenAI from "openai";
import type { KeyStanding } from "../../src/engine/types.ts";
import { parseSse, type SseEvent } from "../support/fixtures.ts";
import { startMockGemini, type MockGemini, type MockGeminiOptions, type RecordedGeminiCall } from "../support/mock-gemini.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { findKeyStanding, keyCoolingUntil, providerInFlight, providerStanding } from "../support/key-standing.ts";
export { shownKey } from "../support/key-standing.ts";
export { waitFor } from "../support/probes.ts";
import { deltaStrings, FAST_ENV, numberedKeys, stopRigAfterEach } from "./rig-helpers.ts";
export { contentPieces, errorBody } from "./rig-helpers.ts";

/** Upstream model ids (what Gemini sees) and the proxy ids clients ask for. */
export const FLASH = "gemini-2.5-flash";
export const PRO = "gemini-2.5-pro";
export const GEMINI_3 = "gemini-3-pro-preview";
export const EMBEDDING = "gemini-embedding-001";
export const proxyModel = (model: string): string => `gemini/${model}`;

export const USER_MESSAGE = { role: "user" as const, content: "What is the weather in San Francisco?" };

/**
 * Three configured keys. Long enough that their masked forms (last four characters) differ, and
 * not shaped like any vendor's key, so a leak can only be caught by the proxy's own masking.
 */
export const KEYS = ["gemini-test-key-0001", "gemini-test-key-0002", "gemini-test-key-0003"] as const;

export interface GeminiRig {
  mock: MockGemini;
  proxy: ProxyHarness;
  /** The configured keys, in configuration order (slot 0 is tried first). */
  keys: string[];
  /** The real `openai` SDK pointed at the proxy, retries off. */
  client: OpenAI;
}

export interface GeminiRigOptions {
  /** How many of `KEYS` to configure (default 2). */
  keyCount?: number;
  env?: Record<string, string>;
  mock?: MockGeminiOptions;
}

/** Registers an afterEach that stops what the current test started, and returns the starter. */
export function useGeminiRig(): (options?: GeminiRigOptions) => Promise<GeminiRig> {
  const keep = stopRigAfterEach<GeminiRig>((rig) => [rig.mock]);
  return async (options = {}) => {
    const keys = KEYS.slice(0, options.keyCount ?? 2);
    const mock = await startMockGemini(options.mock);
    const env = { GEMINI_API_BASE: mock.url, ...FAST_ENV, ...options.env, ...numberedKeys("GEMINI_API_KEY", keys) };
    const proxy = await startProxy({ env });
    return keep({ mock, proxy, keys, client: proxy.openai({ timeoutMs: 10_000 }) });
  };
}

// ---------------------------------------------------------------------------------------------
// Requests through the proxy
// ---------------------------------------------------------------------------------------------

/** A chat completion with raw fetch, for status, headers and bytes exactly as sent. */
export function postChat(proxy: ProxyHarness, body: Record<string, unknown>): Promise<Response> {
  return proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: proxyModel(FLASH), messages: [USER_MESSAGE], ...body }) });
}

export function postEmbeddings(proxy: ProxyHarness, body: Record<string, unknown>): Promise<Response> {
  return proxy.request("/v1/embeddings", { method: "POST", body: JSON.stringify({ model: proxyModel(EMBEDDING), ...body }) });
}

// ---------------------------------------------------------------------------------------------
// Streams as the client reads them
// ---------------------------------------------------------------------------------------------

export interface ClientStream {
  text: string;
  events: SseEvent[];
  /** JSON payloads of every data event except [DONE], in order. */
  payloads: any[];
}

/** Read a whole SSE answer, asserting it is well formed: exactly one `[DONE]`, and it is last. */
export async function readClientStream(response: Response): Promise<ClientStream> {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  return parseClientStream(await response.text());
}

/** `readClientStream` for a body already read. */
export function parseClientStream(text: string): ClientStream {
  const events = parseSse(text);
  expect(events.filter((event) => event.data === "[DONE]")).toHaveLength(1);
  expect(events.at(-1)?.data).toBe("[DONE]");
  const payloads = events.slice(0, -1).map((event) => JSON.parse(event.data));
  return { text, events, payloads };
}

export const reasoningPieces = (payloads: any[]): string[] => deltaStrings(payloads, "reasoning_content");
export const refusalPieces = (payloads: any[]): string[] => deltaStrings(payloads, "refusal");

/** The finish reasons the stream announced, in order (normally exactly one). */
export function finishReasons(payloads: any[]): string[] {
  return payloads.flatMap((payload) => (payload.choices ?? []).flatMap((choice: any) => (choice.finish_reason ? [choice.finish_reason] : [])));
}

/** Every chunk that carries an `error` object. */
export function errorEvents(payloads: any[]): any[] {
  return payloads.filter((payload) => payload.error !== undefined && payload.error !== null);
}

// ---------------------------------------------------------------------------------------------
// What reached the upstream
// ---------------------------------------------------------------------------------------------

/** Calls to :generateContent / :streamGenerateContent, in order. */
export function generateCalls(mock: MockGemini): RecordedGeminiCall[] {
  return mock.calls.filter((call) => /:(?:stream)?[gG]enerateContent$/.test(call.path));
}

/** The single generate call of a test, asserting there was exactly one. */
export function onlyGenerateCall(mock: MockGemini): RecordedGeminiCall {
  const calls = generateCalls(mock);
  expect(calls).toHaveLength(1);
  return calls[0]!;
}

/** The keys of the generate calls, in order. */
export function keysTried(mock: MockGemini): string[] {
  return generateCalls(mock).map((call) => call.key);
}

// ---------------------------------------------------------------------------------------------
// Key standing
// ---------------------------------------------------------------------------------------------

export const standing = (proxy: ProxyHarness) => providerStanding(proxy, "gemini");

export const keyStanding = (proxy: ProxyHarness, secret: string): KeyStanding => findKeyStanding(proxy, "gemini", secret);

export const coolingUntil = (proxy: ProxyHarness, secret: string, model: string) => keyCoolingUntil(proxy, "gemini", secret, model);

export const totalInFlight = (proxy: ProxyHarness) => providerInFlight(proxy, "gemini");

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

const HOUR_MS = 60 * 60 * 1000;
const laClock = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/Los_Angeles",
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** Wall-clock fields in Los Angeles at `at`. */
export function laWallClock(at: number): { date: string; hour: number; minute: number; second: number } {
  const parts = Object.fromEntries(laClock.formatToParts(at).map((part) => [part.type, part.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second) };
}

/**
 * The first midnight in Los Angeles strictly after `now`, found independently of the product code:
 * LA's UTC offset is a whole number of hours in every season, so its midnight falls on a whole UTC
 * hour; walk the whole UTC hours after `now` until LA reads 00:00:00.
 */
export function nextLosAngelesMidnight(now: number): number {
  for (let at = Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS; at <= now + 26 * HOUR_MS; at += HOUR_MS) {
    const wall = laWallClock(at);
    if (wall.hour === 0 && wall.minute === 0 && wall.second === 0) return at;
  }
  throw new Error("no Los Angeles midnight within 26 hours");
}

// ---------------------------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------------------------

/** Assert no configured key appears anywhere in `text` (a body, a header dump, an error message). */
export function expectNoSecret(text: string, keys: readonly string[] = KEYS): void {
  for (const key of keys) expect(text).not.toContain(key);
}
