/**
 * Everything a running proxy holds, built once from the settings: one key pool per provider
 * (restored from the store, so cooldowns survive a restart), the rotator, incident tracking, the
 * model list cache, and the daily reset that clears cooldowns and disabled keys.
 */

import { keyId, maskKey } from "../config/paths.ts";
import type { Settings } from "../config/settings.ts";
import { lastDailyReset, scheduleDailyReset } from "../engine/daily-reset.ts";
import { createIncidentTracker, type IncidentTracker } from "../engine/incidents.ts";
import { createKeyPool } from "../engine/key-pool.ts";
import { createRotator, type Rotator } from "../engine/rotate.ts";
import { redactingLogger, type Logger } from "../logging/logger.ts";
import { adapterFor } from "../providers/adapters.ts";
import type { Store } from "../store/types.ts";
import type { ResponseStore } from "../store/response-store.ts";
import { openSqliteResponseStore } from "../store/sqlite-responses.ts";
import { createModelCatalog, type ModelCatalog } from "./model-catalog.ts";
import type { ProviderRuntime } from "./provider-runtime.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { createRedactor, type Redactor } from "../logging/redact.ts";
import { createFailureLog, type FailureLog } from "../logging/failure-log.ts";
import { createRequestLog, type RequestLog } from "../logging/request-log.ts";
import { createWriteQueue } from "../logging/write-queue.ts";

export interface ProxyContext {
  settings: Settings;
  providers: ReadonlyMap<string, ProviderRuntime>;
  rotator: Rotator;
  incidents: IncidentTracker;
  store: Store;
  /** Stored Responses API responses (`store` not false), for `previous_response_id` and GET. */
  responses: ResponseStore;
  models: ModelCatalog;
  metrics: Metrics;
  /** Masks every configured secret in anything written to disk. */
  redactor: Redactor;
  failureLog: FailureLog;
  requestLog: RequestLog;
  log: Logger;
  /** Stop timers owned by the context (the daily reset), write what the logs still hold, close the response store. */
  stop(): Promise<void>;
}

export interface ProxyContextOptions {
  settings: Settings;
  store: Store;
  log: Logger;
  /** Default: SQLite beside the usage database, with the settings' TTL and size cap. */
  responseStore?: ResponseStore;
  /** Shorter same-key retry waits for tests. */
  transientBackoffMs?: () => number;
}

const LAST_RESET_META = "last_daily_reset";

/** FIRST_BYTE_TIMEOUT's default, as the share of GLOBAL_TIMEOUT one attempt may use. */
const DEFAULT_ATTEMPT_SHARE = 0.5;

export function createProxyContext(options: ProxyContextOptions): ProxyContext {
  const { settings, store } = options;
  const redactor = createRedactor([settings.proxyApiKey, ...settings.providers.flatMap((provider) => provider.keys)]);
  // Every console line of the server goes through the redactor: client text (models, paths, keys
  // named in an API call) and upstream text (error messages) may hold a secret.
  const log = redactingLogger(options.log, redactor.text);
  const resetMinuteUtc = settings.dailyResetMinuteUtc;
  catchUpDailyReset(store, resetMinuteUtc, log);

  const restored = store.loadKeyState();
  const providers = new Map<string, ProviderRuntime>();
  for (const provider of settings.providers) {
    const pool = createKeyPool({
      provider: provider.name,
      keys: provider.keys.map((secret) => ({ secret, id: keyId(secret), masked: maskKey(secret) })),
      maxConcurrentPerKey: provider.maxConcurrentPerKey,
      restore: restored.filter((record) => record.provider === provider.name),
      sink: store,
    });
    providers.set(provider.name, { settings: provider, pool, adapter: adapterFor(provider.family) });
  }

  const incidents = createIncidentTracker();
  const rotator = createRotator({
    usage: store,
    incidents,
    resetMinuteUtc,
    transientBackoffMs: options.transientBackoffMs,
    // An explicit FIRST_BYTE_TIMEOUT is the user's per-attempt limit; without one, an attempt gets
    // half the budget while another key could still answer, so one hung key cannot cost the request.
    attemptShare: settings.firstByteTimeoutMs === undefined ? DEFAULT_ATTEMPT_SHARE : undefined,
  });
  const stopReset = scheduleDailyReset({
    resetMinuteUtc,
    onReset: () => {
      for (const { pool } of providers.values()) pool.reset({ keepPinned: true });
      incidents.clear();
      store.setMeta(LAST_RESET_META, String(Date.now()));
      log.info("Daily reset: cooldowns, strikes and disabled keys cleared.");
    },
  });

  const writes = createWriteQueue({ maxPending: 10_000, onError: (error) => log.warn(`Could not write a log file: ${String(error)}`) });
  const failureLog = createFailureLog({ dir: settings.logDir, redactor, queue: writes });
  const responses =
    options.responseStore ??
    openSqliteResponseStore({
      dataDir: settings.dataDir,
      ttlMs: settings.responsesTtlMs,
      maxBytes: settings.responsesStoreMaxBytes,
      onFlushError: (error) => log.warn(`Could not store Responses API responses: ${String(error)}`),
    });

  return {
    settings,
    providers,
    rotator,
    incidents,
    store,
    responses,
    models: createModelCatalog({ providers, ttlMs: settings.modelsCacheTtlMs, log }),
    metrics: createMetrics(),
    redactor,
    failureLog,
    requestLog: createRequestLog({ dir: settings.logDir, enabled: settings.requestLogging, redactor, queue: writes }),
    log,
    async stop() {
      stopReset();
      await writes.flush();
      responses.close();
    },
  };
}

/**
 * A proxy that was down across a reset boundary clears what that reset would have cleared: all
 * key state except cooldowns whose end the provider stated and which are still running.
 */
function catchUpDailyReset(store: Store, resetMinuteUtc: number, log: Logger): void {
  const now = Date.now();
  const boundary = lastDailyReset(now, resetMinuteUtc);
  const last = Number(store.getMeta(LAST_RESET_META) ?? 0);
  if (last >= boundary) return;
  if (last > 0) log.info("A daily reset passed while the proxy was stopped: cooldowns and disabled keys cleared.");
  for (const record of store.loadKeyState()) {
    if (!(record.pinned && record.until > now)) store.clearKeyState(record.provider, record.keyId, record.model);
  }
  store.setMeta(LAST_RESET_META, String(now));
}
