/**
 * Looking at and fixing key state: `GET /v1/stats` (per provider and per key: state per model,
 * in-flight, strikes, today's and all-time usage) and `POST /v1/keys/reset` (clear cooldowns and
 * disabled state of one key, a provider, or everything — the manual escape hatch).
 */

import { Hono } from "hono";
import { z } from "zod";
import { usageDay } from "../../engine/daily-reset.ts";
import type { KeyStanding } from "../../engine/types.ts";
import type { UsageRow } from "../../store/types.ts";
import type { AppEnv } from "../app-env.ts";
import { errorResponse } from "../errors.ts";
import { invalidRequest, notFound } from "../../errors/proxy-error.ts";
import type { ProxyContext } from "../proxy-context.ts";
import type { ProviderRuntime } from "../../core/provider-runtime.ts";
import { readJsonRequest } from "../read-request.ts";
import type { KeyUsage } from "../../core/usage-tally.ts";
import { UNIT_SHORT_NAMES, type LimitUse } from "../../engine/declared-limits.ts";
import { targetName } from "../../core/model-routes.ts";

interface Totals {
  requests: number;
  successes: number;
  failures: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
}

const resetSchema = z.looseObject({
  provider: z.string().min(1).optional(),
  key: z.string().min(1, "must be a key id or its last 4 characters").optional(),
});

export function adminRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/stats", async (c) => {
    const only = c.req.query("provider");
    if (only !== undefined && !ctx.providers.has(only)) return errorResponse(notFound(`No provider "${only}" is configured.`, "unknown_provider", "provider"));
    const today = usageDay(Date.now(), ctx.settings.dailyResetMinuteUtc);
    const providers = await Promise.all(
      [...ctx.providers.values()].filter((runtime) => only === undefined || runtime.settings.name === only).map((runtime) => providerStats(ctx, runtime, today)),
    );
    return c.json({ object: "stats", day: today, daily_reset_utc: resetTime(ctx.settings.dailyResetMinuteUtc), providers, routes: routeStats(ctx), prompt_cache_affinity: affinityStats(ctx) });
  });

  app.post("/keys/reset", async (c) => {
    const parsed = await readJsonRequest(c, resetSchema);
    if (!parsed.ok) return errorResponse(parsed.error);
    const { provider, key } = parsed.value;
    if (key !== undefined && provider === undefined) return errorResponse(invalidRequest("Name the provider of the key: {\"provider\": \"…\", \"key\": \"…\"}.", "provider"));
    const targets = provider === undefined ? [...ctx.providers.values()] : [ctx.providers.get(provider)].filter((runtime) => runtime !== undefined);
    if (targets.length === 0) return errorResponse(notFound(`No provider "${provider}" is configured.`, "unknown_provider", "provider"));
    let reset = 0;
    for (const runtime of targets) {
      if (key === undefined) {
        reset += runtime.pool.reset();
        ctx.incidents.clear(runtime.settings.name);
        continue;
      }
      const matches = matchingKeyIds(runtime, key);
      if (matches.length === 0) return errorResponse(notFound(`No ${runtime.settings.name} key matches "${key}" (use its id from /v1/stats or its last 4 characters).`, "unknown_key", "key"));
      // Resetting the wrong key is worse than asking again: two keys may end in the same characters.
      if (matches.length > 1) return errorResponse(invalidRequest(`${matches.length} ${runtime.settings.name} keys end in "${key}"; name one by its id from /v1/stats.`, "key", "ambiguous_key"));
      reset += runtime.pool.reset({ keyId: matches[0] });
    }
    ctx.log.info(`Key reset by API: ${provider ?? "all providers"}${key ? ` key ${key}` : ""} (${reset} key${reset === 1 ? "" : "s"}).`);
    return c.json({ object: "keys.reset", reset });
  });

  return app;
}

/** The key with this id, or else every key whose masked form ends in the given characters (at least 4). */
function matchingKeyIds(runtime: ProviderRuntime, key: string): string[] {
  const keys = runtime.pool.standing().keys;
  if (keys.some((k) => k.id === key)) return [key];
  const suffix = key.replace(/^…|^\.\.\./, "");
  return suffix.length >= 4 ? keys.filter((k) => k.masked.endsWith(suffix)).map((k) => k.id) : [];
}

async function providerStats(ctx: ProxyContext, runtime: ProviderRuntime, today: string) {
  const name = runtime.settings.name;
  const rows = await ctx.store.usage({ provider: name });
  const standing = runtime.pool.standing();
  const byKey = new Map<string, { today: Totals; all_time: Totals; models: Record<string, Totals> }>();
  for (const row of rows) {
    let entry = byKey.get(row.keyId);
    if (!entry) byKey.set(row.keyId, (entry = { today: zero(), all_time: zero(), models: {} }));
    addRow(entry.all_time, row);
    if (row.day === today) {
      addRow(entry.today, row);
      addRow((entry.models[row.model] ??= zero()), row);
    }
  }
  const incident = ctx.incidents.active(name);
  const limitUse = runtime.pool.limitUse();
  const keys = standing.keys.map((key, slot) => ({
    id: key.id,
    key: key.masked,
    state: keyState(key),
    in_flight: key.inFlight,
    ...(key.disabledUntil ? { disabled: { until: iso(key.disabledUntil), reason: key.disabledReason } } : {}),
    cooling: key.coolingModels.map((cooling) => ({ model: cooling.model, until: iso(cooling.until), reason: cooling.reason, strikes: cooling.strikes })),
    circuits: key.circuits.map((circuit) => ({
      model: circuit.model,
      state: circuit.state,
      until: circuit.state === "open" ? iso(circuit.until) : null,
      failures: circuit.failures,
      reason: circuit.reason,
    })),
    ...(runtime.settings.rateLimits ? { limits: (limitUse.keys.get(slot) ?? []).map(limitEntry) } : {}),
    usage: {
      today: byKey.get(key.id)?.today ?? zero(),
      all_time: byKey.get(key.id)?.all_time ?? zero(),
      today_by_model: byKey.get(key.id)?.models ?? {},
      ...(ctx.instanceUsage ? { this_instance: thisInstance(ctx.instanceUsage.of(name, key.id)) } : {}),
    },
  }));
  const totals = { today: zero(), all_time: zero() };
  for (const row of rows) {
    addRow(totals.all_time, row);
    if (row.day === today) addRow(totals.today, row);
  }
  return {
    name,
    keys_total: runtime.pool.size,
    healthy: standing.healthy,
    cooling: standing.cooling,
    disabled: standing.disabled,
    failing: standing.failing,
    in_flight: standing.keys.reduce((sum, key) => sum + key.inFlight, 0),
    incident: incident ? { message: incident.message, until: iso(incident.until) } : null,
    ...(runtime.settings.rateLimits ? { limits: limitUse.provider.map(limitEntry) } : {}),
    usage: totals,
    keys,
  };
}

/** Each route with how often each of its targets served, failed or passed the request on since start. */
function routeStats(ctx: ProxyContext) {
  const counts = ctx.metrics.routeTargetCounts();
  return [...ctx.routes.values()].map((route) => ({
    name: route.name,
    strategy: route.strategy,
    targets: route.targets.map((target, index) => {
      const name = targetName(target);
      const count = (outcome: string) => counts.find((entry) => entry.route === route.name && entry.target === name && entry.outcome === outcome)?.count ?? 0;
      return { target: name, weight: route.weights[index], served: count("served"), failed: count("failed"), fell_through: count("fell_through") };
    }),
  }));
}

/** Prompt-cache affinity: off, or how many conversations it remembers and how their turns went since start. */
function affinityStats(ctx: ProxyContext) {
  const affinity = ctx.affinity;
  if (affinity === undefined) return { enabled: false };
  return { enabled: true, ttl_seconds: ctx.settings.promptCacheAffinityTtlMs / 1000, conversations: affinity.size, turns_kept: affinity.turns.kept, turns_moved: affinity.turns.moved };
}

/** A declared limit and how much of it is used now (the minute's sliding window, or the day since the reset). */
function limitEntry(use: LimitUse) {
  return { model: use.model, limit: UNIT_SHORT_NAMES[use.unit], used: use.used, of: use.limit };
}

/** One word per key: disabled outranks cooling (a rate limit), which outranks failing (an open or half-open circuit). */
function keyState(key: KeyStanding): "disabled" | "cooling" | "failing" | "ok" {
  if (key.disabledUntil) return "disabled";
  if (key.coolingModels.length > 0) return "cooling";
  return key.circuits.length > 0 ? "failing" : "ok";
}

function zero(): Totals {
  return { requests: 0, successes: 0, failures: 0, prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, reasoning_tokens: 0 };
}

function addRow(totals: Totals, row: UsageRow): void {
  totals.requests += row.requests;
  totals.successes += row.successes;
  totals.failures += row.failures;
  totals.prompt_tokens += row.promptTokens;
  totals.completion_tokens += row.completionTokens;
  totals.cached_tokens += row.cachedTokens;
  totals.reasoning_tokens += row.reasoningTokens;
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : "never";
}

function resetTime(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
}

/** Cluster mode: what this instance itself served through the key since it started. */
function thisInstance(usage: KeyUsage) {
  return { requests: usage.requests, successes: usage.successes, failures: usage.failures, prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens };
}
