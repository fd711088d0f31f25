/**
 * What the e2e helper modules (rotation-, gemini- and anthropic-helpers.ts) share: the teardown of
 * a rig of mocks plus proxy, the env a user's `.env` would give it, and readers for what an
 * OpenAI-format client sees (error envelopes, streamed content).
 */

import { afterEach, expect } from "bun:test";
import type { ProxyHarness } from "../support/proxy-harness.ts";

/** Short limits so a test that goes wrong fails fast instead of hanging. */
export const FAST_ENV = { GLOBAL_TIMEOUT: "5", CONNECT_TIMEOUT: "2", STREAM_IDLE_TIMEOUT: "3" } as const;

/** `PREFIX_1`, `PREFIX_2` … one per key, in order, as a user numbers them in `.env`. */
export function numberedKeys(prefix: string, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.map((key, index) => [`${prefix}_${index + 1}`, key]));
}

/**
 * Registers an afterEach that stops the rig the current test started, and returns the function
 * that hands a new rig to it. The rig is read at teardown, so a proxy replaced after `restart()`
 * is the one stopped.
 */
export function stopRigAfterEach<R extends { proxy: ProxyHarness }>(mocksOf: (rig: R) => { stop(): Promise<void> }[]): (rig: R) => R {
  let current: R | undefined;
  afterEach(async () => {
    const ending = current;
    current = undefined;
    if (!ending) return;
    // The mocks first: they release hung requests, so the proxy drains at once.
    await Promise.all(mocksOf(ending).map((mock) => mock.stop()));
    await ending.proxy.stop();
  });
  return (rig) => (current = rig);
}

/** The OpenAI error envelope of a failed answer, checked for shape. */
export async function errorBody(response: Response): Promise<{ message: string; type: string; code: string | null; param: string | null }> {
  const body = (await response.json()) as any;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error.message).toBe("string");
  expect(typeof body.error.type).toBe("string");
  return body.error;
}

/** The non-empty `delta[field]` strings of a chat stream's chunks, in order. */
export function deltaStrings(payloads: any[], field: "content" | "reasoning_content" | "refusal"): string[] {
  return payloads.flatMap((payload) => {
    const value = payload.choices?.[0]?.delta?.[field];
    return typeof value === "string" && value.length > 0 ? [value] : [];
  });
}

/** Content pieces carried by the chunks of a stream, in order. */
export const contentPieces = (payloads: any[]): string[] => deltaStrings(payloads, "content");
