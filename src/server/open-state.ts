/**
 * Where the server keeps its state, chosen from the settings: with `REDIS_URL` (cluster mode) Redis,
 * shared by every instance, else SQLite in the data folder — usage and key state (`usage.db`,
 * written behind the requests) and stored Responses API responses (`responses.db`). The one place
 * a backend is picked.
 */

import type { Settings } from "../config/settings.ts";
import type { Logger } from "../logging/logger.ts";
import { openRedisResponseStore } from "../store/redis-responses.ts";
import { openRedisStore } from "../store/redis.ts";
import type { ResponseStore } from "../store/response-store.ts";
import { openSqliteResponseStore } from "../store/sqlite-responses.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/types.ts";

export function openState(settings: Settings, log: Logger): Store {
  if (settings.redisUrl !== undefined) return openRedisStore({ url: settings.redisUrl, prefix: settings.redisPrefix, onWarning: (message) => log.warn(message) });
  return openSqliteStore({ dataDir: settings.dataDir, onFlushError: (error) => log.error(`Could not write usage data: ${String(error)}`) });
}

export function openResponseStore(settings: Settings, log: Logger): ResponseStore {
  if (settings.redisUrl !== undefined) return openRedisResponseStore({ url: settings.redisUrl, prefix: settings.redisPrefix, ttlMs: settings.responsesTtlMs });
  return openSqliteResponseStore({
    dataDir: settings.dataDir,
    ttlMs: settings.responsesTtlMs,
    maxBytes: settings.responsesStoreMaxBytes,
    onFlushError: (error) => log.warn(`Could not store Responses API responses: ${String(error)}`),
  });
}
