/** The bounded LRU that keeps Claude's thinking blocks by tool call id. */

import { expect, test } from "bun:test";
import { createThinkingMemory, type ThinkingBlock } from "../../../src/providers/anthropic/thinking-memory.ts";

const THINKING: ThinkingBlock = { type: "thinking", thinking: "Check the weather.", signature: "EqQBsig==" };
const REDACTED: ThinkingBlock = { type: "redacted_thinking", data: "ENCRYPTED" };

test("recall gives back what was remembered, in order; an unknown id gives undefined", () => {
  const memory = createThinkingMemory();
  memory.remember("toolu_1", [THINKING, REDACTED]);
  expect(memory.recall("toolu_1")).toEqual([THINKING, REDACTED]);
  expect(memory.recall("toolu_2")).toBeUndefined();
});

test("nothing to remember stores nothing", () => {
  const memory = createThinkingMemory();
  memory.remember("toolu_1", []);
  expect(memory.recall("toolu_1")).toBeUndefined();
});

test("remembering an id again replaces its blocks", () => {
  const memory = createThinkingMemory();
  memory.remember("toolu_1", [THINKING]);
  memory.remember("toolu_1", [REDACTED]);
  expect(memory.recall("toolu_1")).toEqual([REDACTED]);
});

test("past maxEntries the least recently used entry goes; a recall counts as a use", () => {
  const memory = createThinkingMemory({ maxEntries: 2 });
  memory.remember("a", [THINKING]);
  memory.remember("b", [THINKING]);
  expect(memory.recall("a")).toEqual([THINKING]);
  memory.remember("c", [THINKING]);
  expect(memory.recall("b")).toBeUndefined();
  expect(memory.recall("a")).toEqual([THINKING]);
  expect(memory.recall("c")).toEqual([THINKING]);
});

test("callers hold copies: changing what they gave or got does not change what is remembered", () => {
  const memory = createThinkingMemory();
  const given = [{ ...THINKING }] as ThinkingBlock[];
  memory.remember("toolu_1", given);
  (given[0] as { signature: string }).signature = "changed";
  const got = memory.recall("toolu_1")!;
  (got[0] as { thinking: string }).thinking = "changed";
  expect(memory.recall("toolu_1")).toEqual([THINKING]);
});

test("maxEntries must be a positive integer", () => {
  expect(() => createThinkingMemory({ maxEntries: 0 })).toThrow(RangeError);
  expect(() => createThinkingMemory({ maxEntries: 1.5 })).toThrow(RangeError);
});
