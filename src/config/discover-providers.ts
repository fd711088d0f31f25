/**
 * Provider discovery: turns a flat variable record (the .env merged with the process
 * environment) into the list of configured providers with their keys, base URLs, model
 * filters and concurrency caps.
 *
 * - `<P>_API_KEY`, `<P>_API_KEY_<anything>`: keys of provider `p` (only `PROXY_API_KEY`
 *   itself is excluded). Trimmed, blanks dropped, duplicates dropped (first wins).
 * - `<P>_API_BASE`: base URL override for a catalog provider, or the definition of a
 *   custom OpenAI-compatible provider.
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

import { catalogEntry, type WireFamily } from "../providers/catalog.ts";
import { ConfigError } from "./paths.ts";

export interface ProviderSettings {
  /** Lower-case provider name, the first segment of `provider/model`. */
  name: string;
  displayName: string;
  family: WireFamily;
  /** Base URL including the API version path, without a trailing slash. */
  baseUrl: string;
  /** Distinct keys in variable order; never empty. */
  keys: string[];
  /** True when defined by `<P>_API_BASE` rather than the catalog. */
  custom: boolean;
  ignoreModels: string[];
  whitelistModels: string[];
  /** Cap on in-flight requests per (key, model); undefined means no cap. */
  maxConcurrentPerKey?: number;
  /** How `/v1/responses` reaches this provider: its own `/responses`, or translated to chat. */
  responsesApi: ResponsesApiMode;
}

export type ResponsesApiMode = "native" | "translate";

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

/** Finds the configured providers. Throws ConfigError on the first problem the user must fix. */
export function discoverProviders(
  env: Readonly<Record<string, string | undefined>>,
  options: DiscoverOptions = {},
): DiscoveryResult {
  const fromFile = (name: string) => options.fileVars === undefined || options.fileVars.has(name);
  const warnings: string[] = [];
  const skipped: string[] = [];
  const keyVars = new Map<string, { name: string; value: string }[]>();
  const bases = new Map<string, { name: string; value: string }>();
  const ignore = new Map<string, { name: string; value: string }>();
  const whitelist = new Map<string, { name: string; value: string }>();
  const maxConcurrent = new Map<string, { name: string; value: string }>();
  const responsesModes = new Map<string, { name: string; value: string }>();

  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    const keyProvider = providerOfKeyVar(name);
    if (keyProvider !== null) {
      push(keyVars, keyProvider, { name, value: raw });
    } else if (name.endsWith(BASE_SUFFIX) && raw.trim() !== "") {
      bases.set(name.slice(0, -BASE_SUFFIX.length).toLowerCase(), { name, value: raw });
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
  for (const [provider, vars] of keyVars) {
    const keys = distinctKeys(vars);
    const base = bases.get(provider);
    const deliberate = vars.some((v) => fromFile(v.name)) || (base !== undefined && fromFile(base.name));
    if (keys.length === 0) continue; // blank template lines, e.g. `GROQ_API_KEY=`

    if (!PROVIDER_NAME.test(provider)) {
      const sentence =
        `${vars[0]!.name} does not give a usable provider name: the part before ${KEY_MARKER} must be ` +
        `letters, digits and underscores, starting with a letter or digit`;
      if (deliberate) throw new ConfigError(`${sentence}.`);
      warnings.push(`Ignoring ${vars[0]!.name} from the environment: ${sentence.slice(sentence.indexOf(":") + 2)}.`);
      skipped.push(...vars.map((v) => v.name));
      continue;
    }

    const entry = catalogEntry(provider);
    if (entry === undefined && base === undefined) {
      const baseVar = provider.toUpperCase() + BASE_SUFFIX;
      if (deliberate) {
        throw new ConfigError(
          `${vars[0]!.name} is set but "${provider}" is not a known provider: to use it as a custom ` +
            `OpenAI-compatible provider, set ${baseVar} to its base URL (for example http://localhost:11434/v1).`,
        );
      }
      warnings.push(
        `Ignoring ${vars[0]!.name} from the environment: "${provider}" is not a known provider (set ${baseVar} to use it).`,
      );
      skipped.push(...vars.map((v) => v.name));
      continue;
    }
    checkKeysAreSingle(vars, provider);
    const family = entry?.family ?? "openai";

    providers.push({
      name: provider,
      displayName: entry?.displayName ?? provider,
      family,
      baseUrl: base === undefined ? entry!.baseUrl : parseBaseUrl(base.name, base.value),
      keys,
      custom: entry === undefined,
      ignoreModels: parseGlobList(ignore.get(provider)?.value),
      whitelistModels: parseGlobList(whitelist.get(provider)?.value),
      maxConcurrentPerKey: parseMaxConcurrent(maxConcurrent.get(provider)),
      responsesApi: parseResponsesMode(responsesModes.get(provider), provider, family),
    });
  }

  const configured = new Set(providers.map((p) => p.name));
  // A custom base whose provider has no key cannot serve anything; say so rather than start
  // with a silent gap. (With a key it would have been configured above.)
  for (const [provider, base] of bases) {
    if (configured.has(provider) || catalogEntry(provider) !== undefined || !PROVIDER_NAME.test(provider)) continue;
    const keyVar = provider.toUpperCase() + KEY_MARKER;
    if (!fromFile(base.name)) {
      warnings.push(`Ignoring ${base.name} from the environment: no ${keyVar} is set.`);
      skipped.push(base.name);
      continue;
    }
    throw new ConfigError(
      `${base.name} defines the custom provider "${provider}" but no ${keyVar} is set: add ${keyVar}=<key> ` +
        `(a placeholder such as ${keyVar}=none works for a local server that ignores keys).`,
    );
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
  if (mode === "native" && family !== "openai") {
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

function distinctKeys(vars: readonly { name: string; value: string }[]): string[] {
  const seen = new Set<string>();
  for (const v of vars) {
    const key = v.value.trim();
    if (key !== "") seen.add(key); // Set keeps first-insertion order, so the first duplicate wins.
  }
  return [...seen];
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
