/**
 * Provider discovery: turns a flat variable record (the .env merged with the process
 * environment) into the list of configured providers with their keys, base URLs, model
 * filters and concurrency caps.
 *
 * - `<P>_API_KEY`, `<P>_API_KEY_<anything>`: keys of provider `p` (only `PROXY_API_KEY`
 *   itself is excluded). Trimmed, blanks dropped, duplicates dropped (first wins).
 * - `<P>_API_BASE`: base URL override for a catalog provider, or the definition of a
 *   custom OpenAI-compatible provider.
 * - `<P>_API_BASE_<N>`: the endpoint of key `<P>_API_KEY_<N>` alone (an Azure resource, one of
 *   several self-hosted servers); with no such key, a keyless server of its own. A provider with
 *   base URLs and no key at all (a local Ollama) is keyless: one slot per server.
 * - `<P>_<OPTION>`, `<P>_<OPTION>_<N>`: a family's settings (`BEDROCK_REGION`, `VERTEX_PROJECT`,
 *   …), provider-wide or for key `<N>`; `<P>_QUOTA_GROUP_<N>` for any provider (keys sharing a quota).
 * - Where the catalog keeps keys in files (Vertex service accounts), a key naming a file is that
 *   file's text, read here (key-files.ts).
 * - `IGNORE_MODELS_<P>`, `WHITELIST_MODELS_<P>`: comma-separated `*` globs.
 * - `MAX_CONCURRENT_REQUESTS_PER_KEY_<P>`: positive whole number.
 * - `<P>_RESPONSES`: `native` (the host serves `/responses` itself: pass through) or
 *   `translate` (serve the Responses API through its chat completions); native is the
 *   default for `openai` only, and only OpenAI-compatible hosts can be native.
 *
 * Shells often export keys for unrelated tools (`LANGCHAIN_API_KEY`, `TAVILY_API_KEY`, …).
 * When the caller says which variables came from the .env file (`fileVars`), an unknown
 * provider that exists only in the process environment is skipped with a warning instead
 * of stopping start-up; the same mistake inside the .env file is an error.
 */

import { catalogEntry, fillBaseUrl, identityOptionsOf, PROVIDER_CATALOG, speaksOpenAI, type WireFamily } from "../providers/catalog.ts";
import { isJsonKey, readHeldKey } from "./key-files.ts";
import { ConfigError } from "./paths.ts";
import type { RateLimitRule } from "../engine/declared-limits.ts";

export interface ProviderSettings {
  /** Lower-case provider name, the first segment of `provider/model`. */
  name: string;
  displayName: string;
  family: WireFamily;
  /** Base URL including the API version path, without a trailing slash. */
  baseUrl: string;
  /** Distinct keys in variable order (keyless servers after them); never empty. */
  keys: ProviderKey[];
  /** True when defined by `<P>_API_BASE` rather than the catalog. */
  custom: boolean;
  ignoreModels: string[];
  whitelistModels: string[];
  /** Cap on in-flight requests per (key, model); undefined means no cap. */
  maxConcurrentPerKey?: number;
  /** How `/v1/responses` reaches this provider: its own `/responses`, or translated to chat. */
  responsesApi: ResponsesApiMode;
  /** `RATE_LIMIT_<P>…`: limits counted before sending (config/rate-limits.ts); absent: none. */
  rateLimits?: RateLimitRule[];
}

export type ResponsesApiMode = "native" | "translate";

/** One configured key: its secret, and where it differs from the provider, its endpoint and settings. */
export interface ProviderKey {
  /** "" for a keyless server. */
  secret: string;
  /** `<P>_API_BASE_<N>`: this key's own endpoint; absent: the provider's base URL. */
  baseUrl?: string;
  /** The family's settings for this key (`region`, `project`, …), provider-wide ones included; absent when none is set. */
  options?: Record<string, string>;
}

export interface DiscoveryResult {
  /** In the order the first key of each provider appears. */
  providers: ProviderSettings[];
  /** One sentence each, for the start-up log: variables that were skipped or have no effect. */
  warnings: string[];
  /** Names of process-environment variables skipped as not meant for this proxy. */
  skipped: string[];
}

export interface DiscoverOptions {
  /**
   * Names of the variables that came from the .env file. Variables outside this set come
   * from the process environment, where an unknown provider is skipped with a warning.
   * Omitted: every variable is treated as deliberate configuration.
   */
  fileVars?: ReadonlySet<string>;
}

const KEY_MARKER = "_API_KEY";
const BASE_SUFFIX = "_API_BASE";
const RESPONSES_SUFFIX = "_RESPONSES";
/** Providers whose own API has `/responses`; others may say so with `<P>_RESPONSES=native`. */
const NATIVE_RESPONSES_BY_DEFAULT = new Set(["openai"]);
const PROVIDER_NAME = /^[a-z0-9][a-z0-9_]*$/;
const PREFIXES = {
  ignore: "IGNORE_MODELS_",
  whitelist: "WHITELIST_MODELS_",
  maxConcurrent: "MAX_CONCURRENT_REQUESTS_PER_KEY_",
} as const;

/**
 * The provider a key variable belongs to (`NVIDIA_NIM_API_KEY_2` → `nvidia_nim`), or null
 * when the variable is not a provider key. The name is not validated here.
 */
export function providerOfKeyVar(name: string): string | null {
  if (name === "PROXY_API_KEY") return null;
  if (!name.endsWith(KEY_MARKER) && !name.includes(KEY_MARKER + "_")) return null;
  return name.slice(0, name.indexOf(KEY_MARKER)).toLowerCase();
}

/** `<P>_API_BASE` (suffix "") or `<P>_API_BASE_<N>` → provider and suffix; null for any other name. */
function baseVarParts(name: string): { provider: string; suffix: string } | null {
  const at = name.indexOf(BASE_SUFFIX);
  if (at <= 0) return null;
  const rest = name.slice(at + BASE_SUFFIX.length);
  if (rest !== "" && !(rest.startsWith("_") && rest.length > 1)) return null;
  return { provider: name.slice(0, at).toLowerCase(), suffix: rest.slice(1) };
}

/** The suffix that pairs a key variable with its endpoint and settings: `OPENAI_API_KEY_2` → "2". */
function keySuffix(name: string): string {
  return name.slice(name.indexOf(KEY_MARKER) + KEY_MARKER.length + 1);
}

interface Named {
  name: string;
  value: string;
}

/** The family settings a catalog provider takes per key, as variable prefixes (`BEDROCK_REGION`). */
const OPTION_VARS = Object.entries(PROVIDER_CATALOG).flatMap(([provider, entry]) =>
  (entry.keyOptions ?? []).map((option) => ({ provider, option: option.name, prefix: `${provider.toUpperCase()}_${option.env}` })),
);

/** `<P>_QUOTA_GROUP[_<N>]`, any provider's: keys that draw on one quota (one project, one account). */
const QUOTA_GROUP_VAR = /^([A-Z][A-Z0-9_]*?)_QUOTA_GROUP(?:_(.+))?$/;
export const QUOTA_GROUP_OPTION = "quota_group";

function optionVarParts(name: string): { provider: string; option: string; suffix: string } | null {
  const group = QUOTA_GROUP_VAR.exec(name);
  if (group) return { provider: group[1]!.toLowerCase(), option: QUOTA_GROUP_OPTION, suffix: group[2] ?? "" };
  for (const { provider, option, prefix } of OPTION_VARS) {
    if (name === prefix) return { provider, option, suffix: "" };
    if (name.startsWith(prefix + "_") && name.length > prefix.length + 1) return { provider, option, suffix: name.slice(prefix.length + 1) };
  }
  return null;
}

/** Finds the configured providers. Throws ConfigError on the first problem the user must fix. */
export function discoverProviders(
  env: Readonly<Record<string, string | undefined>>,
  options: DiscoverOptions = {},
): DiscoveryResult {
  const fromFile = (name: string) => options.fileVars === undefined || options.fileVars.has(name);
  const warnings: string[] = [];
  const skipped: string[] = [];
  /** Providers in the order their first key or endpoint appears. */
  const seen = new Set<string>();
  const keyVars = new Map<string, Named[]>();
  /** Per provider: the provider-wide base under "", each key's own under its suffix. */
  const bases = new Map<string, Map<string, Named>>();
  const optionVars = new Map<string, Map<string, Map<string, Named>>>();
  const ignore = new Map<string, Named>();
  const whitelist = new Map<string, Named>();
  const maxConcurrent = new Map<string, Named>();
  const responsesModes = new Map<string, Named>();

  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    const keyProvider = providerOfKeyVar(name);
    const base = keyProvider === null ? baseVarParts(name) : null;
    const option = keyProvider === null && base === null ? optionVarParts(name) : null;
    if (keyProvider !== null) {
      push(keyVars, keyProvider, { name, value: raw });
      if (raw.trim() !== "") seen.add(keyProvider);
    } else if (base !== null) {
      if (raw.trim() === "") continue;
      let own = bases.get(base.provider);
      if (!own) bases.set(base.provider, (own = new Map()));
      own.set(base.suffix, { name, value: raw });
      seen.add(base.provider);
    } else if (option !== null) {
      if (raw.trim() === "") continue;
      let byOption = optionVars.get(option.provider);
      if (!byOption) optionVars.set(option.provider, (byOption = new Map()));
      let bySuffix = byOption.get(option.option);
      if (!bySuffix) byOption.set(option.option, (bySuffix = new Map()));
      bySuffix.set(option.suffix, { name, value: raw.trim() });
    } else if (name.startsWith(PREFIXES.ignore)) {
      ignore.set(name.slice(PREFIXES.ignore.length).toLowerCase(), { name, value: raw });
    } else if (name.startsWith(PREFIXES.whitelist)) {
      whitelist.set(name.slice(PREFIXES.whitelist.length).toLowerCase(), { name, value: raw });
    } else if (name.startsWith(PREFIXES.maxConcurrent)) {
      maxConcurrent.set(name.slice(PREFIXES.maxConcurrent.length).toLowerCase(), { name, value: raw });
    } else if (name.endsWith(RESPONSES_SUFFIX) && raw.trim() !== "") {
      responsesModes.set(name.slice(0, -RESPONSES_SUFFIX.length).toLowerCase(), { name, value: raw });
    }
  }

  const providers: ProviderSettings[] = [];
  for (const provider of seen) {
    const vars = (keyVars.get(provider) ?? []).filter((v) => v.value.trim() !== "");
    const ownBases = bases.get(provider) ?? new Map<string, Named>();
    const wideBase = ownBases.get("");
    const baseVars = [...ownBases.values()];
    const first = vars[0] ?? baseVars[0]!;
    const deliberate = vars.some((v) => fromFile(v.name)) || baseVars.some((v) => fromFile(v.name));

    if (!PROVIDER_NAME.test(provider)) {
      const marker = vars.length > 0 ? KEY_MARKER : BASE_SUFFIX;
      const sentence =
        `${first.name} does not give a usable provider name: the part before ${marker} must be ` +
        `letters, digits and underscores, starting with a letter or digit`;
      if (deliberate) throw new ConfigError(`${sentence}.`);
      warnings.push(`Ignoring ${first.name} from the environment: ${sentence.slice(sentence.indexOf(":") + 2)}.`);
      skipped.push(...vars.map((v) => v.name), ...baseVars.map((v) => v.name));
      continue;
    }

    const entry = catalogEntry(provider);
    if (vars.length > 0 && entry === undefined && baseVars.length === 0) {
      const baseVar = provider.toUpperCase() + BASE_SUFFIX;
      if (deliberate) {
        throw new ConfigError(
          `${first.name} is set but "${provider}" is not a known provider: to use it as a custom ` +
            `OpenAI-compatible provider, set ${baseVar} to its base URL (for example http://localhost:11434/v1).`,
        );
      }
      warnings.push(`Ignoring ${first.name} from the environment: "${provider}" is not a known provider (set ${baseVar} to use it).`);
      skipped.push(...vars.map((v) => v.name));
      continue;
    }
    // Endpoints without a key make a keyless provider, which only a deliberate setting may do: a
    // shell's stray OPENAI_API_BASE (other tools read that name) must not turn into a provider
    // nobody asked for. A per-key endpoint is a name only this proxy reads, and a local server of
    // the catalog (Ollama) is meant to be keyless, so those count from the environment too.
    const meantKeyless = entry?.keyless === true || baseVars.some((v) => v !== wideBase) || baseVars.some((v) => fromFile(v.name));
    if (vars.length === 0 && !meantKeyless) {
      const upper = provider.toUpperCase();
      warnings.push(`Ignoring ${first.name} from the environment: no ${upper}${KEY_MARKER} is set (name a keyless server ${upper}${BASE_SUFFIX}_1 to use it).`);
      skipped.push(...baseVars.map((v) => v.name));
      continue;
    }
    // A key kept in a file (a service-account key) is that file's text; a JSON document may hold spaces.
    const heldKeys = entry?.keyFiles ? vars.map((v) => ({ name: v.name, value: readHeldKey(v.value, v.name) })) : vars;
    checkKeysAreSingle(
      heldKeys.filter((v) => !(entry?.keyFiles && isJsonKey(v.value))),
      provider,
    );
    const family = entry?.family ?? "openai";
    const defaultBase = wideBase !== undefined ? parseBaseUrl(wideBase.name, wideBase.value) : entry?.baseUrl;
    const keys = distinctKeys(providerKeys(heldKeys, ownBases, optionVars.get(provider)), identityOptionsOf(provider));
    if (defaultBase !== undefined) checkTemplateFilled(provider, defaultBase, heldKeys, ownBases, optionVars.get(provider));
    else {
      // A custom provider defined by per-key endpoints only: a key without one has nowhere to go.
      const stray = vars.find((v) => !ownBases.has(keySuffix(v.name)));
      if (stray !== undefined) {
        const upper = provider.toUpperCase();
        throw new ConfigError(`${stray.name} has no endpoint: set ${upper}${BASE_SUFFIX}${keySuffix(stray.name) ? "_" + keySuffix(stray.name) : ""} for it, or ${upper}${BASE_SUFFIX} for every key.`);
      }
    }
    const baseUrl = defaultBase ?? keys[0]!.baseUrl!;

    providers.push({
      name: provider,
      displayName: entry?.displayName ?? provider,
      family,
      baseUrl,
      keys,
      custom: entry === undefined,
      ignoreModels: parseGlobList(ignore.get(provider)?.value),
      whitelistModels: parseGlobList(whitelist.get(provider)?.value),
      maxConcurrentPerKey: parseMaxConcurrent(maxConcurrent.get(provider)),
      responsesApi: parseResponsesMode(responsesModes.get(provider), provider, family),
    });
  }

  const configured = new Set(providers.map((p) => p.name));
  for (const [provider, byOption] of optionVars) {
    if (configured.has(provider)) continue;
    for (const bySuffix of byOption.values()) for (const v of bySuffix.values()) warnings.push(noEffect(v.name, provider));
  }

  // Validate every concurrency cap, even an orphan one: a bad value is a typo worth fixing now.
  for (const [provider, v] of maxConcurrent) {
    if (!configured.has(provider)) {
      parseMaxConcurrent(v);
      warnings.push(noEffect(v.name, provider));
    }
  }
  for (const [provider, v] of [...ignore, ...whitelist, ...responsesModes]) {
    if (!configured.has(provider)) warnings.push(noEffect(v.name, provider));
  }

  for (const p of providers) compiledFilters(p);
  return { providers, warnings, skipped };
}

/**
 * Whether a model may be listed and requested. `model` is the upstream model id, without
 * the `provider/` prefix (it may contain slashes of its own, as OpenRouter ids do). A
 * non-empty whitelist decides alone; otherwise any ignore glob excludes the model.
 */
export function modelAllowed(provider: ProviderSettings, model: string): boolean {
  const filters = compiledFilters(provider);
  if (filters.whitelist !== null) return filters.whitelist.test(model);
  return filters.ignore === null || !filters.ignore.test(model);
}

/**
 * One anchored, case-insensitive RegExp for a list of `*` globs; null for an empty list.
 * A glob written with the provider prefix (`gemini/gemini-1.5*`, copied from /v1/models)
 * also matches the bare model id.
 */
export function compileGlobs(globs: readonly string[], provider?: string): RegExp | null {
  if (globs.length === 0) return null;
  const prefix = provider === undefined ? undefined : provider.toLowerCase() + "/";
  const alternatives = new Set<string>();
  for (const glob of globs) {
    alternatives.add(globSource(glob));
    if (prefix !== undefined && glob.toLowerCase().startsWith(prefix)) {
      alternatives.add(globSource(glob.slice(prefix.length)));
    }
  }
  return new RegExp(`^(?:${[...alternatives].join("|")})$`, "i");
}

interface CompiledFilters {
  ignore: RegExp | null;
  whitelist: RegExp | null;
}

/**
 * Compiled once per provider object and kept outside it, so ProviderSettings stays plain
 * data (JSON-safe, clonable) and objects built elsewhere (tests) still work.
 */
const filterCache = new WeakMap<ProviderSettings, CompiledFilters>();

function compiledFilters(provider: ProviderSettings): CompiledFilters {
  let filters = filterCache.get(provider);
  if (filters === undefined) {
    filters = {
      ignore: compileGlobs(provider.ignoreModels, provider.name),
      whitelist: compileGlobs(provider.whitelistModels, provider.name),
    };
    filterCache.set(provider, filters);
  }
  return filters;
}

function globSource(glob: string): string {
  return glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
    .join(".*");
}

function parseGlobList(value: string | undefined): string[] {
  if (value === undefined) return [];
  // Blank items are dropped: an empty pattern from a trailing comma must not match everything.
  return value
    .split(",")
    .map((g) => g.trim())
    .filter((g) => g !== "");
}

function parseMaxConcurrent(v: { name: string; value: string } | undefined): number | undefined {
  if (v === undefined || v.value.trim() === "") return undefined;
  const text = v.value.trim();
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1)) {
    throw new ConfigError(
      `${v.name} must be a positive whole number (got ${showValue(v.value)}); remove it for no limit.`,
    );
  }
  return n;
}

/** How `/v1/responses` reaches a provider when `<P>_RESPONSES` does not say. */
export function defaultResponsesMode(provider: string): ResponsesApiMode {
  return NATIVE_RESPONSES_BY_DEFAULT.has(provider) ? "native" : "translate";
}

function parseResponsesMode(v: { name: string; value: string } | undefined, provider: string, family: WireFamily): ResponsesApiMode {
  if (v === undefined) return defaultResponsesMode(provider);
  const mode = v.value.trim().toLowerCase();
  if (mode !== "native" && mode !== "translate") {
    throw new ConfigError(`${v.name} must be native or translate (got ${showValue(v.value)}).`);
  }
  // Gemini and Anthropic speak their own APIs, which have no /responses to pass through to.
  if (mode === "native" && !speaksOpenAI(family)) {
    throw new ConfigError(`${v.name}=native is only possible for OpenAI-compatible providers; ${provider} is always translated.`);
  }
  return mode;
}

/**
 * Base URLs get `/chat/completions` and similar appended, so a query or fragment would end
 * up in the wrong place, and credentials in the URL would leak into logs.
 */
function parseBaseUrl(name: string, raw: string): string {
  const value = raw.trim().replace(/\/+$/, "");
  const url = URL.canParse(value) ? new URL(value) : null;
  if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
    const shown = value.includes("@") ? "" : ` (got ${showValue(raw)})`;
    throw new ConfigError(`${name} must be an http:// or https:// URL such as https://api.example.com/v1${shown}.`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new ConfigError(`${name} must not contain a user name or password; keys go in the _API_KEY variables.`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new ConfigError(
      `${name} must not contain a ?query or #fragment, because request paths are appended to it (got ${showValue(raw)}).`,
    );
  }
  return value;
}

/**
 * The keys in variable order, then the keyless servers (`<P>_API_BASE_<N>` with no key `<N>`); with
 * no key nor server of its own, a provider-wide base alone is one keyless server.
 */
function providerKeys(vars: readonly Named[], ownBases: ReadonlyMap<string, Named>, optionVars: ReadonlyMap<string, ReadonlyMap<string, Named>> | undefined): ProviderKey[] {
  const keyOf = (secret: string, base: Named | undefined, suffix: string): ProviderKey => {
    const key: ProviderKey = { secret };
    if (base !== undefined) key.baseUrl = parseBaseUrl(base.name, base.value);
    const options = keyOptions(optionVars, suffix);
    if (options !== undefined) key.options = options;
    return key;
  };
  const keySuffixes = new Set(vars.map((v) => keySuffix(v.name)));
  const keys = vars.map((v) => keyOf(v.value.trim(), keySuffix(v.name) === "" ? undefined : ownBases.get(keySuffix(v.name)), keySuffix(v.name)));
  for (const [suffix, base] of ownBases) if (suffix !== "" && !keySuffixes.has(suffix)) keys.push(keyOf("", base, suffix));
  if (keys.length === 0) keys.push(keyOf("", ownBases.get(""), ""));
  return keys;
}

/**
 * Keys distinct by secret, endpoint and the settings that make another key (the first duplicate
 * wins): one placeholder key on three servers is three keys, one access-key pair in two regions
 * two, the same key pasted twice is one. The library's keys follow the same rule.
 */
export function distinctKeys(keys: readonly ProviderKey[], identityOptions: readonly string[]): ProviderKey[] {
  const seen = new Set<string>();
  return keys.filter((key) => {
    const identity = [key.secret, key.baseUrl ?? "", ...identityOptions.map((name) => key.options?.[name] ?? "")].join("\n");
    if (seen.has(identity)) return false;
    seen.add(identity);
    return true;
  });
}

/**
 * A catalog base URL with placeholders (`https://{resource}.openai.azure.com/…`) needs each key
 * without an endpoint of its own to have those settings; the error names what to set.
 */
function checkTemplateFilled(
  provider: string,
  template: string,
  vars: readonly Named[],
  ownBases: ReadonlyMap<string, Named>,
  optionVars: ReadonlyMap<string, ReadonlyMap<string, Named>> | undefined,
): void {
  const spec = catalogEntry(provider)?.keyOptions ?? [];
  for (const v of vars) {
    const suffix = keySuffix(v.name);
    if (ownBases.has(suffix)) continue;
    const filled = fillBaseUrl(template, keyOptions(optionVars, suffix));
    if (filled.ok) continue;
    const upper = provider.toUpperCase();
    const option = spec.find((o) => o.name === filled.missing)?.env ?? filled.missing.toUpperCase();
    const own = suffix === "" ? "" : `_${suffix}`;
    throw new ConfigError(
      `${v.name} has no endpoint: set ${upper}_${option}${own} (or ${upper}_${option} for every key), or its whole base URL as ${upper}${BASE_SUFFIX}${own} (${template}).`,
    );
  }
}

/** A key's family settings: the provider-wide value of each, overridden by the key's own. */
function keyOptions(optionVars: ReadonlyMap<string, ReadonlyMap<string, Named>> | undefined, suffix: string): Record<string, string> | undefined {
  if (optionVars === undefined) return undefined;
  const options: Record<string, string> = {};
  for (const [option, bySuffix] of optionVars) {
    const value = (suffix !== "" ? bySuffix.get(suffix) : undefined) ?? bySuffix.get("");
    if (value !== undefined) options[option] = value.value;
  }
  return Object.keys(options).length === 0 ? undefined : options;
}

/** A space inside a key is almost always two keys pasted into one variable. */
function checkKeysAreSingle(vars: readonly { name: string; value: string }[], provider: string): void {
  for (const v of vars) {
    if (/\s/.test(v.value.trim())) {
      throw new ConfigError(
        `${v.name} has a space or line break inside its value; put each key in its own variable ` +
          `(${provider.toUpperCase()}${KEY_MARKER}, ${provider.toUpperCase()}${KEY_MARKER}_2, …).`,
      );
    }
  }
}

function noEffect(name: string, provider: string): string {
  return `${name} has no effect: no provider "${provider}" is configured.`;
}

/** Quotes a user's (non-secret) value for an error message, shortened so one sentence stays one line. */
export function showValue(value: string): string {
  const short = value.length > 60 ? value.slice(0, 57) + "..." : value;
  return JSON.stringify(short);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
