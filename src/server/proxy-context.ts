/**
 * Everything a running proxy holds, built once from the settings: the core engine (one key pool
 * per provider, restored from the store so cooldowns survive a restart, the rotator, incident
 * tracking, the daily reset), and what only the server has — the model list cache, metrics, logs
 * and the stored Responses.
 */

import { AFFINITY_CAPACITY, createAffinity, type Affinity } from "../engine/affinity.ts";
import { createRecoveryProbes, type RecoveryProbes } from "../core/recovery-probes.ts";
import { createRouteTable, type RouteTable } from "../core/model-routes.ts";
import type { Settings } from "../config/settings.ts";
import { createEngine, DEFAULT_ATTEMPT_SHARE } from "../core/create-engine.ts";
import { providerSecrets } from "../core/provider-credentials.ts";
import type { IncidentTracker } from "../engine/incidents.ts";
import type { Rotator } from "../engine/rotate.ts";
import { redactingLogger, type Logger } from "../logging/logger.ts";
import type { Store } from "../store/types.ts";
import type { ResponseStore } from "../store/response-store.ts";
import { openResponseStore } from "./open-state.ts";
import { countingUsage, createUsageTally, type UsageTally } from "../core/usage-tally.ts";
import { createModelCatalog, type ModelCatalog } from "../core/model-catalog.ts";
import type { ProviderRuntime } from "../core/provider-runtime.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { createRedactor, type Redactor } from "../logging/redact.ts";
import { redisPassword } from "../store/redis-connection.ts";
import { createFailureLog, type FailureLog } from "../logging/failure-log.ts";
import { createRequestLog, type RequestLog } from "../logging/request-log.ts";
import { createWriteQueue } from "../logging/write-queue.ts";

export interface ProxyContext {
  settings: Settings;
  providers: ReadonlyMap<string, ProviderRuntime>;
  /** Model names that stand for chains of targets (ROUTE_<ID>, ROUTES_FILE). */
  routes: RouteTable;
  /** Prompt-cache affinity (PROMPT_CACHE_AFFINITY_TTL), absent when off. */
  affinity?: Affinity;
  rotator: Rotator;
  incidents: IncidentTracker;
  store: Store;
  /** Cluster mode: this instance's own usage since it started, beside the shared totals. */
  instanceUsage?: UsageTally;
  /** Settles once the key state is restored from the store (at once for SQLite): serve after it. */
  ready: Promise<void>;
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
  /** Default: the one the settings pick (open-state.ts). */
  responseStore?: ResponseStore;
  /** Shorter same-key retry waits for tests. */
  transientBackoffMs?: () => number;
}

export function createProxyContext(options: ProxyContextOptions): ProxyContext {
  const { settings, store } = options;
  let probes: RecoveryProbes | undefined;
  const redisSecret = settings.redisUrl === undefined ? undefined : redisPassword(settings.redisUrl);
  const redactor = createRedactor([settings.proxyApiKey, ...settings.providers.flatMap(providerSecrets), ...(redisSecret ? [redisSecret] : [])]);
  // Every console line of the server goes through the redactor: client text (models, paths, keys
  // named in an API call) and upstream text (error messages) may hold a secret.
  const log = redactingLogger(options.log, redactor.text);
  // In cluster mode /v1/stats shows the cluster's usage from the store and, beside it, this instance's.
  const instanceUsage = store.health?.().shared ? createUsageTally() : undefined;
  const engine = createEngine({
    providers: settings.providers,
    state: instanceUsage ? countingUsage(store, instanceUsage) : store,
    resetMinuteUtc: settings.dailyResetMinuteUtc,
    transientBackoffMs: options.transientBackoffMs,
    // An explicit FIRST_BYTE_TIMEOUT is the user's per-attempt limit; without one, an attempt gets
    // half the budget while another key could still answer, so one hung key cannot cost the request.
    attemptShare: settings.firstByteTimeoutMs === undefined ? DEFAULT_ATTEMPT_SHARE : undefined,
    onReset: ({ caughtUp }) => {
      probes?.forget();
      log.info(caughtUp ? "A daily reset passed while the proxy was stopped: cooldowns and disabled keys cleared." : "Daily reset: cooldowns, strikes and disabled keys cleared.");
    },
    onStateUnavailable: (error) => log.warn(`Could not read the saved key state (every key starts fresh): ${String(error)}`),
  });
  const { providers, rotator, incidents } = engine;
  const routes = createRouteTable(settings.routes, providers);

  const writes = createWriteQueue({ maxPending: 10_000, onError: (error) => log.warn(`Could not write a log file: ${String(error)}`) });
  const failureLog = createFailureLog({ dir: settings.logDir, redactor, queue: writes });
  // Disabled keys come back when their provider's key check passes again; each probe is a failure-log line.
  probes =
    settings.recoveryProbeScheduleMs.length === 0
      ? undefined
      : createRecoveryProbes({
          providers,
          scheduleMs: settings.recoveryProbeScheduleMs,
          onProbe: (event) => {
            const action = event.restored ? "restored" : `still disabled; next probe at ${new Date(event.nextAt!).toISOString()}`;
            failureLog.record({ requestId: "recovery_probe", provider: event.provider, model: "", keyId: event.keyId, keyMasked: event.masked, status: event.status, class: event.restored ? "probe_ok" : "probe_failed", message: event.message, action, attempt: event.probe });
            if (event.restored) log.info(`Recovery probe: ${event.provider} key ${event.masked} works again (probe ${event.probe}); it is back in rotation.`);
            else log.debug(`Recovery probe ${event.probe} of ${event.provider} key ${event.masked}: ${event.message}; ${action}.`);
          },
        });
  probes?.start();
  const responses = options.responseStore ?? openResponseStore(settings, log);

  return {
    settings,
    providers,
    routes,
    ...(settings.promptCacheAffinityTtlMs > 0 ? { affinity: createAffinity({ ttlMs: settings.promptCacheAffinityTtlMs, capacity: AFFINITY_CAPACITY }) } : {}),
    rotator,
    incidents,
    store,
    instanceUsage,
    ready: engine.ready,
    responses,
    models: createModelCatalog({
      providers,
      routes,
      ttlMs: settings.modelsCacheTtlMs,
      onUnavailable: (provider, message) => log.warn(`Model list of ${provider} unavailable: ${message}`),
    }),
    metrics: createMetrics(),
    redactor,
    failureLog,
    requestLog: createRequestLog({ dir: settings.logDir, enabled: settings.requestLogging, redactor, queue: writes }),
    log,
    async stop() {
      probes?.stop();
      engine.stop();
      await writes.flush();
      responses.close();
    },
  };
}
