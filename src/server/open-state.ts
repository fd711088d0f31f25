/**
 * The state the server keeps its usage and key state in, chosen from the settings: SQLite in the
 * data folder (`usage.db`), written behind the requests. The one place a backend is picked, so the
 * cluster mode's shared store is a new branch here, not a change to the engine.
 */

import type { Settings } from "../config/settings.ts";
import type { Logger } from "../logging/logger.ts";
import { openSqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/types.ts";

export function openState(settings: Settings, log: Logger): Store {
  return openSqliteStore({ dataDir: settings.dataDir, onFlushError: (error) => log.error(`Could not write usage data: ${String(error)}`) });
}
