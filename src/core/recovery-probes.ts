/**
 * Recovery probes: a key disabled as invalid or out of credit is not left out until the daily reset
 * if it works again sooner (a billing problem fixed, a key re-enabled in the console). Each disabled
 * key is probed with its provider's cheapest authenticated call (the family's model listing, the
 * same request as the setup's key check) on a bounded backoff (RECOVERY_PROBES; by default 10 min,
 * 30 min, 2 h, then every 6 h) and restored when the call succeeds. Cooling keys are never probed: they come
 * back by time. A key that is disabled again after a restore continues its backoff where it was,
 * so a key that lists models but cannot serve costs at most one request per step; the daily reset
 * starts every key's backoff afresh.
 */

import type { PoolKey } from "../engine/key-pool.ts";
import { hideSecret } from "../credential.ts";
import { CredentialFailure } from "../providers/attempts.ts";
import { getUpstreamJson } from "../providers/upstream-http.ts";
import type { ProviderRuntime } from "./provider-runtime.ts";

const PROBE_TIMEOUT_MS = 10_000;

/** One probe, for the failure log and the console. */
export interface ProbeEvent {
  provider: string;
  keyId: string;
  masked: string;
  /** 1 for the key's first probe since it was disabled (or since the daily reset). */
  probe: number;
  restored: boolean;
  /** The listing's HTTP status; 0 when no answer came. */
  status: number;
  message: string;
  /** When the key is probed again, if it stays disabled. */
  nextAt?: number;
}

export interface RecoveryProbeOptions {
  providers: ReadonlyMap<string, ProviderRuntime>;
  /** Waits after the key was found disabled, then between probes; the last one repeats. */
  scheduleMs: readonly number[];
  onProbe(event: ProbeEvent): void;
  now?: () => number;
}

export interface RecoveryProbes {
  /** Probe the disabled keys that are due; resolves when those probes are over. */
  tick(): Promise<void>;
  /** Forget every key's backoff (the daily reset). */
  forget(): void;
  /** Tick on a timer (as often as the shortest step needs, at most every 30 s) until stopped. */
  start(): void;
  stop(): void;
}

interface Backoff {
  probes: number;
  nextAt: number;
  running: boolean;
}

export function createRecoveryProbes(options: RecoveryProbeOptions): RecoveryProbes {
  const now = options.now ?? Date.now;
  const schedule = options.scheduleMs;
  const backoffs = new Map<string, Backoff>();
  let timer: ReturnType<typeof setInterval> | undefined;

  const stepMs = (probes: number): number => schedule[Math.min(probes, schedule.length - 1)]!;

  const probe = async (runtime: ProviderRuntime, slot: number, key: PoolKey, backoff: Backoff): Promise<void> => {
    backoff.running = true;
    try {
      const outcome = await listWith(runtime, key);
      backoff.probes += 1;
      // Restored or not, the next probe (should the key be disabled again) is the next step from now.
      backoff.nextAt = now() + stepMs(backoff.probes);
      if (outcome.ok) runtime.pool.restore(slot);
      options.onProbe({
        provider: runtime.settings.name,
        keyId: key.id,
        masked: key.masked,
        probe: backoff.probes,
        restored: outcome.ok,
        status: outcome.status,
        message: hideSecret(outcome.message, key),
        ...(outcome.ok ? {} : { nextAt: backoff.nextAt }),
      });
    } finally {
      backoff.running = false;
    }
  };

  return {
    async tick() {
      const due: Promise<void>[] = [];
      for (const runtime of options.providers.values()) {
        for (const { slot, key } of runtime.pool.disabledKeys()) {
          const id = `${runtime.settings.name}\0${key.id}`;
          let backoff = backoffs.get(id);
          if (backoff === undefined) backoffs.set(id, (backoff = { probes: 0, nextAt: now() + stepMs(0), running: false }));
          if (!backoff.running && now() >= backoff.nextAt) due.push(probe(runtime, slot, key, backoff));
        }
      }
      await Promise.all(due);
    },
    forget() {
      backoffs.clear();
    },
    start() {
      if (timer !== undefined) return;
      const every = Math.min(30_000, Math.max(100, Math.floor(Math.min(...schedule) / 4)));
      timer = setInterval(() => void this.tick(), every);
      (timer as { unref?: () => void }).unref?.();
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** The family's key check; a 2xx is a working key, anything else (or no answer) is not yet. */
async function listWith(runtime: ProviderRuntime, key: PoolKey): Promise<{ ok: boolean; status: number; message: string }> {
  let request;
  try {
    request = await runtime.adapter.keyCheckRequest(key);
  } catch (error) {
    if (error instanceof CredentialFailure) return { ok: false, status: error.failure.status, message: error.failure.message };
    throw error;
  }
  const answer = await getUpstreamJson({ url: request.url, headers: request.headers, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS * 2), timeoutMs: PROBE_TIMEOUT_MS, what: `the ${runtime.settings.name} model list` });
  if (answer.ok) return { ok: true, status: 200, message: "the model list answered: the key works again" };
  return { ok: false, status: answer.failure.status, message: answer.failure.message };
}
