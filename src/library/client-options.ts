/**
 * The library's options, checked at the edge (zod), and the providers they describe turned into
 * the same ProviderSettings the proxy's discovery makes — or made by that discovery itself, from an
 * environment (`providersFromEnv`).
 */

import { z } from "zod";
import { defaultResponsesMode, discoverProviders, type ProviderSettings } from "../config/discover-providers.ts";
import { ConfigError } from "../config/paths.ts";
import { catalogEntry } from "../providers/catalog.ts";

const providerSchema = z.object({
  keys: z.array(z.string().trim().min(1)).min(1, "needs at least one key"),
  /** Required for a provider the catalog does not know (any OpenAI-compatible host). */
  baseUrl: z.url().optional(),
  maxConcurrentPerKey: z.int().positive().optional(),
  ignoreModels: z.array(z.string()).optional(),
  whitelistModels: z.array(z.string()).optional(),
  /** "native": the host serves `/responses` itself (default for openai); "translate": through chat completions. */
  responsesApi: z.enum(["native", "translate"]).optional(),
});

export type ProviderOptions = z.input<typeof providerSchema>;

export const clientOptionsSchema = z.object({
  providers: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, "provider names are lower-case letters, digits and _"), providerSchema),
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
  if (options.responsesApi === "native" && family !== "openai") throw new ConfigError(`providers.${name}: responsesApi "native" needs an OpenAI-compatible host; ${name} speaks its own API.`);
  const baseUrl = options.baseUrl?.replace(/\/+$/, "") ?? entry?.baseUrl;
  if (baseUrl === undefined) throw new ConfigError(`providers.${name}: "${name}" is not a known provider; give its baseUrl (an OpenAI-compatible /v1 URL).`);
  return {
    name,
    displayName: entry?.displayName ?? name,
    family,
    baseUrl,
    keys: [...new Set(options.keys)],
    custom: entry === undefined || options.baseUrl !== undefined,
    ignoreModels: options.ignoreModels ?? [],
    whitelistModels: options.whitelistModels ?? [],
    maxConcurrentPerKey: options.maxConcurrentPerKey,
    responsesApi: options.responsesApi ?? defaultResponsesMode(name),
  };
}

/** The providers the proxy would find in this environment (`<P>_API_KEY_<N>`, `<P>_API_BASE`, …). */
export function providersFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, ProviderOptions> {
  const found: Record<string, ProviderOptions> = {};
  for (const provider of discoverProviders(env).providers) {
    found[provider.name] = {
      keys: provider.keys,
      ...(provider.custom ? { baseUrl: provider.baseUrl } : {}),
      ...(provider.maxConcurrentPerKey !== undefined ? { maxConcurrentPerKey: provider.maxConcurrentPerKey } : {}),
      ...(provider.ignoreModels.length > 0 ? { ignoreModels: provider.ignoreModels } : {}),
      ...(provider.whitelistModels.length > 0 ? { whitelistModels: provider.whitelistModels } : {}),
      ...(provider.responsesApi !== defaultResponsesMode(provider.name) ? { responsesApi: provider.responsesApi } : {}),
    };
  }
  return found;
}
