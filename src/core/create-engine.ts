/**
 * The engine as every face starts it: a key pool per provider, one incident tracker, the rotator,
 * the daily reset on its schedule — and, from the state, the catch-up of a reset that passed while
 * nothing ran and the key state to restore. The server and the library both call this; neither
 * builds pools itself.
 *
 * The state may answer later (a networked store): the pools then start empty and `ready` settles
 * once the restored state is in them; a local store (SQLite, memory) answers at once and the engine
 * is ready on return. Restoring goes through `pool.apply`, the same path as a change another
 * process makes to a shared store (`watchKeyState`), so both land in memory identically.
 */

import type { ProviderSettings } from "../config/discover-providers.ts";
import { providerCredentials } from "./provider-credentials.ts";
import { lastDailyReset, nextDailyReset, scheduleDailyReset } from "../engine/daily-reset.ts";
import { createIncidentTracker, type IncidentTracker } from "../engine/incidents.ts";
import { createKeyPool } from "../engine/key-pool.ts";
import { limitsLookup } from "../config/rate-limits.ts";
import { createRotator, type Rotator } from "../engine/rotate.ts";
import { adapterFor } from "../providers/adapter-for-family.ts";
import type { Awaitable, KeyStateRecord, Store } from "../store/types.ts";
import { whenReady } from "../store/when-ready.ts";
import type { ProviderRuntime } from "./provider-runtime.ts";

/** What the engine keeps: usage rows, key state, and when the last daily reset ran. */
export type EngineState = Pick<Store, "addUsage" | "saveKeyState" | "clearKeyState" | "clearAllKeyState" | "loadKeyState" | "getMeta" | "setMeta" | "watchKeyState" | "shareIncident" | "acquireSlot" | "claim" | "chargeLimits" | "adjustLimitTokens">;

export interface EngineOptions {
  providers: readonly ProviderSettings[];
  state: EngineState;
  /** DAILY_RESET_TIME_UTC as minutes after midnight UTC. */
  resetMinuteUtc: number;
  /** See RotatorOptions.attemptShare. */
  attemptShare?: number;
  transientBackoffMs?: () => number;
  /** Told of each reset (`caughtUp`: one that passed while nothing ran), for a log line. */
  onReset?: (event: { caughtUp: boolean }) => void;
  /** The state could not be read at start: the engine runs on with every key fresh. */
  onStateUnavailable?: (error: unknown) => void;
}

export interface Engine {
  providers: ReadonlyMap<string, ProviderRuntime>;
  rotator: Rotator;
  incidents: IncidentTracker;
  /** Settles once the state is restored into the pools (at once for a local store); never rejects. */
  ready: Promise<void>;
  /**
   * The daily reset, as its timer runs it at DAILY_RESET_TIME_UTC: every pool forgets cooldowns,
   * strikes and disabled keys (cooldowns whose end the provider stated stay). With a shared state
   * one process claims the reset and writes it; the others reset their memory only.
   */
  runDailyReset(): Promise<void>;
  /** Stops the daily reset timer and the watch of the state. */
  stop(): void;
}

const LAST_RESET_META = "last_daily_reset";
/** Longer than any spread between instances' clocks at the reset time, shorter than a day. */
const RESET_CLAIM_MS = 60 * 60 * 1000;

/** FIRST_BYTE_TIMEOUT's default, as the share of GLOBAL_TIMEOUT one attempt may use. */
export const DEFAULT_ATTEMPT_SHARE = 0.5;

export function createEngine(options: EngineOptions): Engine {
  const { state, resetMinuteUtc } = options;
  const providers = new Map<string, ProviderRuntime>();
  for (const provider of options.providers) {
    const pool = createKeyPool({
      provider: provider.name,
      keys: providerCredentials(provider),
      maxConcurrentPerKey: provider.maxConcurrentPerKey,
      sink: state,
      limits: limitsLookup(provider.name, provider.rateLimits),
      nextReset: (now) => nextDailyReset(now, resetMinuteUtc),
      // A shared store counts declared limits for the cluster, not per instance.
      sharedLimits: state.chargeLimits && state.adjustLimitTokens ? { charge: (windows, now) => state.chargeLimits!(windows, now), adjustTokens: (windows, second, tokens) => state.adjustLimitTokens!(windows, second, tokens) } : undefined,
    });
    providers.set(provider.name, { settings: provider, pool, adapter: adapterFor(provider.family) });
  }

  // A provider that is down is down for every instance sharing the keys.
  const incidents = createIncidentTracker({ onChange: (provider, incident) => state.shareIncident?.(provider, incident) });
  const rotator = createRotator({
    usage: state,
    incidents,
    resetMinuteUtc,
    transientBackoffMs: options.transientBackoffMs,
    attemptShare: options.attemptShare,
    // A shared store makes MAX_CONCURRENT_REQUESTS_PER_KEY a cap for the cluster, not per instance.
    slots: state.acquireSlot ? (scope, cap) => state.acquireSlot!(scope, cap) : undefined,
  });
  const runDailyReset = async (): Promise<void> => {
    const boundary = lastDailyReset(Date.now(), resetMinuteUtc);
    const ours = state.claim ? await state.claim(`daily-reset:${boundary}`, RESET_CLAIM_MS) : true;
    for (const { pool } of providers.values()) pool.reset({ keepPinned: true, writeThrough: ours });
    incidents.clear();
    // A failed write costs only a repeated catch-up at the next start.
    if (ours) await Promise.resolve(state.setMeta(LAST_RESET_META, String(Date.now()))).catch(() => {});
    options.onReset?.({ caughtUp: false });
  };
  const stopReset = scheduleDailyReset({ resetMinuteUtc, onReset: () => void runDailyReset() });
  const unwatch = state.watchKeyState?.((change) => {
    if (change.kind === "incident") return incidents.apply(change.provider, change.until > Date.now() ? { until: change.until, message: change.message } : undefined);
    const provider = change.kind === "saved" ? change.record.provider : change.provider;
    if (provider === undefined) for (const { pool } of providers.values()) pool.apply(change);
    else providers.get(provider)?.pool.apply(change);
  });

  const restore = (records: KeyStateRecord[]): void => {
    for (const record of records) providers.get(record.provider)?.pool.apply({ kind: "saved", record });
  };
  let ready: Promise<void>;
  try {
    const started = whenReady(catchUpDailyReset(state, resetMinuteUtc, options.onReset), () => whenReady(state.loadKeyState(), restore));
    ready = started instanceof Promise ? started.catch((error: unknown) => options.onStateUnavailable?.(error)) : Promise.resolve();
  } catch (error) {
    options.onStateUnavailable?.(error);
    ready = Promise.resolve();
  }

  return {
    providers,
    rotator,
    incidents,
    ready,
    runDailyReset,
    stop() {
      stopReset();
      unwatch?.();
    },
  };
}

/**
 * Started after a reset boundary that nothing saw: clear what that reset would have cleared — all
 * key state except cooldowns whose end the provider stated and which are still running.
 */
function catchUpDailyReset(state: EngineState, resetMinuteUtc: number, onReset: EngineOptions["onReset"]): Awaitable<void> {
  const now = Date.now();
  const boundary = lastDailyReset(now, resetMinuteUtc);
  return whenReady(state.getMeta(LAST_RESET_META), (lastText) => {
    const last = Number(lastText ?? 0);
    if (last >= boundary) return;
    if (last > 0) onReset?.({ caughtUp: true });
    return whenReady(state.loadKeyState(), (records) => {
      for (const record of records) {
        if (!(record.pinned && record.until > now)) state.clearKeyState(record.provider, record.keyId, record.model);
      }
      return state.setMeta(LAST_RESET_META, String(now));
    });
  });
}
