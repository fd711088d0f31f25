/**
 * The fast path of checkBody never disagrees with zod: whatever it passes as it is, zod parses to
 * an equal value. Checked over the request schemas with thousands of seeded mutations of real
 * bodies (the recorded client requests among them), and over a schema with every construct the
 * compiler knows or gives up on. And it is the path real bodies take.
 */

import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { checkBody } from "../../../src/formats/check-body.ts";
import { countTokensRequestSchema, messagesRequestSchema } from "../../../src/formats/anthropic/messages-schema.ts";
import { chatRequestSchema, embeddingsRequestSchema } from "../../../src/formats/openai-requests.ts";
import { responsesRequestSchema } from "../../../src/formats/responses/responses-schema.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

/** Deterministic: the same mutations every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const ODD: unknown[] = [null, undefined, 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "", "x", true, false, [], [1], ["a"], {}, { type: "text" }, 2 ** 60];

/** A fresh odd value (a copy, so no two places share one object). */
const odd = (next: () => number): unknown => structuredClone(ODD[Math.floor(next() * ODD.length)]);

/** A copy of `value` with one to three places changed: a value replaced, a key dropped or added. */
function mutate(value: unknown, next: () => number): unknown {
  const copy = structuredClone(value) as unknown;
  const changes = 1 + Math.floor(next() * 3);
  for (let i = 0; i < changes; i++) {
    const places: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach((child, index) => (places.push({ parent: node, key: index }), walk(child)));
      else if (typeof node === "object" && node !== null) for (const [key, child] of Object.entries(node)) places.push({ parent: node as Record<string, unknown>, key }), walk(child);
    };
    walk(copy);
    if (places.length === 0) return copy;
    const { parent, key } = places[Math.floor(next() * places.length)]!;
    const roll = next();
    if (roll < 0.6) (parent as Record<string | number, unknown>)[key] = odd(next);
    else if (roll < 0.8 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
    else if (!Array.isArray(parent)) (parent as Record<string, unknown>)[`extra_${i}`] = odd(next);
  }
  return copy;
}

function agreesWithZod(schema: z.ZodType, value: unknown): void {
  const fast = checkBody(schema, value);
  const zod = schema.safeParse(value);
  expect(fast.success).toBe(zod.success);
  if (fast.success && zod.success) expect(fast.data).toEqual(zod.data);
}

const CHAT = { model: "openai/gpt-4o-mini", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: [{ type: "text", text: "hi" }] }, { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] }], stream: true, stream_options: { include_usage: true }, temperature: 0.2, max_tokens: 64, stop: ["\n"], tools: [{ type: "function", function: { name: "f" } }], tool_choice: "auto", user: "u" };
const EMBEDDINGS = { model: "openai/text-embedding-3-small", input: ["a", "b"], dimensions: 256, encoding_format: "float" };
const claudeCode = (readFixtureJson("clients/claude-code-2.1.332-messages-request.json") as { body: unknown }).body;
const codex = (readFixtureJson("clients/codex-0.171-responses-request.json") as { body: unknown }).body;
const codexTurn2 = (readFixtureJson("clients/codex-0.171-responses-request-turn2.json") as { body: unknown }).body;

describe("checkBody agrees with zod", () => {
  const cases: [string, z.ZodType, unknown[]][] = [
    ["chat", chatRequestSchema, [CHAT]],
    ["embeddings", embeddingsRequestSchema, [EMBEDDINGS, { model: "m", input: "one" }, { model: "m", input: [[1, 2]] }]],
    ["responses", responsesRequestSchema, [codex, codexTurn2]],
    ["messages", messagesRequestSchema, [claudeCode]],
    ["count_tokens", countTokensRequestSchema, [claudeCode]],
  ];
  for (const [name, schema, bodies] of cases) {
    test(`${name}: the bodies as they are, and 2,000 mutations of them`, () => {
      const next = random(name.length * 7919);
      for (const body of bodies) agreesWithZod(schema, body);
      for (let i = 0; i < 2_000; i++) agreesWithZod(schema, mutate(bodies[i % bodies.length], next));
    });
  }

  const fastSchema = z.looseObject({
    name: z.string().min(1).max(8),
    count: z.number().int().positive().nullish(),
    ratio: z.number().nonnegative().lte(1).optional(),
    flag: z.boolean().optional(),
    kind: z.enum(["a", "b"]).optional(),
    exact: z.literal("x").optional(),
    list: z.array(z.union([z.string(), z.null()])).min(1).optional(),
    plain: z.object({ keep: z.string() }).optional(),
    strict: z.strictObject({ only: z.number() }).optional(),
  });
  const FAST_BASE = { name: "abc", count: 2, ratio: 0.5, flag: true, kind: "a", exact: "x", list: ["a", null], plain: { keep: "k" }, strict: { only: 1 } };

  test.each([
    ["every construct the fast path knows, plain and strict objects among them", fastSchema, FAST_BASE],
    // zod takes the first option that parses, and a plain object drops unknown keys.
    ["a union whose first option drops keys", z.looseObject({ either: z.union([z.object({ a: z.string() }), z.looseObject({ a: z.string(), b: z.number() })]) }), { either: { a: "s", b: 1 } }],
    ["defaults, transforms and refinements", z.looseObject({ padded: z.string().default("none"), trimmed: z.string().trim().optional(), refined: z.string().refine((text) => text !== "no").optional() }), { padded: "p", trimmed: " t ", refined: "yes" }],
  ] as const)("%s", (_name, schema, base) => {
    const next = random(42);
    agreesWithZod(schema, base);
    for (let i = 0; i < 3_000; i++) agreesWithZod(schema, mutate(base, next));
  });

  test("the schema of known constructs is checked by the fast path itself", () => {
    expect((checkBody(fastSchema, FAST_BASE) as { data: unknown }).data).toBe(FAST_BASE);
  });
});

describe("the path real bodies take", () => {
  // The fast path returns the very object it was given; zod returns a copy.
  test.each([
    ["a chat request", chatRequestSchema, CHAT],
    ["an embeddings request", embeddingsRequestSchema, EMBEDDINGS],
  ] as const)("%s passes as it is", (_name, schema, body) => {
    const checked = checkBody(schema as z.ZodType, body);
    expect(checked.success && checked.data).toBe(body);
  });

  test("schemas with refinements (Responses, Messages) are zod's alone, and real bodies still pass", () => {
    for (const [schema, body] of [[responsesRequestSchema, codex], [responsesRequestSchema, codexTurn2], [messagesRequestSchema, claudeCode]] as const) {
      const checked = checkBody(schema as z.ZodType, body);
      expect(checked.success).toBe(true);
      expect(checked.success && checked.data).not.toBe(body);
    }
  });
});
