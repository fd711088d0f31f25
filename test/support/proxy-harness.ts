/**
 * Starts the real proxy (settings loader, store, engine, Hono app on Bun.serve) on a free loopback
 * port, configured from an env record as a user's `.env` would be, and hands tests a ready
 * `openai` client. `restart()` stops it and starts a new one on the same data dir, to prove
 * what survives a restart.
 */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { loadSettings, type Settings } from "../../src/config/settings.ts";
import { silentLogger, type Logger } from "../../src/logging/logger.ts";
import { createProxyContext, type ProxyContext } from "../../src/server/proxy-context.ts";
import { startServer } from "../../src/server/serve.ts";
import { openState } from "../../src/server/open-state.ts";

export const TEST_PROXY_KEY = "test-proxy-key-0123456789";

export interface ProxyHarness {
  /** http://127.0.0.1:PORT */
  url: string;
  /** http://127.0.0.1:PORT/v1, for SDK clients. */
  baseURL: string;
  proxyKey: string;
  dataDir: string;
  settings: Settings;
  ctx: ProxyContext;
  /** An `openai` client pointed at the proxy, with SDK retries off so tests see the proxy's own answer. */
  openai(options?: { timeoutMs?: number }): OpenAI;
  /** fetch against the proxy with the proxy key already set (pass `auth: false` to omit it). */
  request(path: string, init?: RequestInit & { auth?: boolean }): Promise<Response>;
  stop(): Promise<void>;
  /** Stop, then start again with the same env and data dir. */
  restart(): Promise<ProxyHarness>;
}

export interface StartProxyOptions {
  /** Environment as a `.env` would give it; PROXY_API_KEY defaults to TEST_PROXY_KEY. */
  env: Record<string, string>;
  dataDir?: string;
  /** Same-key retry wait for transient failures (default 20 ms to keep tests fast). */
  transientBackoffMs?: number;
  /** Where the console lines go (default: nowhere). The proxy redacts them before they get here. */
  log?: Logger;
}

export async function startProxy(options: StartProxyOptions): Promise<ProxyHarness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "lkp-data-"));
  const cwd = mkdtempSync(join(tmpdir(), "lkp-cwd-"));
  const env = { PROXY_API_KEY: TEST_PROXY_KEY, ...options.env };
  const loaded = await loadSettings({ cli: { command: "serve", dataDir }, env, cwd, execPath: process.execPath, isCompiled: false });
  const settings: Settings = { ...loaded, host: "127.0.0.1", port: 0 };
  const log = options.log ?? silentLogger;
  const store = openState(settings, log);
  const backoff = options.transientBackoffMs ?? 20;
  const ctx = createProxyContext({ settings, store, log, transientBackoffMs: () => backoff });
  await ctx.ready;
  const server = startServer(ctx);
  const harness: ProxyHarness = {
    url: server.url,
    baseURL: `${server.url}/v1`,
    proxyKey: env.PROXY_API_KEY,
    dataDir,
    settings,
    ctx,
    openai: (clientOptions = {}) =>
      new OpenAI({ baseURL: `${server.url}/v1`, apiKey: env.PROXY_API_KEY, maxRetries: 0, timeout: clientOptions.timeoutMs ?? 20_000 }),
    request: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (init.auth !== false) headers.set("authorization", `Bearer ${env.PROXY_API_KEY}`);
      if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
      return fetch(`${server.url}${path}`, { ...init, headers });
    },
    stop: () => server.stop(2_000),
    restart: async () => {
      await server.stop(2_000);
      return startProxy({ ...options, dataDir });
    },
  };
  return harness;
}
