/**
 * Start-up configuration: command-line flags, the .env file and the process environment
 * become one validated `Settings` value. Precedence: flag, then process environment, then
 * .env, then default.
 *
 * Every problem stops start-up with a `ConfigError` whose message is one sentence naming
 * the variable, the bad value and what is allowed. Secret values (PROXY_API_KEY, provider
 * keys) never appear in a message.
 */

import { homedir } from "node:os";
import { z } from "zod";
import type { CliArgs } from "./cli-args.ts";
import { discoverProviders, showValue, type ProviderSettings } from "./discover-providers.ts";
import { readEnvFile } from "./env-file.ts";
import { readRoutes, type RouteSettings } from "./routes.ts";
import { readRateLimits } from "./rate-limits.ts";
import { ConfigError, envFileTarget, resolveDir, resolveEnvFile } from "./paths.ts";

export { ConfigError } from "./paths.ts";
export type { ProviderSettings } from "./discover-providers.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Settings {
  /** `--host` / HOST, default 127.0.0.1. */
  host: string;
  /** `--port` / PORT, default 8000. */
  port: number;
  /** PROXY_API_KEY: the secret clients must send. */
  proxyApiKey: string;
  /** In the order the first key of each provider appears; never empty. */
  providers: ProviderSettings[];
  /** `ROUTE_<ID>` and `ROUTES_FILE`: model names that stand for chains of targets (config/routes.ts). */
  routes: RouteSettings[];
  /** The .env file that was read, or null when there was none. */
  envFilePath: string | null;
  /** `--data-dir` / DATA_DIR, absolute; default `<base>/data`. */
  dataDir: string;
  /** LOG_DIR, absolute; default `<base>/logs`. */
  logDir: string;
  /** `--redis-url` / REDIS_URL: cluster mode, the key state and usage shared through Redis. */
  redisUrl: string | undefined;
  /** REDIS_PREFIX: namespaces every Redis key, so several deployments can share one Redis. */
  redisPrefix: string;
  /** `--enable-request-logging` / REQUEST_LOGGING. */
  requestLogging: boolean;
  /** LOG_LEVEL, default info. */
  logLevel: LogLevel;
  /** GLOBAL_TIMEOUT: budget for one request across key acquisition, retries and rotation. */
  globalTimeoutMs: number;
  /** CONNECT_TIMEOUT: per attempt, until a streaming request gets its response headers. */
  connectTimeoutMs: number;
  /**
   * FIRST_BYTE_TIMEOUT: per attempt, until the whole answer (non-stream) or the first streamed
   * content. Unset: half of GLOBAL_TIMEOUT while another key could take over, else what is left.
   */
  firstByteTimeoutMs: number | undefined;
  /** STREAM_IDLE_TIMEOUT: longest silence between stream chunks. */
  streamIdleTimeoutMs: number;
  /** DAILY_RESET_TIME_UTC as minutes after midnight UTC (03:00 ⇒ 180). */
  dailyResetMinuteUtc: number;
  /** MAX_BODY_SIZE_MB in bytes. */
  maxBodyBytes: number;
  /** REQUEST_BODY_TIMEOUT (default 30): a client must have sent its whole body within this. */
  requestBodyTimeoutMs: number;
  /** MAX_UPSTREAM_RESPONSE_MB (default 64) in bytes: a bigger upstream answer (or stream event) fails the attempt. */
  maxUpstreamResponseBytes: number;
  /** MODELS_CACHE_TTL; 0 means every /v1/models call asks the providers. */
  modelsCacheTtlMs: number;
  /** METRICS_REQUIRE_AUTH (default true): `/metrics` needs the proxy key like the API routes. */
  metricsRequireAuth: boolean;
  /** RESPONSES_TTL_DAYS (default 30): how long a stored Responses API response is kept. */
  responsesTtlMs: number;
  /** RESPONSES_STORE_MAX_MB (default 512): the oldest stored responses go first beyond it. */
  responsesStoreMaxBytes: number;
  /** PROMPT_CACHE_AFFINITY_TTL (default 300 s; 0 off): how long a conversation keeps preferring the key that served it. */
  promptCacheAffinityTtlMs: number;
  /** RECOVERY_PROBES: the waits between probes of a disabled key (core/recovery-probes.ts); empty when off. */
  recoveryProbeScheduleMs: number[];
  /** Sentences for the start-up log: skipped environment variables, settings without effect. */
  warnings: string[];
}

export interface LoadSettingsOptions {
  cli: CliArgs;
  /** The process environment (`process.env`). */
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  execPath: string;
  isCompiled: boolean;
}

/** setTimeout fires at once for delays above 2^31-1 ms, so longer timeouts would mean none. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
/** The value .env.example ships with; must match that file. */
export const EXAMPLE_PROXY_API_KEY = "change-me-to-a-long-random-secret";
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/** Blank counts as unset, so `GLOBAL_TIMEOUT=` in a copied template means "use the default". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === "string" ? (v.trim() === "" ? undefined : v.trim()) : v), schema.optional());

const seconds = (allowZero: boolean) => {
  const allowed = allowZero ? "a number of seconds, 0 or more" : "a positive number of seconds";
  return z
    .string()
    .regex(DECIMAL, { error: allowed })
    .transform(Number)
    .refine((n) => (allowZero ? n >= 0 : n > 0), { error: allowed })
    .refine((n) => n <= MAX_TIMER_SECONDS, { error: `${allowed} no larger than ${MAX_TIMER_SECONDS}` });
};

const positiveNumber = (allowed: string) =>
  z
    .string()
    .regex(DECIMAL, { error: allowed })
    .transform(Number)
    .refine((n) => n > 0, { error: allowed });

const booleanFlag = z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(["true", "false", "1", "0"], { error: "true, false, 1 or 0" }))
      .transform((s) => s === "true" || s === "1");

/** The variables this module reads, as they arrive: trimmed strings, blank meaning unset. */
const EnvSchema = z.object({
  HOST: optional(z.string().regex(/^\S+$/, { error: "a host name or IP address such as 127.0.0.1 or 0.0.0.0" })),
  PORT: optional(
    z
      .string()
      .regex(/^\d{1,5}$/, { error: "a whole number from 1 to 65535" })
      .transform(Number)
      .refine((n) => n >= 1 && n <= 65535, { error: "a whole number from 1 to 65535" }),
  ),
  PROXY_API_KEY: optional(z.string()),
  DATA_DIR: optional(z.string()),
  LOG_DIR: optional(z.string()),
  REQUEST_LOGGING: optional(booleanFlag),
  REDIS_URL: optional(z.string().regex(/^rediss?:\/\/\S+$/, { error: "a redis:// or rediss:// URL such as redis://127.0.0.1:6379" })),
  REDIS_PREFIX: optional(z.string().regex(/^\S+$/, { error: "a prefix without spaces such as lkp:" })),
  METRICS_REQUIRE_AUTH: optional(booleanFlag),
  LOG_LEVEL: optional(
    z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(["debug", "info", "warn", "error"], { error: "one of debug, info, warn or error" })),
  ),
  GLOBAL_TIMEOUT: optional(seconds(false)),
  CONNECT_TIMEOUT: optional(seconds(false)),
  FIRST_BYTE_TIMEOUT: optional(seconds(false)),
  STREAM_IDLE_TIMEOUT: optional(seconds(false)),
  DAILY_RESET_TIME_UTC: optional(
    z
      .string()
      .regex(/^([01]?\d|2[0-3]):[0-5]\d$/, { error: "HH:MM in 24-hour UTC" })
      .transform((s) => {
        const [h, m] = s.split(":").map(Number);
        return h! * 60 + m!;
      }),
  ),
  MAX_BODY_SIZE_MB: optional(positiveNumber("a positive number of megabytes")),
  REQUEST_BODY_TIMEOUT: optional(seconds(false)),
  MAX_UPSTREAM_RESPONSE_MB: optional(positiveNumber("a positive number of megabytes")),
  MODELS_CACHE_TTL: optional(seconds(true)),
  RESPONSES_TTL_DAYS: optional(positiveNumber("a positive number of days")),
  RESPONSES_STORE_MAX_MB: optional(positiveNumber("a positive number of megabytes")),
  PROMPT_CACHE_AFFINITY_TTL: optional(seconds(true)),
  RECOVERY_PROBES: optional(
    z
      .string()
      .transform((s) => s.toLowerCase())
      .refine((s) => PROBES_OFF.has(s) || PROBE_WAITS.test(s), { error: 'off, or waits such as "10m,30m,2h,6h" (s, m or h; a bare number is seconds)' })
      .transform((s) => (PROBES_OFF.has(s) ? [] : s.split(",").map(durationMs)))
      .refine((list) => list.every((ms) => ms >= 100 && ms <= MAX_TIMER_SECONDS * 1000), { error: "waits from 0.1 s to 24 days" }),
  ),
});

const PROBES_OFF = new Set(["off", "false", "0"]);
const PROBE_WAITS = /^\s*\d+(\.\d+)?[smh]?\s*(,\s*\d+(\.\d+)?[smh]?\s*)*$/;

/** RECOVERY_PROBES' default: 10 min after a key is disabled, then 30 min, 2 h, and every 6 h. */
export const DEFAULT_PROBE_SCHEDULE_MS: readonly number[] = [10 * 60_000, 30 * 60_000, 2 * 3_600_000, 6 * 3_600_000];

/** `90`, `90s`, `10m`, `2h` → milliseconds. */
function durationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(text.trim())!;
  const unit = match[2] === "h" ? 3_600_000 : match[2] === "m" ? 60_000 : 1_000;
  return Math.round(Number(match[1]) * unit);
}

type EnvValues = z.output<typeof EnvSchema>;

/**
 * Reads the .env file, merges it under the process environment, validates everything and
 * returns plain settings. Throws ConfigError with `kind: "missing"` when the proxy key or
 * every provider key is absent (the setup wizard can fix that), `"invalid"` otherwise.
 */
export async function loadSettings(options: LoadSettingsOptions): Promise<Settings> {
  const { cli, env, cwd } = options;
  const location = resolveEnvFile({
    explicit: cli.envFile,
    cwd,
    execPath: options.execPath,
    isCompiled: options.isCompiled,
  });
  const fileVars = location.envFilePath === null ? null : await readEnvFile(location.envFilePath);
  // The file can vanish between resolving and reading; treat that as "no file".
  const envFilePath = fileVars === null ? null : location.envFilePath;
  const vars = mergeEnv(fileVars, env);

  const values = parseEnvValues(vars);
  const discovery = discoverProviders(vars, { fileVars: new Set(fileVars?.keys() ?? []) });

  const target = envFileTarget({ envFilePath, baseDir: location.baseDir });
  if (values.PROXY_API_KEY === undefined) {
    throw new ConfigError(
      `PROXY_API_KEY is not set: add PROXY_API_KEY=<a long random secret> to ${target} (or run llm-key-proxy setup).`,
      "missing",
    );
  }
  if (values.PROXY_API_KEY === EXAMPLE_PROXY_API_KEY) {
    // The placeholder is public (it ships in .env.example), so a proxy guarded by it is open.
    throw new ConfigError(
      `PROXY_API_KEY is still the placeholder from .env.example: replace it in ${target} with a long random secret (or run llm-key-proxy setup).`,
    );
  }
  if (discovery.providers.length === 0) {
    const where = envFilePath === null ? `the environment (there is no ${target})` : `${envFilePath} or the environment`;
    const skipped =
      discovery.skipped.length === 0
        ? ""
        : `; skipped from the environment as unknown providers: ${discovery.skipped.join(", ")}`;
    throw new ConfigError(
      `No provider keys were found in ${where}: add lines of the form <PROVIDER>_API_KEY=<key>, such as ` +
        `OPENAI_API_KEY=sk-... or GROQ_API_KEY_2=gsk_... (or run llm-key-proxy setup)${skipped}.`,
      "missing",
    );
  }

  const declared = readRateLimits(vars, discovery.providers);
  const providers = discovery.providers.map((provider) => {
    const rateLimits = declared.rules.get(provider.name);
    return rateLimits === undefined ? provider : { ...provider, rateLimits };
  });
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  const globalTimeoutS = values.GLOBAL_TIMEOUT ?? 30;
  return {
    host: cli.host ?? values.HOST ?? "127.0.0.1",
    port: cli.port ?? values.PORT ?? 8000,
    proxyApiKey: values.PROXY_API_KEY,
    providers,
    routes: readRoutes(vars, providers, location.baseDir),
    envFilePath,
    // A folder typed on the command line is relative to where the user typed it; one written
    // in configuration is relative to the .env's folder, so a double-clicked binary finds it.
    dataDir:
      cli.dataDir !== undefined
        ? resolveDir(cli.dataDir, cwd, home)
        : resolveDir(values.DATA_DIR ?? "data", location.baseDir, home),
    logDir: resolveDir(values.LOG_DIR ?? "logs", location.baseDir, home),
    requestLogging: cli.enableRequestLogging ?? values.REQUEST_LOGGING ?? false,
    redisUrl: redisUrlOf(cli.redisUrl) ?? values.REDIS_URL,
    redisPrefix: values.REDIS_PREFIX ?? "lkp:",
    logLevel: values.LOG_LEVEL ?? "info",
    globalTimeoutMs: toMs(globalTimeoutS),
    connectTimeoutMs: toMs(values.CONNECT_TIMEOUT ?? 10),
    firstByteTimeoutMs: values.FIRST_BYTE_TIMEOUT === undefined ? undefined : toMs(values.FIRST_BYTE_TIMEOUT),
    streamIdleTimeoutMs: toMs(values.STREAM_IDLE_TIMEOUT ?? 60),
    dailyResetMinuteUtc: values.DAILY_RESET_TIME_UTC ?? 3 * 60,
    maxBodyBytes: Math.round((values.MAX_BODY_SIZE_MB ?? 32) * 1024 * 1024),
    requestBodyTimeoutMs: toMs(values.REQUEST_BODY_TIMEOUT ?? 30),
    maxUpstreamResponseBytes: Math.round((values.MAX_UPSTREAM_RESPONSE_MB ?? 64) * 1024 * 1024),
    modelsCacheTtlMs: Math.round((values.MODELS_CACHE_TTL ?? 600) * 1000),
    metricsRequireAuth: values.METRICS_REQUIRE_AUTH ?? true,
    responsesTtlMs: Math.round((values.RESPONSES_TTL_DAYS ?? 30) * 24 * 60 * 60 * 1000),
    responsesStoreMaxBytes: Math.round((values.RESPONSES_STORE_MAX_MB ?? 512) * 1024 * 1024),
    recoveryProbeScheduleMs: values.RECOVERY_PROBES ?? [...DEFAULT_PROBE_SCHEDULE_MS],
    promptCacheAffinityTtlMs: toMs(values.PROMPT_CACHE_AFFINITY_TTL ?? 300),
    warnings: [...discovery.warnings, ...declared.warnings],
  };
}

/**
 * The .env variables in file order, overridden by the process environment. An overridden
 * variable keeps its file position, and new ones follow, so provider order follows the file.
 */
export function mergeEnv(
  fileVars: ReadonlyMap<string, string> | null,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const [name, value] of fileVars ?? []) merged[name] = value;
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return merged;
}

function parseEnvValues(vars: Readonly<Record<string, string>>): EnvValues {
  const result = EnvSchema.safeParse(vars);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0]);
  // PROXY_API_KEY has no format rule, so a secret can never reach this message.
  throw new ConfigError(`${name} must be ${issue.message} (got ${showValue(vars[name] ?? "")}).`);
}

/** Rounded to whole milliseconds, at least 1, so a tiny positive value never becomes "no timeout". */
function toMs(secondsValue: number): number {
  return Math.max(1, Math.round(secondsValue * 1000));
}

/** `--redis-url`, checked like REDIS_URL. */
function redisUrlOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^rediss?:\/\/\S+$/.test(value)) throw new ConfigError(`--redis-url must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379 (got ${value.startsWith("redis") ? "a malformed URL" : `"${value}"`}).`);
  return value;
}
