/**
 * Command-line parsing for `llm-key-proxy [setup] [--host H] [--port N]
 * [--enable-request-logging] [--env-file PATH] [--data-dir DIR] [--redis-url URL] [--help|-h] [--version|-v]`.
 *
 * Unknown flags stop the program instead of being ignored: a mistyped `--prot 9000` that
 * silently serves on 8000 costs more time than the error does.
 */

import { PROVIDER_CATALOG } from "../providers/catalog.ts";
import { ConfigError } from "./paths.ts";

export interface CliArgs {
  command: "serve" | "setup" | "help" | "version";
  host?: string;
  port?: number;
  enableRequestLogging?: boolean;
  envFile?: string;
  dataDir?: string;
  redisUrl?: string;
}

type ValueFlag = "--host" | "--port" | "--env-file" | "--data-dir" | "--redis-url";
const COMMANDS: Readonly<Record<string, CliArgs["command"]>> = {
  serve: "serve",
  setup: "setup",
  help: "help",
  version: "version",
};
const HINT = "Run llm-key-proxy --help.";
const EXAMPLES: Readonly<Record<ValueFlag, string>> = {
  "--host": "--host 0.0.0.0",
  "--port": "--port 8000",
  "--env-file": "--env-file ./my.env",
  "--data-dir": "--data-dir ./data",
  "--redis-url": "--redis-url redis://127.0.0.1:6379",
};
const VALUE_FLAGS: ReadonlySet<string> = new Set(Object.keys(EXAMPLES));

/**
 * Parses the arguments after the program name (`process.argv.slice(2)`). `--help` and
 * `--version` win over everything else, so they work even next to a broken flag.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  if (argv.some((a) => a === "--help" || a === "-h")) return { command: "help" };
  if (argv.some((a) => a === "--version" || a === "-v")) return { command: "version" };

  const args: CliArgs = { command: "serve" };
  let command: string | undefined;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      if (command !== undefined) {
        throw new ConfigError(`Unexpected argument "${arg}" after the command ${command}. ${HINT}`);
      }
      const known = Object.hasOwn(COMMANDS, arg) ? COMMANDS[arg] : undefined;
      if (known === undefined) {
        throw new ConfigError(`Unknown command "${arg}". ${HINT}`);
      }
      command = arg;
      args.command = known;
      continue;
    }

    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);

    if (flag === "--enable-request-logging") {
      args.enableRequestLogging = inline === undefined ? true : parseFlagBoolean(flag, inline);
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) throw new ConfigError(`Unknown option ${flag}. ${HINT}`);

    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      // A following flag means the value was forgotten, not that the flag is the value.
      if (next !== undefined && !(next.startsWith("-") && next.length > 1)) {
        value = next;
        i++;
      }
    }
    if (value === undefined || value.trim() === "") {
      throw new ConfigError(`Option ${flag} needs a value, for example ${EXAMPLES[flag as ValueFlag]}.`);
    }
    applyValue(args, flag as ValueFlag, value.trim());
  }
  return args;
}

function applyValue(args: CliArgs, flag: ValueFlag, value: string): void {
  switch (flag) {
    case "--host":
      if (/\s/.test(value)) throw new ConfigError(`--host must be a host name or IP address (got "${value}").`);
      args.host = value;
      return;
    case "--port": {
      const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
      if (!(port >= 1 && port <= 65535)) {
        throw new ConfigError(`--port must be a whole number from 1 to 65535 (got "${value}").`);
      }
      args.port = port;
      return;
    }
    case "--env-file":
      args.envFile = value;
      return;
    case "--data-dir":
      args.dataDir = value;
      return;
    case "--redis-url":
      args.redisUrl = value;
      return;
  }
}

function parseFlagBoolean(flag: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new ConfigError(`${flag} takes no value, or =true / =false (got "${value}").`);
}

/** Usage text for `--help`. */
export const HELP_TEXT = `llm-key-proxy: an OpenAI-compatible proxy that spreads requests over many provider API keys.

Usage:
  llm-key-proxy [options]          start the proxy (the default; "serve" may be written out)
  llm-key-proxy setup [options]    run the setup wizard, which writes the .env file

Options:
  --host HOST                 address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --port N                    port to listen on (default 8000)
  --enable-request-logging    write a log of every request and response under the log folder
  --env-file PATH             read settings from this file instead of ./.env
  --data-dir DIR              where usage.db lives (default: data/ beside the .env file)
  --redis-url URL             share key state and usage with other instances through Redis (REDIS_URL)
  -h, --help                  show this help
  -v, --version               print the version
  Options also accept --option=value.

Configuration (.env file or environment variables; the environment wins):
  PROXY_API_KEY=<secret>                  clients send it as "Authorization: Bearer <secret>" (required)
  OPENAI_API_KEY=<key>                    a provider key; add more as OPENAI_API_KEY_2, OPENAI_API_KEY_3, ...
  <NAME>_API_BASE=<url>                   base URL override, or a custom OpenAI-compatible provider
  IGNORE_MODELS_<NAME>=<globs>            comma-separated model globs to hide (e.g. *-preview,gpt-3.5*)
  WHITELIST_MODELS_<NAME>=<globs>         only these models (beats IGNORE_MODELS_<NAME>)
  MAX_CONCURRENT_REQUESTS_PER_KEY_<NAME>  cap on in-flight requests per key and model
  HOST, PORT, GLOBAL_TIMEOUT, CONNECT_TIMEOUT, FIRST_BYTE_TIMEOUT, STREAM_IDLE_TIMEOUT,
  DAILY_RESET_TIME_UTC, REQUEST_LOGGING, LOG_LEVEL, DATA_DIR, LOG_DIR, MAX_BODY_SIZE_MB, MODELS_CACHE_TTL
  REDIS_URL, REDIS_PREFIX                 cluster mode: several instances share key state and usage
  .env.example describes every variable.

Known providers: ${Object.keys(PROVIDER_CATALOG).join(", ")}.
Models are named provider/model, for example groq/llama-3.3-70b-versatile.
`;
