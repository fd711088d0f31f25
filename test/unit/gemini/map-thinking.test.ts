/** Reasoning controls (`reasoning_effort`, `thinking`, `custom_reasoning_budget`) → Gemini `thinkingConfig`. */

import { describe, expect, test } from "bun:test";
import type { ChatRequest } from "../../../src/formats/openai-requests.ts";
import { isGemini3OrLater, thinkingConfigFor } from "../../../src/providers/gemini/map-thinking.ts";

function body(fields: Record<string, unknown> = {}): ChatRequest {
  return { model: "gemini/x", messages: [{ role: "user", content: "hi" }], ...fields };
}

function effort(reasoning_effort: string, model: string) {
  return thinkingConfigFor(body({ reasoning_effort }), model);
}

describe("thinkingConfigFor without reasoning fields", () => {
  test("models that think anyway only get includeThoughts, so their thoughts can be surfaced", () => {
    for (const model of ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-3-pro-preview", "gemini-3-flash-preview", "gemini-3.1-pro-preview"]) {
      expect(thinkingConfigFor(body(), model)).toStrictEqual({ includeThoughts: true });
    }
  });

  test("models that do not think get no thinkingConfig", () => {
    for (const model of ["gemini-2.0-flash", "gemma-3-27b-it", "gemini-2.5-flash-preview-tts", "gemini-2.5-flash-image", "gemini-flash-latest"]) {
      expect(thinkingConfigFor(body(), model)).toBeUndefined();
    }
  });

  test("an unknown effort is ignored, as the original ignored it", () => {
    expect(effort("xhigh", "gemini-2.5-flash")).toStrictEqual({ includeThoughts: true });
    expect(effort("xhigh", "gemini-2.0-flash")).toBeUndefined();
  });
});

describe("thinkingConfigFor on budget models (2.5 and older)", () => {
  test("reasoning_effort uses Google's compat-endpoint budgets", () => {
    expect(effort("minimal", "gemini-2.5-flash")).toStrictEqual({ thinkingBudget: 512, includeThoughts: true });
    expect(effort("low", "gemini-2.5-flash")).toStrictEqual({ thinkingBudget: 1024, includeThoughts: true });
    expect(effort("medium", "gemini-2.5-flash")).toStrictEqual({ thinkingBudget: 8192, includeThoughts: true });
    expect(effort("high", "gemini-2.5-pro")).toStrictEqual({ thinkingBudget: 24576, includeThoughts: true });
    expect(effort("HIGH", "gemini-2.5-flash")).toStrictEqual({ thinkingBudget: 24576, includeThoughts: true });
  });

  test("none and the original's disable turn thinking off, without includeThoughts", () => {
    expect(effort("none", "gemini-2.5-flash")).toStrictEqual({ thinkingBudget: 0 });
    expect(effort("disable", "gemini-2.5-flash-lite")).toStrictEqual({ thinkingBudget: 0 });
  });

  test("2.5 Pro cannot turn thinking off: none gives its minimum budget, still thinking", () => {
    expect(effort("none", "gemini-2.5-pro")).toStrictEqual({ thinkingBudget: 128, includeThoughts: true });
    expect(effort("disable", "gemini-2.5-pro-preview-06-05")).toStrictEqual({ thinkingBudget: 128, includeThoughts: true });
  });

  test("an explicit effort on a model outside the 2.5 family is still passed as a budget", () => {
    expect(effort("low", "gemini-2.0-flash")).toStrictEqual({ thinkingBudget: 1024, includeThoughts: true });
  });

  test("custom_reasoning_budget keeps the original's per-model tables", () => {
    const custom = (reasoning_effort: string, model: string) => thinkingConfigFor(body({ reasoning_effort, custom_reasoning_budget: true }), model);
    expect([custom("low", "gemini-2.5-pro"), custom("medium", "gemini-2.5-pro"), custom("high", "gemini-2.5-pro")]).toStrictEqual([
      { thinkingBudget: 8192, includeThoughts: true },
      { thinkingBudget: 16384, includeThoughts: true },
      { thinkingBudget: 32768, includeThoughts: true },
    ]);
    expect([custom("low", "gemini-2.5-flash"), custom("medium", "gemini-2.5-flash-lite"), custom("high", "gemini-2.5-flash")]).toStrictEqual([
      { thinkingBudget: 6144, includeThoughts: true },
      { thinkingBudget: 12288, includeThoughts: true },
      { thinkingBudget: 24576, includeThoughts: true },
    ]);
    expect([custom("low", "gemini-2.0-flash"), custom("medium", "gemini-2.0-flash"), custom("high", "gemini-2.0-flash")]).toStrictEqual([
      { thinkingBudget: 1024, includeThoughts: true },
      { thinkingBudget: 2048, includeThoughts: true },
      { thinkingBudget: 4096, includeThoughts: true },
    ]);
    expect(custom("disable", "gemini-2.5-flash")).toStrictEqual({ thinkingBudget: 0 });
    expect(custom("disable", "gemini-2.5-pro")).toStrictEqual({ thinkingBudget: 128, includeThoughts: true });
  });

  test("custom_reasoning_budget without an effort changes nothing", () => {
    expect(thinkingConfigFor(body({ custom_reasoning_budget: true }), "gemini-2.5-flash")).toStrictEqual({ includeThoughts: true });
  });

  test("thinking {type: enabled, budget_tokens} is passed as the budget", () => {
    const thinking = (value: unknown, model: string) => thinkingConfigFor(body({ thinking: value }), model);
    expect(thinking({ type: "enabled", budget_tokens: 2048 }, "gemini-2.5-flash")).toStrictEqual({ thinkingBudget: 2048, includeThoughts: true });
    expect(thinking({ type: "enabled", budget_tokens: -1 }, "gemini-2.5-flash")).toStrictEqual({ thinkingBudget: -1, includeThoughts: true });
    expect(thinking({ type: "enabled" }, "gemini-2.5-flash")).toStrictEqual({ thinkingBudget: -1, includeThoughts: true });
    expect(thinking({ type: "enabled", budget_tokens: 0 }, "gemini-2.5-flash")).toStrictEqual({ thinkingBudget: 0 });
    expect(thinking({ type: "enabled", budget_tokens: 50 }, "gemini-2.5-pro")).toStrictEqual({ thinkingBudget: 128, includeThoughts: true });
    expect(thinking({ type: "disabled" }, "gemini-2.5-flash")).toStrictEqual({ thinkingBudget: 0 });
  });

  test("thinking wins over reasoning_effort; an unrecognised thinking value does not", () => {
    expect(thinkingConfigFor(body({ thinking: { type: "enabled", budget_tokens: 3000 }, reasoning_effort: "none" }), "gemini-2.5-flash")).toStrictEqual({
      thinkingBudget: 3000,
      includeThoughts: true,
    });
    expect(thinkingConfigFor(body({ thinking: { type: "adaptive" }, reasoning_effort: "low" }), "gemini-2.5-flash")).toStrictEqual({
      thinkingBudget: 1024,
      includeThoughts: true,
    });
  });
});

describe("thinkingConfigFor on level models (Gemini 3 and later)", () => {
  test("Flash takes every level; none asks for the least thinking, MINIMAL", () => {
    const model = "gemini-3-flash-preview";
    expect(["none", "minimal", "low", "medium", "high"].map((value) => effort(value, model))).toStrictEqual([
      { thinkingLevel: "MINIMAL", includeThoughts: true },
      { thinkingLevel: "MINIMAL", includeThoughts: true },
      { thinkingLevel: "LOW", includeThoughts: true },
      { thinkingLevel: "MEDIUM", includeThoughts: true },
      { thinkingLevel: "HIGH", includeThoughts: true },
    ]);
  });

  test("3 Pro has only LOW and HIGH: minimal and none go to LOW, medium to its default HIGH", () => {
    const model = "gemini-3-pro-preview";
    expect(["none", "minimal", "low", "medium", "high"].map((value) => effort(value, model))).toStrictEqual([
      { thinkingLevel: "LOW", includeThoughts: true },
      { thinkingLevel: "LOW", includeThoughts: true },
      { thinkingLevel: "LOW", includeThoughts: true },
      { thinkingLevel: "HIGH", includeThoughts: true },
      { thinkingLevel: "HIGH", includeThoughts: true },
    ]);
  });

  test("3.1 Pro has MEDIUM but no MINIMAL", () => {
    expect(effort("medium", "gemini-3.1-pro-preview")).toStrictEqual({ thinkingLevel: "MEDIUM", includeThoughts: true });
    expect(effort("minimal", "gemini-3.1-pro-preview")).toStrictEqual({ thinkingLevel: "LOW", includeThoughts: true });
    expect(effort("minimal", "gemini-3.1-flash-lite-preview")).toStrictEqual({ thinkingLevel: "MINIMAL", includeThoughts: true });
  });

  test("a token budget becomes the level whose budget it fits; dynamic keeps the model's default", () => {
    const budget = (budget_tokens: number, model = "gemini-3-flash-preview") => thinkingConfigFor(body({ thinking: { type: "enabled", budget_tokens } }), model);
    expect(budget(0)).toStrictEqual({ thinkingLevel: "MINIMAL", includeThoughts: true });
    expect(budget(512)).toStrictEqual({ thinkingLevel: "MINIMAL", includeThoughts: true });
    expect(budget(1024)).toStrictEqual({ thinkingLevel: "LOW", includeThoughts: true });
    expect(budget(4000)).toStrictEqual({ thinkingLevel: "MEDIUM", includeThoughts: true });
    expect(budget(8192)).toStrictEqual({ thinkingLevel: "MEDIUM", includeThoughts: true });
    expect(budget(8193)).toStrictEqual({ thinkingLevel: "HIGH", includeThoughts: true });
    expect(budget(-1)).toStrictEqual({ includeThoughts: true });
    expect(budget(0, "gemini-3-pro-preview")).toStrictEqual({ thinkingLevel: "LOW", includeThoughts: true });
  });

  test("custom_reasoning_budget has no meaning for levels: the effort decides", () => {
    expect(thinkingConfigFor(body({ reasoning_effort: "high", custom_reasoning_budget: true }), "gemini-3-flash-preview")).toStrictEqual({
      thinkingLevel: "HIGH",
      includeThoughts: true,
    });
  });
});

describe("isGemini3OrLater", () => {
  test("reads the major version from the model id", () => {
    expect(["gemini-3-pro-preview", "gemini-3.1-flash-lite-preview", "gemini-3-pro-image-preview", "gemini-4-flash"].map(isGemini3OrLater)).toEqual([true, true, true, true]);
    expect(["gemini-2.5-pro", "gemini-2.0-flash", "gemma-3-27b-it", "gemini-flash-latest", "gemini-exp-1206"].map(isGemini3OrLater)).toEqual([false, false, false, false, false]);
  });
});
