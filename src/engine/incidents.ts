/**
 * Provider incidents. When several distinct keys of one provider fail the same transient way within
 * a few seconds, the provider (or the network to it) is down, not the keys: pause the provider
 * briefly instead of burning through the pool, and say so in the answer.
 */

export interface IncidentOptions {
  /** Distinct keys that must fail within the window. */
  distinctKeys?: number;
  windowMs?: number;
  pauseMs?: number;
  now?: () => number;
}

export interface Incident {
  until: number;
  message: string;
}

export interface IncidentTracker {
  /** Note a transient failure; returns the incident if this failure declared one. */
  noteTransient(provider: string, keyId: string, status: number): Incident | undefined;
  /** The incident pausing this provider right now, if any. */
  active(provider: string): Incident | undefined;
  clear(provider?: string): void;
}

interface RecentFailure {
  at: number;
  keyId: string;
}

export function createIncidentTracker(options: IncidentOptions = {}): IncidentTracker {
  const distinctKeys = options.distinctKeys ?? 3;
  const windowMs = options.windowMs ?? 10_000;
  const pauseMs = options.pauseMs ?? 5_000;
  const clock = options.now ?? Date.now;
  const recent = new Map<string, RecentFailure[]>();
  const incidents = new Map<string, Incident>();

  return {
    noteTransient(provider, keyId, status) {
      const now = clock();
      const list = (recent.get(provider) ?? []).filter((failure) => now - failure.at < windowMs);
      list.push({ at: now, keyId });
      recent.set(provider, list);
      const keys = new Set(list.map((failure) => failure.keyId)).size;
      if (keys < distinctKeys) return undefined;
      recent.delete(provider);
      const what = status === 0 ? "without an answer" : `with HTTP ${status}`;
      const incident: Incident = {
        until: now + pauseMs,
        message: `${provider} looks down: ${keys} different keys failed ${what} within ${windowMs / 1000} s, so the proxy pauses ${provider} for ${pauseMs / 1000} s instead of blaming the keys`,
      };
      incidents.set(provider, incident);
      return incident;
    },
    active(provider) {
      const incident = incidents.get(provider);
      if (!incident) return undefined;
      if (incident.until > clock()) return incident;
      incidents.delete(provider);
      return undefined;
    },
    clear(provider) {
      if (provider === undefined) {
        incidents.clear();
        recent.clear();
      } else {
        incidents.delete(provider);
        recent.delete(provider);
      }
    },
  };
}
