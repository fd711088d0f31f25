/**
 * The engine's view of a key, for stats and the decision trace. Plain types only; the outcome of
 * an attempt (what a failure is) is in ../outcome.ts, which providers share without the engine.
 */

/** Snapshot of one key's standing, for `/v1/providers`, stats and the decision trace. */
export interface KeyStanding {
  id: string;
  masked: string;
  inFlight: number;
  disabledUntil: number;
  disabledReason?: string;
  coolingModels: { model: string; until: number; reason: string; strikes: number }[];
  /**
   * Models for which the key's circuit has opened since its last success: `open` until `until`,
   * then `half_open` (the next request is its trial).
   */
  circuits: { model: string; state: "open" | "half_open"; until: number; failures: number; reason: string }[];
}
