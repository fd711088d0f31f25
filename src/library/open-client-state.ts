/**
 * The state a rotating client keeps, as `options.state` asks: memory (the default; forgotten at
 * exit), SQLite on Bun (cooldowns, usage and stored responses across restarts), or Redis on Bun
 * (shared with every proxy instance and client on the same Redis and prefix: cluster mode). The
 * Bun-only stores are loaded on demand through computed specifiers, so no bundler follows them
 * and the library's module graph stays free of Bun for Node callers, who get a sentence naming the
 * alternative.
 */

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createMemoryResponseStore } from "../store/memory-responses.ts";
import { createMemoryStore } from "../store/memory.ts";
import type { ResponseStore } from "../store/response-store.ts";
import type { LocalStore, Store } from "../store/types.ts";

export type ClientState = { kind: "memory" } | { kind: "sqlite"; path: string } | { kind: "redis"; url: string; prefix?: string };

export interface ResponseLimits {
  ttlMs: number;
  maxBytes: number;
}

const warn = (what: string) => (error: unknown) => console.warn(`llm-key-proxy: ${what}: ${String(error)}`);

export function openClientState(state: ClientState, limits: ResponseLimits): { store: Store; responses: ResponseStore } {
  if (state.kind === "memory") return { store: createMemoryStore(), responses: createMemoryResponseStore(limits) };
  if (typeof (globalThis as { Bun?: unknown }).Bun === "undefined") {
    throw new TypeError(`createRotatingClient: state { kind: "${state.kind}" } needs Bun (${state.kind === "sqlite" ? "bun:sqlite" : "Bun's Redis client"}); on Node use { kind: "memory" }.`);
  }
  const load = storeModules();
  if (state.kind === "redis") {
    const { openRedisStore } = load("redis.ts") as { openRedisStore(options: { url: string; prefix?: string; onWarning?: (message: string) => void }): Store };
    const { openRedisResponseStore } = load("redis-responses.ts") as { openRedisResponseStore(options: { url: string; prefix?: string; ttlMs: number }): ResponseStore };
    return {
      store: openRedisStore({ url: state.url, prefix: state.prefix, onWarning: (message) => console.warn(`llm-key-proxy: ${message}`) }),
      responses: openRedisResponseStore({ url: state.url, prefix: state.prefix, ttlMs: limits.ttlMs }),
    };
  }
  const { openSqliteStore } = load("sqlite.ts") as { openSqliteStore(options: { dataDir: string; fileName?: string }): LocalStore };
  const { openSqliteResponseStore } = load("sqlite-responses.ts") as {
    openSqliteResponseStore(options: { dataDir: string; ttlMs: number; maxBytes: number; onFlushError?: (error: unknown) => void }): ResponseStore;
  };
  const slash = Math.max(state.path.lastIndexOf("/"), state.path.lastIndexOf("\\"));
  const dataDir = slash === -1 ? "." : state.path.slice(0, slash) || "/";
  return {
    store: openSqliteStore({ dataDir, fileName: state.path.slice(slash + 1) }),
    responses: openSqliteResponseStore({ dataDir, ...limits, onFlushError: warn("could not store responses") }),
  };
}

/**
 * A synchronous require of a module of src/store/ (it keeps createRotatingClient synchronous).
 * From source this module is src/library/; in the package it is bundled into lib/, beside src/.
 */
function storeModules(): (name: string) => unknown {
  const storeDir = ["../store/", "../src/store/"].map((dir) => new URL(dir, import.meta.url)).find((dir) => existsSync(new URL("types.ts", dir)));
  if (storeDir === undefined) throw new TypeError("createRotatingClient: the state modules (src/store/) are missing from this installation.");
  return (name) => require(fileURLToPath(new URL(name, storeDir)));
}
