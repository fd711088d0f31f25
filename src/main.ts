#!/usr/bin/env bun
/**
 * Command-line entry: `llm-key-proxy [serve] [flags]`, `llm-key-proxy setup [flags]`, `--help`,
 * `--version`. Loads the settings, opens the store, starts the server, prints where everything is,
 * and shuts down cleanly on SIGINT/SIGTERM. Started with no usable configuration on a terminal (a
 * double-clicked binary), it runs the setup wizard first and then serves in the same window.
 */

import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { runSetupCommand } from "../setup/non-interactive.ts";
import { runSetupWizard } from "../setup/wizard.ts";
import { HELP_TEXT, parseCliArgs, type CliArgs } from "./config/cli-args.ts";
import { curlLine, exampleModel } from "./config/client-examples.ts";
import { envFileTarget, resolveEnvFile } from "./config/paths.ts";
import { maskKey } from "./key-identity.ts";
import { providerCredentials } from "./core/provider-credentials.ts";
import { ConfigError, loadSettings, type Settings } from "./config/settings.ts";
import { createLogger, type Logger } from "./logging/logger.ts";
import { createProxyContext } from "./server/proxy-context.ts";
import { startServer, type RunningServer } from "./server/serve.ts";
import { openState } from "./server/open-state.ts";
import { VERSION } from "./version.ts";

async function main(argv: string[]): Promise<number> {
  // `setup` has flags of its own (`--add`, `--key`, …), so it is routed before the serve flags are parsed.
  if (argv[0] === "setup") {
    return runSetupCommand(argv.slice(1), { envPath: defaultEnvPath(), stdin: process.stdin, isTTY: isInteractive(), startCommand: startCommand() });
  }
  const cli = parseCliArgs(argv);
  if (cli.command === "help") {
    process.stdout.write(`${HELP_TEXT}\n`);
    return 0;
  }
  if (cli.command === "version") {
    process.stdout.write(`llm-key-proxy ${VERSION}\n`);
    return 0;
  }
  if (cli.command === "setup") return runSetupCommand([], { envPath: wizardEnvPath(cli), stdin: process.stdin, isTTY: isInteractive(), startCommand: startCommand() });
  const settings = await settingsOrWizard(cli);
  if (!settings) return 1;
  const log = createLogger({ level: settings.logLevel });
  const ctx = createProxyContext({ settings, store: openState(settings, log), log });
  await ctx.ready;
  const server = startServer(ctx);
  printBanner(log, settings, server);
  handleSignals(server, log);
  return -1;
}

/**
 * The settings, or — when keys are missing and a person is at the terminal — the wizard first. A
 * script or service without a terminal gets the one-sentence error instead (exit 1).
 */
async function settingsOrWizard(cli: CliArgs): Promise<Settings | undefined> {
  const load = () => loadSettings({ cli, env: process.env, cwd: process.cwd(), execPath: process.execPath, isCompiled: isCompiledBinary() });
  try {
    return await load();
  } catch (error) {
    if (!(error instanceof ConfigError) || error.kind !== "missing" || !isInteractive()) throw error;
    const envPath = wizardEnvPath(cli);
    process.stdout.write(firstRunGreeting(envPath, existsSync(envPath)));
    const outcome = await runSetupWizard({ envPath, then: { kind: "start", command: startCommand() } });
    if (outcome !== "saved") {
      process.stderr.write("Setup did not save a configuration, so the proxy is not started.\n");
      return undefined;
    }
    return load();
  }
}

/**
 * What a person sees first when nothing is configured yet: a first run is no failure, so it says
 * hello and what happens next, in lines short enough for any terminal.
 */
function firstRunGreeting(envPath: string, fileExists: boolean): string {
  return [
    `Welcome to llm-key-proxy ${VERSION}.`,
    "",
    fileExists ? "Your configuration has no provider keys or proxy key yet, so setup asks" : "There is no configuration yet, so setup asks for your provider keys now,",
    fileExists ? "for them now, writes them to" : "writes them to",
    `  ${envPath}`,
    "(readable by you only) and then starts the proxy in this window.",
    "Next time it starts at once.",
    "",
    "",
  ].join("\n");
}

/** The file the wizard edits: the one `--env-file` names, else the default. */
function wizardEnvPath(cli: CliArgs): string {
  return cli.envFile !== undefined ? resolve(process.cwd(), cli.envFile) : defaultEnvPath();
}

/** The `.env` this run reads, or where the wizard writes one (beside a double-clicked binary). */
function defaultEnvPath(): string {
  return envFileTarget(resolveEnvFile({ cwd: process.cwd(), execPath: process.execPath, isCompiled: isCompiledBinary() }));
}

/** How this user starts the proxy: the binary they ran, or `npm start` from a source checkout. */
function startCommand(): string {
  return isCompiledBinary() ? basename(process.execPath) : "npm start";
}

function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

function isCompiledBinary(): boolean {
  const flag = (Bun as { isStandaloneExecutable?: boolean }).isStandaloneExecutable;
  if (typeof flag === "boolean") return flag;
  // Older Bun: a `bun build --compile` binary runs its entry from Bun's embedded file system.
  return import.meta.path.startsWith("/$bunfs/") || /^[A-Z]:\\~BUN\\/i.test(import.meta.path);
}

function printBanner(log: Logger, settings: Settings, server: RunningServer): void {
  const lines = [
    `llm-key-proxy ${VERSION}`,
    `  listening   http://${settings.host}:${server.port}  (call ${server.url}/v1)`,
    `  .env        ${settings.envFilePath ?? "(none: process environment only)"}`,
    `  data        ${settings.dataDir}`,
    `  proxy key   ${maskKey(settings.proxyApiKey)}`,
    `  logs        ${settings.logDir}  (request logging ${settings.requestLogging ? "on: detailed_logs/" : "off"})`,
    "  providers:",
    ...settings.providers.map(
      (provider) =>
        `    ${provider.name.padEnd(12)} ${String(provider.keys.length).padStart(3)} key${provider.keys.length === 1 ? " " : "s"}  ${providerCredentials(provider).map((key) => key.masked).slice(0, 4).join(" ")}${provider.keys.length > 4 ? " …" : ""}  ${provider.baseUrl}${provider.custom ? "  (custom)" : ""}`,
    ),
    ...(settings.routes.length === 0 ? [] : ["  routes:", ...settings.routes.map((route) => `    ${route.name} → ${route.targets.map((target) => (route.strategy === "weighted" ? `${target.model}*${target.weight}` : target.model)).join(", ")}`)]),
    "",
    // The key stays out of the console (it may be a log); the line reads it from the shell.
    `  try it (with PROXY_API_KEY from ${settings.envFilePath ?? "your environment"} exported):`,
    `    ${curlLine({ origin: server.url, model: exampleModel(settings.providers.map((provider) => provider.name)), key: "$PROXY_API_KEY" })}`,
    "",
  ];
  for (const line of lines) log.print(line);
  for (const warning of settings.warnings) log.warn(warning);
}

function handleSignals(server: RunningServer, log: Logger): void {
  let signalled = false;
  const shutdown = (signal: string): void => {
    if (signalled) {
      log.warn("Second signal: exiting now.");
      process.exit(130);
    }
    signalled = true;
    log.info(`${signal} received: finishing in-flight requests, then exiting.`);
    server.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) exitAfterReading(code);
  },
  (error: unknown) => {
    const message = error instanceof ConfigError ? error.message : `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    process.stderr.write(`llm-key-proxy: ${message}\n`);
    exitAfterReading(1);
  },
);

/**
 * A double-clicked binary on Windows runs in a console window that closes the moment the process
 * exits, taking the error with it: there, on a failure, wait for a key first.
 */
function exitAfterReading(code: number): void {
  if (code === 0 || process.platform !== "win32" || !isInteractive()) process.exit(code);
  process.stderr.write("\nPress any key to close this window.\n");
  process.stdin.setRawMode?.(true);
  process.stdin.resume();
  process.stdin.once("data", () => process.exit(code));
}
