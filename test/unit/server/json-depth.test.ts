/** The nesting check that runs on every body before JSON.parse. */

import { expect, test } from "bun:test";
import { exceedsJsonDepth } from "../../../src/server/read-request.ts";

test("counts arrays and objects inside one another, not side by side", () => {
  expect(exceedsJsonDepth('{"a":[{"b":[]}]}', 4)).toBe(false);
  expect(exceedsJsonDepth('{"a":[{"b":[[]]}]}', 4)).toBe(true);
  expect(exceedsJsonDepth("[[],[],[],[],[]]", 2)).toBe(false);
});

test("brackets inside strings, escaped quotes included, do not count", () => {
  expect(exceedsJsonDepth(JSON.stringify({ a: "[[[[[[", b: 'say "{{{{" \\', c: "\\\"[[[[" }), 1)).toBe(false);
  // An escaped backslash before the quote closes the string, so the bracket after it counts.
  expect(exceedsJsonDepth('["a\\\\",[]]', 1)).toBe(true);
});

test("an unterminated string ends the scan without an answer of its own", () => {
  expect(exceedsJsonDepth('[["[[[[', 2)).toBe(false);
});
