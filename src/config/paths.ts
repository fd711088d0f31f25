/**
 * Where configuration and state live on disk.
 *
 * `ConfigError` is defined here because this is the one config module with no config
 * imports of its own: every other config module can throw it without an import cycle.
 * Callers import it from `settings.ts`, which re-exports it.
 */

import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

/**
 * A configuration problem the user has to fix. The message is one sentence meant for the
 * user: it names the variable or flag, and never contains a secret.
 *
 * `kind` lets the entry point tell "nothing configured yet" (the setup wizard can fix it)
 * from "something configured wrongly" (the wizard would not help; print and exit).
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly kind: "missing" | "invalid";

  constructor(message: string, kind: "missing" | "invalid" = "invalid") {
    super(message);
    this.kind = kind;
  }
}

export interface EnvFileLocation {
  /** Absolute path of the .env file to read, or null when there is none. */
  envFilePath: string | null;
  /** Absolute folder that relative data and log folders hang off (and where setup writes .env). */
  baseDir: string;
}

export interface ResolveEnvFileOptions {
  /** `--env-file` as typed; relative paths are taken from `cwd`. */
  explicit?: string;
  cwd: string;
  /** Path of the running executable (`process.execPath`). */
  execPath: string;
  /** True for a `bun build --compile` binary, false when run from source. */
  isCompiled: boolean;
}

/**
 * Finds the .env file. An explicit `--env-file` must exist, because silently starting
 * without the file the user named would be worse than stopping. Otherwise `<cwd>/.env`;
 * a compiled binary also looks beside itself, because a double-clicked binary gets the
 * home folder (macOS) or some other unrelated folder as its working directory.
 */
export function resolveEnvFile(options: ResolveEnvFileOptions): EnvFileLocation {
  const cwd = resolve(options.cwd);
  if (options.explicit !== undefined) {
    const path = resolve(cwd, options.explicit);
    if (!existsSync(path)) {
      throw new ConfigError(`The env file given with --env-file does not exist: ${path}.`);
    }
    if (!statSync(path).isFile()) {
      throw new ConfigError(`The path given with --env-file is not a file: ${path}.`);
    }
    return { envFilePath: path, baseDir: dirname(path) };
  }

  const inCwd = join(cwd, ".env");
  if (isFile(inCwd)) return { envFilePath: inCwd, baseDir: cwd };

  if (options.isCompiled) {
    const exeDir = dirname(resolve(options.execPath));
    const besideExe = join(exeDir, ".env");
    // The executable's folder is the base even when it has no .env yet: that is where the
    // wizard will write one, and where a double-clicked binary's data belongs.
    return { envFilePath: isFile(besideExe) ? besideExe : null, baseDir: exeDir };
  }
  return { envFilePath: null, baseDir: cwd };
}

/** The .env file to read, or the one the setup wizard should create when there is none. */
export function envFileTarget(location: EnvFileLocation): string {
  return location.envFilePath ?? join(location.baseDir, ".env");
}

/**
 * Turns a configured folder into an absolute path: `~/` means the home folder, other
 * relative paths are taken from `from`.
 */
export function resolveDir(value: string, from: string, home: string): string {
  if (value === "~") return home;
  if (value.startsWith("~/") || value.startsWith("~\\")) return join(home, value.slice(2));
  return isAbsolute(value) ? resolve(value) : resolve(from, value);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
