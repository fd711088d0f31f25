/**
 * A bounded fuzz of request bodies: valid bodies of every front (chat, Messages, Responses,
 * embeddings, count_tokens, Gemini native) for every wire family, mutated by a seeded generator —
 * values replaced by the wrong types, absurd numbers, long or odd strings and nested values; keys
 * removed or added; the JSON cut short or made of garbage bytes. Whatever arrives, the proxy:
 *
 * - answers (no crash, no hang) with a 2xx or 4xx — never a 500 — in the front's own error envelope;
 * - never shows the text of an internal exception;
 * - gives every key back (no request left in flight).
 *
 * A failing case prints its seed and body, so it can be replayed.
 */

import { describe, expect, test } from "bun:test";
import { CLAUDE_MODEL, FLASH, FLASH_MODEL, GPT_MODEL, useAnthropicRig } from "./anthropic-helpers.ts";

const start = useAnthropicRig();

/** A small seeded generator, so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Front {
  path: string;
  body: (model: string) => Json;
  /** Families this front serves; Gemini native takes the model from the path. */
  models: string[];
}

const USER = [{ role: "user", content: "Say hello." }];
const FRONTS: Front[] = [
  { path: "/v1/chat/completions", models: [GPT_MODEL, CLAUDE_MODEL, FLASH_MODEL], body: (model) => ({ model, messages: USER, stream: false, max_tokens: 32, temperature: 0.5, tools: [{ type: "function", function: { name: "f", parameters: { type: "object", properties: { a: { type: "string" } } } } }] }) },
  { path: "/v1/messages", models: [CLAUDE_MODEL, GPT_MODEL, FLASH_MODEL], body: (model) => ({ model, max_tokens: 32, system: "Be brief.", messages: [{ role: "user", content: [{ type: "text", text: "Say hello." }] }] }) },
  { path: "/v1/messages/count_tokens", models: [CLAUDE_MODEL, GPT_MODEL, FLASH_MODEL], body: (model) => ({ model, messages: USER }) },
  { path: "/v1/responses", models: [GPT_MODEL, CLAUDE_MODEL, FLASH_MODEL], body: (model) => ({ model, input: [{ role: "user", content: [{ type: "input_text", text: "Say hello." }] }], instructions: "Be brief.", store: false }) },
  { path: "/v1/embeddings", models: [GPT_MODEL, FLASH_MODEL], body: (model) => ({ model, input: ["a", "b"] }) },
  { path: `/v1beta/models/${FLASH}:generateContent`, models: [""], body: () => ({ contents: [{ role: "user", parts: [{ text: "Say hello." }] }], generationConfig: { maxOutputTokens: 32 } }) },
];

const ODD_STRINGS = ["", " ", "\u0000", "\n\r\t", "🙂".repeat(50), "x".repeat(70_000), "gemini/", "/", "openai//", "../../etc/passwd", "%00", '{"a":1}', "\ud800"];
const ODD_NUMBERS = [0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER];

function oddValue(draw: () => number, depth = 0): Json {
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(draw() * list.length)]!;
  switch (Math.floor(draw() * 8)) {
    case 0:
      return null;
    case 1:
      return draw() < 0.5;
    case 2:
      return pick(ODD_NUMBERS);
    case 3:
      return pick(ODD_STRINGS);
    case 4:
      return depth > 3 ? [] : Array.from({ length: Math.floor(draw() * 4) }, () => oddValue(draw, depth + 1));
    case 5:
      return depth > 3 ? {} : Object.fromEntries(Array.from({ length: Math.floor(draw() * 3) }, (_, i) => [pick(["type", "role", "text", "content", `k${i}`]), oddValue(draw, depth + 1)]));
    case 6: {
      // Nesting around the documented depth limit (64).
      let value: Json = "deep";
      for (let level = 0; level < 40 + Math.floor(draw() * 40); level++) value = [value];
      return value;
    }
    default:
      return Array.from({ length: 300 }, () => ({ role: "user", content: "hi" }));
  }
}

/** Every (parent, key) place in a JSON value, so a mutation can land anywhere. */
function places(value: Json, found: [Json[] | Record<string, Json>, string | number][] = []) {
  if (Array.isArray(value)) value.forEach((child, index) => (found.push([value, index]), places(child, found)));
  else if (value !== null && typeof value === "object") for (const [key, child] of Object.entries(value)) found.push([value, key]), places(child, found);
  return found;
}

/** One fuzzed request body (as sent on the wire). */
function fuzzedBody(draw: () => number, base: Json): string {
  const mutations = 1 + Math.floor(draw() * 3);
  for (let m = 0; m < mutations; m++) {
    const all = places(base);
    if (all.length === 0) break;
    const [parent, key] = all[Math.floor(draw() * all.length)]!;
    const op = draw();
    if (op < 0.55) (parent as Record<string, Json>)[key as string] = oddValue(draw);
    else if (op < 0.75) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete (parent as Record<string, Json>)[key as string];
    } else (parent as Record<string, Json>)[Array.isArray(parent) ? parent.length : `extra_${m}`] = oddValue(draw);
  }
  const text = JSON.stringify(base);
  const wire = draw();
  if (wire < 0.08) return text.slice(0, Math.floor(draw() * text.length));
  if (wire < 0.1) return String.fromCharCode(...Array.from({ length: 64 }, () => Math.floor(draw() * 256)));
  return text;
}

const INTERNAL_TEXT = /is not a function|is not an object|Cannot read propert|undefined is not|null is not|RangeError|TypeError|SyntaxError|at [\w.]+ \(|\.ts:\d+/;

describe("request fuzz", () => {
  test("3,000 fuzzed bodies over every front: no 500, no exception text, every key given back", async () => {
    const rig = await start({ env: { MAX_BODY_SIZE_MB: "1" } });
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const CASES = 3_000;
    for (let seed = 1; seed <= CASES; seed++) {
      const draw = random(seed);
      const front = FRONTS[seed % FRONTS.length]!;
      const model = front.models[Math.floor(draw() * front.models.length)]!;
      const base = front.body(model) as Json;
      if (draw() < 0.3 && base && typeof base === "object" && !Array.isArray(base) && front.path.endsWith("completions")) base.stream = true;
      const body = fuzzedBody(draw, base);
      const response = await rig.proxy.request(front.path, { method: "POST", body, headers: { "content-type": "application/json" } });
      const text = await response.text();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const wrong =
        response.status >= 500
          ? `status ${response.status}`
          : INTERNAL_TEXT.test(text) && response.status !== 200
            ? "internal exception text"
            : response.status !== 200 && !isErrorEnvelope(text)
              ? "not an error envelope"
              : undefined;
      if (wrong) failures.push(`seed ${seed} ${front.path}: ${wrong}: ${text.slice(0, 300)} ← ${body.slice(0, 300)}`);
    }
    const inFlight = [...rig.proxy.ctx.providers.values()].reduce((sum, runtime) => sum + runtime.pool.standing().keys.reduce((n, key) => n + key.inFlight, 0), 0);
    expect(failures).toEqual([]);
    expect(inFlight).toBe(0);
    // The fuzz reaches both sides: some bodies are still served, most are refused as the client's.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(150);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(1_000);
    // The server is still there.
    expect((await rig.proxy.request("/v1/models")).status).toBe(200);
  }, 120_000);
});

/** OpenAI / Anthropic / Google error bodies all carry an `error` object with a message. */
function isErrorEnvelope(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    return typeof parsed.error?.message === "string" && parsed.error.message.length > 0;
  } catch {
    return false;
  }
}
