/**
 * Usage read from an answer's text must equal usage read from the parsed answer: checked against
 * every recorded JSON answer (as recorded and re-serialised compactly), every recorded stream
 * chunk, and answers built to mislead a text search.
 */

import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { findUsage } from "../../../src/providers/openai/find-usage.ts";
import { FIXTURES_DIR, readFixtureText } from "../../support/fixtures.ts";

const jsonFixtures = readdirSync(FIXTURES_DIR, { recursive: true })
  .map(String)
  .filter((path) => path.endsWith(".json"));

/** What a full parse says: the top-level usage, or not found. */
function parsedUsage(text: string): ReturnType<typeof findUsage> {
  const body = JSON.parse(text) as Record<string, unknown>;
  return "usage" in body ? { found: true, value: body.usage } : { found: false };
}

describe("findUsage agrees with a full parse", () => {
  test.each(jsonFixtures)("%s, as recorded and compact", (path) => {
    const text = readFixtureText(path);
    const body = JSON.parse(text);
    if (typeof body !== "object" || body === null || Array.isArray(body)) return;
    for (const variant of [text, JSON.stringify(body), JSON.stringify(body, null, 1)]) {
      const expected = parsedUsage(variant);
      const found = findUsage(variant);
      // Where the top level has no usage, a nested one may be found; never a wrong top-level one.
      if (expected.found) expect(found).toEqual(expected);
    }
  });

  test("the recorded chat answers with usage are all read", () => {
    const withUsage = jsonFixtures.filter((path) => "usage" in (JSON.parse(readFixtureText(path)) as object));
    expect(withUsage.length).toBeGreaterThanOrEqual(5);
    for (const path of withUsage) expect(findUsage(readFixtureText(path)).found).toBe(true);
  });

  test("every recorded OpenAI-shaped stream chunk", () => {
    const chunkFiles = ["deepseek/reasoning.chunks.txt", "groq/tool-call.chunks.txt", "mistral/stream-incremental-tool-call.chunks.txt"];
    let withUsage = 0;
    for (const file of chunkFiles) {
      for (const line of readFixtureText(file).trim().split("\n")) {
        const expected = parsedUsage(line);
        if (!expected.found) continue;
        withUsage++;
        expect(findUsage(line)).toEqual(expected);
      }
    }
    expect(withUsage).toBeGreaterThan(0);
  });
});

describe("text built to mislead", () => {
  const usage = { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 };

  test("content quoting a usage key, before and after the real one", () => {
    const content = 'log: {"usage": {"prompt_tokens": 999}} and ,"usage":{"x":1}';
    for (const body of [
      { choices: [{ message: { content } }], usage },
      { usage, choices: [{ message: { content } }] },
    ]) {
      expect(findUsage(JSON.stringify(body))).toEqual({ found: true, value: usage });
    }
  });

  test("braces and escaped quotes inside strings of the usage object", () => {
    const odd = { ...usage, note: 'a } b { c \\" d "' };
    expect(findUsage(JSON.stringify({ choices: [], usage: odd }))).toEqual({ found: true, value: odd });
  });

  test("usage null, usage missing, a cut-off usage", () => {
    expect(findUsage(JSON.stringify({ choices: [], usage: null }))).toEqual({ found: true, value: null });
    expect(findUsage(JSON.stringify({ choices: [] }))).toEqual({ found: false });
    expect(findUsage('{"choices":[],"usage":{"prompt_tokens":3,')).toEqual({ found: false });
  });

  test("a key that merely ends in usage is not usage", () => {
    expect(findUsage(JSON.stringify({ choices: [], my_usage: usage }))).toEqual({ found: false });
  });
});
