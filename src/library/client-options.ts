/**
 * The library's options, checked at the edge (zod), and the providers they describe turned into
 * the same ProviderSettings the proxy's discovery makes — or made by that discovery itself, from an
 * environment (`providersFromEnv`).
 */

import { routesSchema } from "../config/routes.ts";
import { readHeldKey } from "../config/key-files.ts";
import { z } from "zod";
import { defaultResponsesMode, discoverProviders, distinctKeys, type ProviderKey, type ProviderSettings } from "../config/discover-providers.ts";
import { ConfigError } from "../config/paths.ts";
import { readRateLimits } from "../config/rate-limits.ts";
import type { RateLimitRule } from "../engine/declared-limits.ts";
import { catalogEntry, fillBaseUrl, identityOptionsOf, speaksOpenAI } from "../providers/catalog.ts";

/** A key with its own endpoint or settings; no `key` at all is a keyless server. */
const keyWithEndpoint = z.object({
  key: z.string().trim().min(1).optional(),
  baseUrl: z.url().optional(),
  /** The family's settings for this key (`region`, `project`, `location`, `api_version`). */
  options: z.record(z.string(), z.string()).optional(),
});

/** A declared limit (as `RATE_LIMIT_<P>…`): counted before sending, a key at it is passed over until it frees. */
const rateLimitSchema = z
  .object({
    /** A `*` glob of model ids; absent: every model (each counted on its own). */
    model: z.string().min(1).optional(),
    /** "key" (default): each key has the limit; "provider": all the provider's keys together. */
    per: z.enum(["key", "provider"]).default("key"),
    requestsPerMinute: z.int().positive().optional(),
    tokensPerMinute: z.int().positive().optional(),
    requestsPerDay: z.int().positive().optional(),
    tokensPerDay: z.int().positive().optional(),
  })
  .strict()
  .refine((rule) => rule.requestsPerMinute ?? rule.tokensPerMinute ?? rule.requestsPerDay ?? rule.tokensPerDay, "declares no limit (requestsPerMinute, tokensPerMinute, requestsPerDay or tokensPerDay)");

const providerSchema = z.object({
  keys: z.array(z.union([z.string().trim().min(1), keyWithEndpoint])).min(1, "needs at least one key"),
  /** The family's settings for every key (a key's own `options` win). */
  options: z.record(z.string(), z.string()).optional(),
  /** Required for a provider the catalog does not know (any OpenAI-compatible host). */
  baseUrl: z.url().optional(),
  maxConcurrentPerKey: z.int().positive().optional(),
  ignoreModels: z.array(z.string()).optional(),
  whitelistModels: z.array(z.string()).optional(),
  /** "native": the host serves `/responses` itself (default for openai); "translate": through chat completions. */
  responsesApi: z.enum(["native", "translate"]).optional(),
  rateLimits: z.array(rateLimitSchema).optional(),
});

export type ProviderOptions = z.input<typeof providerSchema>;

export const clientOptionsSchema = z.object({
  providers: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, "provider names are lower-case letters, digits and _"), providerSchema),
  /** Model names that stand for chains of `provider/model` targets, as ROUTES_FILE's `routes` (config/routes.ts). */
  routes: routesSchema.optional(),
  /** How long a conversation keeps preferring the key that served it (prompt-cache affinity); 0 turns it off. */
  promptCacheAffinityTtlMs: z.number().min(0).default(300_000),
  globalTimeoutMs: z.number().positive().default(30_000),
  connectTimeoutMs: z.number().positive().default(10_000),
  /** Unset: half of globalTimeoutMs while another key could take over, as in the proxy. */
  firstByteTimeoutMs: z.number().positive().optional(),
  streamIdleTimeoutMs: z.number().positive().default(60_000),
  maxUpstreamResponseBytes: z.int().positive().default(64 * 1024 * 1024),
  modelsCacheTtlMs: z.number().min(0).default(600_000),
  responsesTtlMs: z.number().positive().default(30 * 24 * 60 * 60 * 1000),
  responsesStoreMaxBytes: z.int().positive().default(512 * 1024 * 1024),
  dailyResetUtc: z
    .string()
    .regex(/^([01]?\d|2[0-3]):[0-5]\d$/, 'dailyResetUtc is "HH:MM" in UTC')
    .default("03:00"),
  state: z
    .discriminatedUnion("kind", [
      z.object({ kind: z.literal("memory") }),
      z.object({ kind: z.literal("sqlite"), path: z.string().min(1) }),
      z.object({ kind: z.literal("redis"), url: z.string().regex(/^rediss?:\/\/\S+$/, "a redis:// or rediss:// URL"), prefix: z.string().min(1).optional() }),
    ])
    .default({ kind: "memory" }),
});

export type ParsedClientOptions = z.output<typeof clientOptionsSchema>;

/** One provider of the options as the engine takes it; throws ConfigError naming what is wrong. */
export function providerSettings(name: string, options: z.output<typeof providerSchema>): ProviderSettings {
  const entry = catalogEntry(name);
  const family = entry?.family ?? "openai";
  if (options.responsesApi === "native" && !speaksOpenAI(family)) throw new ConfigError(`providers.${name}: responsesApi "native" needs an OpenAI-compatible host; ${name} speaks its own API.`);
  const keys = distinctKeys(
    options.keys.map((item, index) => {
      const key = providerKey(item, options.options);
      return entry?.keyFiles && key.secret !== "" ? { ...key, secret: readHeldKey(key.secret, `providers.${name}.keys[${index}]`) } : key;
    }),
    identityOptionsOf(name),
  );
  // A custom provider may be defined by its keys' own endpoints alone (a pool of servers).
  const ownEndpoints = keys.every((key) => key.baseUrl !== undefined);
  const baseUrl = options.baseUrl?.replace(/\/+$/, "") ?? entry?.baseUrl ?? (ownEndpoints ? keys[0]!.baseUrl : undefined);
  if (baseUrl === undefined) throw new ConfigError(`providers.${name}: "${name}" is not a known provider; give its baseUrl (an OpenAI-compatible /v1 URL), or each key its own.`);
  keys.forEach((key, index) => {
    if (key.baseUrl !== undefined || options.baseUrl !== undefined) return;
    const filled = fillBaseUrl(baseUrl, key.options);
    if (!filled.ok) throw new ConfigError(`providers.${name}.keys[${index}]: needs options.${filled.missing} (for ${baseUrl}), or its own baseUrl.`);
  });
  return {
    name,
    displayName: entry?.displayName ?? name,
    family,
    baseUrl,
    keys,
    custom: entry === undefined || options.baseUrl !== undefined,
    ignoreModels: options.ignoreModels ?? [],
    whitelistModels: options.whitelistModels ?? [],
    maxConcurrentPerKey: options.maxConcurrentPerKey,
    responsesApi: options.responsesApi ?? defaultResponsesMode(name),
    ...(options.rateLimits ? { rateLimits: options.rateLimits.map((rule, index) => rateLimitRule(rule, `providers.${name}.rateLimits[${index}]`)) } : {}),
  };
}

function rateLimitRule({ model, per, ...limits }: z.output<typeof rateLimitSchema>, source: string): RateLimitRule {
  return { ...(model === undefined || model === "*" ? {} : { model }), scope: per, limits, source };
}

/** The providers the proxy would find in this environment (`<P>_API_KEY_<N>`, `<P>_API_BASE`, …). */
export function providersFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, ProviderOptions> {
  const found: Record<string, ProviderOptions> = {};
  const providers = discoverProviders(env).providers;
  const declared = readRateLimits(env, providers).rules;
  for (const provider of providers) {
    const rateLimits = declared.get(provider.name);
    found[provider.name] = {
      keys: provider.keys.map(keyOption),
      ...(provider.custom ? { baseUrl: provider.baseUrl } : {}),
      ...(provider.maxConcurrentPerKey !== undefined ? { maxConcurrentPerKey: provider.maxConcurrentPerKey } : {}),
      ...(provider.ignoreModels.length > 0 ? { ignoreModels: provider.ignoreModels } : {}),
      ...(provider.whitelistModels.length > 0 ? { whitelistModels: provider.whitelistModels } : {}),
      ...(provider.responsesApi !== defaultResponsesMode(provider.name) ? { responsesApi: provider.responsesApi } : {}),
      ...(rateLimits ? { rateLimits: rateLimits.map(({ model, scope, limits }) => ({ ...(model === undefined ? {} : { model }), per: scope, ...limits })) } : {}),
    };
  }
  return found;
}

/** A discovered key as the options spell it: a plain string unless it has an endpoint or settings of its own. */
function keyOption(key: ProviderKey): string | z.input<typeof keyWithEndpoint> {
  if (key.baseUrl === undefined && key.options === undefined) return key.secret;
  return { ...(key.secret !== "" ? { key: key.secret } : {}), ...(key.baseUrl ? { baseUrl: key.baseUrl } : {}), ...(key.options ? { options: key.options } : {}) };
}

/** A key of the options as the engine takes it: the provider's settings, overridden by the key's own. */
function providerKey(item: z.output<typeof providerSchema>["keys"][number], shared: Record<string, string> | undefined): ProviderKey {
  const key: ProviderKey = typeof item === "string" ? { secret: item } : { secret: item.key ?? "", ...(item.baseUrl ? { baseUrl: item.baseUrl.replace(/\/+$/, "") } : {}) };
  const options = { ...shared, ...(typeof item === "string" ? {} : item.options) };
  if (Object.keys(options).length > 0) key.options = options;
  return key;
}
