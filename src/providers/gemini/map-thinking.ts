/**
 * The request's reasoning controls → Gemini `generationConfig.thinkingConfig`.
 *
 * Three client spellings are understood, first match wins (the original proxy's order):
 * 1. `thinking: {type: "enabled", budget_tokens: N}` / `{type: "disabled"}` (Anthropic style, which the
 *    original accepted for Gemini);
 * 2. `custom_reasoning_budget: true` + `reasoning_effort`: the original's larger per-model budgets;
 * 3. `reasoning_effort` alone: `none` (or the original's `disable`), `minimal`, `low`, `medium`, `high`.
 *    Other values are ignored, as the original ignored them.
 *
 * Gemini 3 and later take a `thinkingLevel`; 2.5 and everything else a `thinkingBudget` in tokens
 * (the two are mutually exclusive; Google answers 400 to both). `includeThoughts` goes with every
 * config that leaves thinking on, so the thought summaries can reach the client as
 * `reasoning_content`. With no reasoning field at all, models that think anyway get only
 * `includeThoughts`, and Gemini picks its own (dynamic) amount of thinking.
 */

import type { ChatRequest } from "../../formats/openai-requests.ts";
import type { GeminiRequest } from "./gemini-types.ts";
import { isRecord } from "../../formats/is-record.ts";

export type GeminiThinkingConfig = NonNullable<NonNullable<GeminiRequest["generationConfig"]>["thinkingConfig"]>;
type ThinkingLevel = NonNullable<GeminiThinkingConfig["thinkingLevel"]>;
type Effort = "none" | "minimal" | "low" | "medium" | "high";
type ScaledEffort = "low" | "medium" | "high";

/** Gemini's "let the model decide" budget. */
const DYNAMIC_BUDGET = -1;

/**
 * Plain `reasoning_effort` on budget models: the numbers Google's own OpenAI-compatible endpoint
 * uses, so a client sees the same behaviour through this proxy as through Google's compat route.
 * `minimal` is 512, the smallest budget every 2.5 model accepts with thinking left on.
 */
const EFFORT_BUDGETS: Record<Effort, number> = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24576 };

/** The original proxy's `custom_reasoning_budget` tables, matched on the model id, kept as they were. */
const CUSTOM_BUDGETS: { modelIncludes: string; budgets: Record<ScaledEffort, number> }[] = [
  { modelIncludes: "gemini-2.5-pro", budgets: { low: 8192, medium: 16384, high: 32768 } },
  { modelIncludes: "gemini-2.5-flash", budgets: { low: 6144, medium: 12288, high: 24576 } },
];
const CUSTOM_BUDGETS_OTHER: Record<ScaledEffort, number> = { low: 1024, medium: 2048, high: 4096 };

/** 2.5 Pro cannot turn thinking off; 128 is the smallest budget it accepts. */
const GEMINI_25_PRO_MIN_BUDGET = 128;

export function thinkingConfigFor(body: ChatRequest, model: string): GeminiThinkingConfig | undefined {
  const requested = requestedThinking(body, model);
  if (requested === undefined) return thinksByDefault(model) ? { includeThoughts: true } : undefined;
  if (isGemini3OrLater(model)) return levelConfig(typeof requested === "number" ? effortForBudget(requested) : requested, model);
  return budgetConfig(typeof requested === "number" ? requested : EFFORT_BUDGETS[requested], model);
}

/** Gemini 3 and later: they take `thinkingLevel` and reject function calls that lack a thought signature. */
export function isGemini3OrLater(model: string): boolean {
  const major = /^gemini-(\d+)[.-]/.exec(model)?.[1];
  return major !== undefined && Number(major) >= 3;
}

/**
 * 2.5 and 3+ models think whether asked to or not. TTS and image-output variants are left out: they do
 * not think, and a thinkingConfig there risks a 400 for no gain.
 */
function thinksByDefault(model: string): boolean {
  if (/tts|image/.test(model)) return false;
  return isGemini3OrLater(model) || /^gemini-2\.5-(?:pro|flash)/.test(model);
}

/** An effort, an explicit token budget, or undefined when the request says nothing about reasoning. */
function requestedThinking(body: ChatRequest, model: string): Effort | number | undefined {
  const thinking = body.thinking;
  if (isRecord(thinking)) {
    if (thinking.type === "disabled") return "none";
    if (thinking.type === "enabled") return typeof thinking.budget_tokens === "number" ? thinking.budget_tokens : DYNAMIC_BUDGET;
  }
  const effort = parseEffort(body.reasoning_effort);
  if (effort === undefined) return undefined;
  if (body.custom_reasoning_budget && isScaledEffort(effort) && !isGemini3OrLater(model)) return customBudget(effort, model);
  return effort;
}

function parseEffort(value: unknown): Effort | undefined {
  if (typeof value !== "string") return undefined;
  const effort = value.toLowerCase();
  if (effort === "disable") return "none";
  return effort === "none" || effort === "minimal" || isScaledEffort(effort) ? effort : undefined;
}

function isScaledEffort(effort: string): effort is ScaledEffort {
  return effort === "low" || effort === "medium" || effort === "high";
}

function customBudget(effort: ScaledEffort, model: string): number {
  const table = CUSTOM_BUDGETS.find((entry) => model.includes(entry.modelIncludes))?.budgets ?? CUSTOM_BUDGETS_OTHER;
  return table[effort];
}

function budgetConfig(budget: number, model: string): GeminiThinkingConfig {
  const floored = /^gemini-2\.5-pro/.test(model) && budget >= 0 && budget < GEMINI_25_PRO_MIN_BUDGET ? GEMINI_25_PRO_MIN_BUDGET : budget;
  return floored === 0 ? { thinkingBudget: 0 } : { thinkingBudget: floored, includeThoughts: true };
}

/**
 * A token budget read as an effort, for level models. The cut-offs are `EFFORT_BUDGETS`, so a budget
 * this proxy would send for an effort maps back to that effort. Dynamic (negative) gives undefined:
 * the model's own default level.
 */
function effortForBudget(budget: number): Effort | undefined {
  if (budget < 0) return undefined;
  if (budget === 0) return "none";
  if (budget <= EFFORT_BUDGETS.minimal) return "minimal";
  if (budget <= EFFORT_BUDGETS.low) return "low";
  if (budget <= EFFORT_BUDGETS.medium) return "medium";
  return "high";
}

/** Gemini 3 cannot switch thinking off; `none` asks for the least it does. */
function levelConfig(effort: Effort | undefined, model: string): GeminiThinkingConfig {
  if (effort === undefined) return { includeThoughts: true };
  const level: ThinkingLevel = effort === "none" || effort === "minimal" ? "MINIMAL" : (effort.toUpperCase() as ThinkingLevel);
  return { thinkingLevel: supportedLevel(level, model), includeThoughts: true };
}

/**
 * The Pro models reject `MINIMAL` ("Thinking level MINIMAL is not supported for this model"), so
 * they get their lowest, `LOW`. Gemini 3 Pro (3.0) has no `MEDIUM` either; it gets `HIGH`, its
 * default, since `medium` is also OpenAI's default effort.
 */
function supportedLevel(level: ThinkingLevel, model: string): ThinkingLevel {
  if (level === "MINIMAL" && model.includes("-pro")) return "LOW";
  if (level === "MEDIUM" && model.startsWith("gemini-3-pro")) return "HIGH";
  return level;
}
