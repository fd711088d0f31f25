/**
 * The state the server keeps its usage and key state in, chosen from the settings: with
 * `REDIS_URL` (cluster mode) the Redis store shared by every instance, else SQLite in the data
 * folder (`usage.db`), written behind the requests. The one place a backend is picked.
 */

import type { Settings } from "../config/settings.ts";
import type { Logger } from "../logging/logger.ts";
import { openRedisStore } from "../store/redis.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/types.ts";

export function openState(settings: Settings, log: Logger): Store {
  if (settings.redisUrl !== undefined) return openRedisStore({ url: settings.redisUrl, prefix: settings.redisPrefix, onWarning: (message) => log.warn(message) });
  return openSqliteStore({ dataDir: settings.dataDir, onFlushError: (error) => log.error(`Could not write usage data: ${String(error)}`) });
}
