#!/usr/bin/env bun
/**
 * Command-line entry: `llm-key-proxy [serve] [flags]`, `--help`, `--version`. Loads the settings,
 * opens the store, starts the server, prints where everything is, and shuts down cleanly on
 * SIGINT/SIGTERM.
 */

import { HELP_TEXT, parseCliArgs } from "./config/cli-args.ts";
import { maskKey } from "./config/paths.ts";
import { ConfigError, loadSettings, type Settings } from "./config/settings.ts";
import { createLogger, type Logger } from "./logging/logger.ts";
import { createProxyContext } from "./server/proxy-context.ts";
import { startServer, type RunningServer } from "./server/serve.ts";
import { openSqliteStore } from "./store/sqlite.ts";
import { VERSION } from "./version.ts";

async function main(argv: string[]): Promise<number> {
  const cli = parseCliArgs(argv);
  if (cli.command === "help") {
    process.stdout.write(`${HELP_TEXT}\n`);
    return 0;
  }
  if (cli.command === "version") {
    process.stdout.write(`llm-key-proxy ${VERSION}\n`);
    return 0;
  }
  if (cli.command === "setup") {
    process.stderr.write("The setup wizard is not part of this build yet: copy .env.example to .env and fill in PROXY_API_KEY and your provider keys.\n");
    return 2;
  }
  const settings = await loadSettings({
    cli,
    env: process.env,
    cwd: process.cwd(),
    execPath: process.execPath,
    isCompiled: isCompiledBinary(),
  });
  const log = createLogger({ level: settings.logLevel });
  const store = openSqliteStore({ dataDir: settings.dataDir, onFlushError: (error) => log.error(`Could not write usage data: ${String(error)}`) });
  const ctx = createProxyContext({ settings, store, log });
  const server = startServer(ctx);
  printBanner(log, settings, server);
  handleSignals(server, log);
  return -1;
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
        `    ${provider.name.padEnd(12)} ${String(provider.keys.length).padStart(3)} key${provider.keys.length === 1 ? " " : "s"}  ${provider.keys.map(maskKey).slice(0, 4).join(" ")}${provider.keys.length > 4 ? " …" : ""}  ${provider.baseUrl}${provider.custom ? "  (custom)" : ""}`,
    ),
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
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`llm-key-proxy: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`llm-key-proxy: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
