/**
 * The engine as every face starts it: a key pool per provider (restored from the state), one
 * incident tracker, the rotator, the daily reset on its schedule — and the catch-up of a reset that
 * passed while nothing ran. The server and the library both call this; neither builds pools itself.
 */

import type { ProviderSettings } from "../config/discover-providers.ts";
import { keyId, maskKey } from "../key-identity.ts";
import { lastDailyReset, scheduleDailyReset } from "../engine/daily-reset.ts";
import { createIncidentTracker, type IncidentTracker } from "../engine/incidents.ts";
import { createKeyPool } from "../engine/key-pool.ts";
import { createRotator, type Rotator } from "../engine/rotate.ts";
import { adapterFor } from "../providers/adapter-for-family.ts";
import type { Store } from "../store/types.ts";
import type { ProviderRuntime } from "./provider-runtime.ts";

/** What the engine keeps: usage rows, key state, and when the last daily reset ran. */
export type EngineState = Pick<Store, "addUsage" | "saveKeyState" | "clearKeyState" | "clearAllKeyState" | "loadKeyState" | "getMeta" | "setMeta">;

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
}

export interface Engine {
  providers: ReadonlyMap<string, ProviderRuntime>;
  rotator: Rotator;
  incidents: IncidentTracker;
  /** Stops the daily reset timer. */
  stop(): void;
}

const LAST_RESET_META = "last_daily_reset";

/** FIRST_BYTE_TIMEOUT's default, as the share of GLOBAL_TIMEOUT one attempt may use. */
export const DEFAULT_ATTEMPT_SHARE = 0.5;

export function createEngine(options: EngineOptions): Engine {
  const { state, resetMinuteUtc } = options;
  catchUpDailyReset(state, resetMinuteUtc, options.onReset);

  const restored = state.loadKeyState();
  const providers = new Map<string, ProviderRuntime>();
  for (const provider of options.providers) {
    const pool = createKeyPool({
      provider: provider.name,
      keys: provider.keys.map((secret) => ({ secret, id: keyId(secret), masked: maskKey(secret) })),
      maxConcurrentPerKey: provider.maxConcurrentPerKey,
      restore: restored.filter((record) => record.provider === provider.name),
      sink: state,
    });
    providers.set(provider.name, { settings: provider, pool, adapter: adapterFor(provider.family) });
  }

  const incidents = createIncidentTracker();
  const rotator = createRotator({ usage: state, incidents, resetMinuteUtc, transientBackoffMs: options.transientBackoffMs, attemptShare: options.attemptShare });
  const stopReset = scheduleDailyReset({
    resetMinuteUtc,
    onReset: () => {
      for (const { pool } of providers.values()) pool.reset({ keepPinned: true });
      incidents.clear();
      state.setMeta(LAST_RESET_META, String(Date.now()));
      options.onReset?.({ caughtUp: false });
    },
  });
  return { providers, rotator, incidents, stop: stopReset };
}

/**
 * Started after a reset boundary that nothing saw: clear what that reset would have cleared — all
 * key state except cooldowns whose end the provider stated and which are still running.
 */
function catchUpDailyReset(state: EngineState, resetMinuteUtc: number, onReset: EngineOptions["onReset"]): void {
  const now = Date.now();
  const boundary = lastDailyReset(now, resetMinuteUtc);
  const last = Number(state.getMeta(LAST_RESET_META) ?? 0);
  if (last >= boundary) return;
  if (last > 0) onReset?.({ caughtUp: true });
  for (const record of state.loadKeyState()) {
    if (!(record.pinned && record.until > now)) state.clearKeyState(record.provider, record.keyId, record.model);
  }
  state.setMeta(LAST_RESET_META, String(now));
}
