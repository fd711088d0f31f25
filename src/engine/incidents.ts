/**
 * Provider incidents. When most keys of one provider fail the same transient way within a few
 * seconds and none succeeds meanwhile, the provider (or the network to it) is down, not the keys:
 * pause the provider briefly instead of burning through the pool, and say so in the answer.
 *
 * A few bad keys are not an incident — their circuits take them out (see the key pool) while the
 * healthy keys keep serving — so an incident needs failures from more than half of the pool, and
 * any success both resets the count and ends an incident at once: a key that just answered is
 * proof the provider is up.
 *
 * `onChange` hears each incident this tracker declares and each it ends (a success, a clear), so
 * other processes sharing the keys can pause too; `apply` takes theirs in without telling back.
 */

export interface IncidentOptions {
  /** Distinct keys that must fail within the window (and more than half of the pool). */
  distinctKeys?: number;
  windowMs?: number;
  pauseMs?: number;
  now?: () => number;
  /** An incident declared here (`incident`), or ended here before its time (undefined). */
  onChange?: (provider: string, incident: Incident | undefined) => void;
}

export interface Incident {
  until: number;
  message: string;
}

export interface IncidentTracker {
  /** Note a transient failure of one of `poolSize` keys; returns the incident if this failure declared one. */
  noteTransient(provider: string, keyId: string, status: number, poolSize: number): Incident | undefined;
  /** A key of the provider answered: forget the failures counted so far and end any incident. */
  noteSuccess(provider: string): void;
  /** The incident pausing this provider right now, if any. */
  active(provider: string): Incident | undefined;
  clear(provider?: string): void;
  /** An incident declared (or ended: undefined) elsewhere; `onChange` is not told. */
  apply(provider: string, incident: Incident | undefined): void;
}

export function createIncidentTracker(options: IncidentOptions = {}): IncidentTracker {
  const distinctKeys = options.distinctKeys ?? 3;
  const windowMs = options.windowMs ?? 10_000;
  const pauseMs = options.pauseMs ?? 5_000;
  const clock = options.now ?? Date.now;
  /** Per provider: the latest transient failure time of each key that failed since the last success. */
  const recent = new Map<string, Map<string, number>>();
  const incidents = new Map<string, Incident>();

  return {
    noteTransient(provider, keyId, status, poolSize) {
      const now = clock();
      let failed = recent.get(provider);
      if (!failed) recent.set(provider, (failed = new Map()));
      // Re-inserted so the map stays in failure-time order and the stale ones are at its front.
      failed.delete(keyId);
      failed.set(keyId, now);
      for (const [key, at] of failed) {
        if (now - at < windowMs) break;
        failed.delete(key);
      }
      const keys = failed.size;
      if (keys < distinctKeys || keys * 2 <= poolSize) return undefined;
      recent.delete(provider);
      const what = status === 0 ? "without an answer" : `with HTTP ${status}`;
      const incident: Incident = {
        until: now + pauseMs,
        message: `${provider} looks down: ${keys} of its ${poolSize} keys failed ${what} within ${windowMs / 1000} s and none succeeded, so the proxy pauses ${provider} for ${pauseMs / 1000} s instead of blaming the keys`,
      };
      incidents.set(provider, incident);
      options.onChange?.(provider, incident);
      return incident;
    },
    noteSuccess(provider) {
      // On every successful answer: two lookups when nothing is pending.
      if (recent.has(provider)) recent.delete(provider);
      if (incidents.has(provider)) {
        incidents.delete(provider);
        options.onChange?.(provider, undefined);
      }
    },
    active(provider) {
      const incident = incidents.get(provider);
      if (!incident) return undefined;
      if (incident.until > clock()) return incident;
      incidents.delete(provider);
      return undefined;
    },
    clear(provider) {
      for (const name of provider === undefined ? [...incidents.keys()] : incidents.has(provider) ? [provider] : []) options.onChange?.(name, undefined);
      if (provider === undefined) {
        incidents.clear();
        recent.clear();
      } else {
        incidents.delete(provider);
        recent.delete(provider);
      }
    },
    apply(provider, incident) {
      if (incident === undefined) incidents.delete(provider);
      else incidents.set(provider, incident);
    },
  };
}
