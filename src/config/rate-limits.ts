/**
 * Declared limits: `RATE_LIMIT_<P>[_<NAME>]=[<model glob>:] <n> <unit>, … [per provider]`.
 *
 * - Units: `rpm` requests per minute, `tpm` tokens per minute, `rpd` requests per day, `tpd`
 *   tokens per day; a count may end in `k` or `m` (`250k tpm`).
 * - Without a model glob the limits hold for every model, each model counted on its own (as
 *   providers count them). With one (`gemini-2.5-pro`, `gemini-2.5-flash*`), for matching models;
 *   the glob is everything before the last `:`, so model names with colons work.
 * - Per key by default (each key has the limit); `per provider` counts all the provider's keys
 *   together (an organisation-wide limit).
 * - Several variables may name one provider (the `_<NAME>` part only tells them apart). For each
 *   unit the most specific rule matching a model decides: an exact name over a glob, a longer glob
 *   over a shorter, any glob over none.
 *
 * A variable that names no configured provider is reported and has no effect; one whose value
 * cannot be read stops the start, naming the variable.
 */

import { UNIT_SHORT_NAMES, type LimitsFor, type LimitUnit, type LimitValues, type ModelLimits, type RateLimitRule } from "../engine/declared-limits.ts";
import { compileGlobs, showValue, type ProviderSettings } from "./discover-providers.ts";
import { ConfigError } from "./paths.ts";

const PREFIX = "RATE_LIMIT_";
const UNITS = new Map(Object.entries(UNIT_SHORT_NAMES).map(([unit, short]) => [short, unit as LimitUnit]));
const ITEM = /^(\d+(?:\.\d+)?)\s*([km]?)\s*(rpm|tpm|rpd|tpd)$/i;
const SCOPE = /\s+per\s+(key|provider)\s*$/i;
const MULTIPLIERS: Record<string, number> = { "": 1, k: 1_000, m: 1_000_000 };

/**
 * The `RATE_LIMIT_*` rules of each configured provider (by provider name), and a warning for each
 * variable that names none.
 */
export function readRateLimits(vars: Readonly<Record<string, string | undefined>>, providers: readonly ProviderSettings[]): { rules: Map<string, RateLimitRule[]>; warnings: string[] } {
  const rules = new Map<string, RateLimitRule[]>();
  const warnings: string[] = [];
  // Longest name first: RATE_LIMIT_NVIDIA_NIM_X belongs to nvidia_nim, not to a provider "nvidia".
  const names = providers.map((p) => p.name.toUpperCase()).sort((a, b) => b.length - a.length);
  for (const [variable, value] of Object.entries(vars)) {
    if (!variable.startsWith(PREFIX) || value === undefined || value.trim() === "") continue;
    const rest = variable.slice(PREFIX.length);
    const provider = names.find((name) => rest === name || rest.startsWith(`${name}_`));
    if (provider === undefined) {
      warnings.push(`${variable} names no configured provider (configured: ${providers.map((p) => p.name).join(", ")}); it has no effect.`);
      continue;
    }
    const rule = parseRateLimit(variable, value);
    const list = rules.get(provider.toLowerCase());
    if (list) list.push(rule);
    else rules.set(provider.toLowerCase(), [rule]);
  }
  return { rules, warnings };
}

/** One variable's value: `[<model glob>:] <n> <unit>, … [per key|per provider]`. */
export function parseRateLimit(variable: string, value: string): RateLimitRule {
  let text = value.trim();
  const scopeMatch = SCOPE.exec(text);
  const scope = scopeMatch ? (scopeMatch[1]!.toLowerCase() as "key" | "provider") : "key";
  if (scopeMatch) text = text.slice(0, scopeMatch.index).trim();
  const colon = text.lastIndexOf(":");
  const model = colon === -1 ? undefined : text.slice(0, colon).trim();
  const list = colon === -1 ? text : text.slice(colon + 1);
  if (model === "") throw new ConfigError(`${variable} has nothing before ":" (write "<model glob>: 10 rpm", or leave out the model for every model).`);
  const limits: LimitValues = {};
  for (const item of list.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
    const match = ITEM.exec(item);
    if (!match) {
      throw new ConfigError(`${variable} must read "[<model glob>:] <count> rpm|tpm|rpd|tpd, … [per provider]" such as "gemini-2.5-flash: 10 rpm, 250 rpd" (${showValue(item)} is not a count and a unit).`);
    }
    const unit = UNITS.get(match[3]!.toLowerCase() as "rpm")!;
    const count = Math.round(Number(match[1]) * MULTIPLIERS[match[2]!.toLowerCase()]!);
    if (count < 1) throw new ConfigError(`${variable}: "${item}" must be at least 1.`);
    if (limits[unit] !== undefined) throw new ConfigError(`${variable} gives ${match[3]} twice.`);
    limits[unit] = count;
  }
  if (Object.keys(limits).length === 0) throw new ConfigError(`${variable} declares no limit (write for example "10 rpm, 250 rpd").`);
  return { ...(model === undefined || model === "*" ? {} : { model }), scope, limits, source: variable };
}

/** How specific a rule is for the models it matches: an exact name beats any glob, a longer glob a shorter, a glob none. */
function specificity(rule: RateLimitRule): number {
  if (rule.model === undefined) return 0;
  if (!rule.model.includes("*")) return Number.MAX_SAFE_INTEGER;
  return 1 + rule.model.replaceAll("*", "").length;
}

/**
 * The provider's rules as a lookup of one model's limits: per unit, the most specific matching
 * rule of each scope decides. Undefined when the provider declares nothing.
 */
export function limitsLookup(provider: string, rules: readonly RateLimitRule[] | undefined): LimitsFor | undefined {
  if (rules === undefined || rules.length === 0) return undefined;
  const ordered = rules
    .map((rule) => ({ rule, matcher: rule.model === undefined ? null : compileGlobs([rule.model], provider), rank: specificity(rule) }))
    .sort((a, b) => b.rank - a.rank);
  return (model: string): ModelLimits | undefined => {
    const perKey: LimitValues = {};
    const perProvider: LimitValues = {};
    const sources = new Set<string>();
    for (const { rule, matcher } of ordered) {
      if (matcher !== null && !matcher.test(model)) continue;
      const into = rule.scope === "key" ? perKey : perProvider;
      for (const [unit, count] of Object.entries(rule.limits) as [LimitUnit, number][]) {
        if (into[unit] !== undefined) continue;
        into[unit] = count;
        sources.add(rule.source);
      }
    }
    if (sources.size === 0) return undefined;
    return {
      ...(Object.keys(perKey).length > 0 ? { perKey } : {}),
      ...(Object.keys(perProvider).length > 0 ? { perProvider } : {}),
      source: [...sources].join(", "),
    };
  };
}
