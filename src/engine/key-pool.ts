/**
 * The keys of one provider and who holds them. Each model requested gets a lane: an indexed heap
 * of the keys that may serve it now, ordered by in-flight requests for this model, then in-flight
 * requests overall, then least recently used. Keys cooling for that model sit in a second heap
 * ordered by the time they come back. Acquiring, releasing and cooling are O(lanes · log keys),
 * never a scan of the keys, so 10,000 keys select as fast as one.
 *
 * Each lane is also a circuit breaker per key: a key that keeps failing transiently for a model
 * (5xx, resets, timeouts) leaves the ready heap for a rising backoff, then comes back half-open —
 * the next request to take it is its one trial, and only that trial's outcome closes the circuit
 * or opens it again for longer. An open circuit is a preference, not a ban: a request that has no
 * ready key left may still try one such key (the one due back first), so a small pool with a
 * flaky provider keeps being served.
 *
 * Cooldowns and disabled keys are written to the state as they happen; `apply` takes the same
 * facts the other way — the state loaded at start, or a change another process made to a shared
 * store — into memory, without writing them back. Circuits stay this process's own.
 */

import { circuitBackoffMs, failuresToOpenCircuit } from "./cooldown-policy.ts";
import { createIndexedHeap, type IndexedHeap } from "./indexed-heap.ts";
import { createLimitLedger, type LimitCharge, type LimitsFor, type LimitUse, type SharedLimitWindow, type SharedRefusal } from "./declared-limits.ts";
import type { KeyStateChange, KeyStateRecord, Store } from "../store/types.ts";
import type { KeyStanding } from "./types.ts";
import type { Credential } from "../credential.ts";

/** One configured key (its endpoint and settings with it), already hashed and masked by the caller. */
export type PoolKey = Credential;

/** Where the pool writes state changes so a restart remembers them. */
export type KeyStateSink = Pick<Store, "saveKeyState" | "clearKeyState" | "clearAllKeyState">;

export interface KeyPoolOptions {
  provider: string;
  keys: readonly PoolKey[];
  /** Hard cap of in-flight requests per (key, model). */
  maxConcurrentPerKey?: number;
  sink?: KeyStateSink;
  /** Declared limits (`RATE_LIMIT_<P>…`) of each model: a key at one is passed over until it frees. */
  limits?: LimitsFor;
  /** The first daily reset after `now`, where a day's limits end (required with `limits`). */
  nextReset?: (now: number) => number;
  /** Cluster mode: the declared limits are counted across every process sharing the keys. */
  sharedLimits?: SharedLimits;
  now?: () => number;
}

/** A count of declared limits shared by several processes (Redis in cluster mode). */
export interface SharedLimits {
  /** Count the request in every window, or none; undefined when it fits, else which window refused (its index) and when it frees. */
  charge(windows: readonly SharedLimitWindow[], now: number): Promise<SharedRefusal | undefined>;
  /** Correct the token windows by `tokens` (the answer's count minus what was reserved); fire-and-forget. */
  adjustTokens(windows: readonly SharedLimitWindow[], second: number, tokens: number): void;
}

export interface Lease {
  readonly slot: number;
  readonly secret: string;
  readonly keyId: string;
  readonly masked: string;
  /** The key as the upstream request needs it: secret, endpoint, settings. */
  readonly credential: Credential;
  readonly model: string;
  /**
   * The key's circuit for this model was open or half-open: this lease is its trial, and its
   * outcome decides whether the circuit closes.
   */
  readonly trial: boolean;
  /** What the request was charged against the model's declared limits, when it has any. */
  readonly limitCharge?: LimitCharge;
  /** Give the key back; safe to call more than once. A charge not settled by then is settled with no tokens (nothing was served). */
  release(): void;
}

export type Acquisition =
  /** `fallback`: no ready key was left, so this is a key whose circuit is open (see `AcquireOptions.fallback`). */
  | { kind: "lease"; lease: Lease; fallback: boolean }
  /**
   * Every untried key is cooling or disabled beyond the deadline; `retryAt` is the earliest return.
   * `limit`: what holds back the first to return is a declared limit, in words.
   */
  | { kind: "cooling"; retryAt: number; limit?: string }
  /** Every key that could serve was already tried by this request. */
  | { kind: "exhausted" }
  /** Usable keys exist but all are at their concurrency cap until the deadline. */
  | { kind: "at_capacity" }
  | { kind: "aborted" };

export interface AcquireOptions {
  /** Slots this request already tried. */
  exclude: ReadonlySet<number>;
  /** Epoch ms after which waiting is pointless. */
  deadline: number;
  signal?: AbortSignal;
  /**
   * When no ready key is left, lease the untried key whose open circuit is due back first instead
   * of giving up. A request should allow this once: one trial per request, not a sweep of every
   * failing key.
   */
  fallback?: boolean;
  /** The key to take when it is ready and below its cap (prompt-cache affinity); else the usual best. */
  preferKeyId?: string;
}

/** What a transient failure did to the key's circuit for the model. */
export interface CircuitChange {
  /** Consecutive transient failures of (key, model). */
  failures: number;
  /** Set when the circuit is now open: the key is back (half-open) at this time. */
  openUntil?: number;
}

/** A key that cannot serve a model now, and why. */
export interface PassedOver {
  masked: string;
  why: "disabled" | "cooling" | "circuit_open";
  until: number;
  reason: string;
}

export interface PoolStanding {
  keys: KeyStanding[];
  healthy: number;
  cooling: number;
  disabled: number;
  /** Keys neither disabled nor cooling whose circuit is open or half-open for some model. */
  failing: number;
}

export interface KeyPool {
  readonly provider: string;
  readonly size: number;
  /** MAX_CONCURRENT_REQUESTS_PER_KEY: in-flight requests per (key, model), when capped. */
  readonly cap: number | undefined;
  acquire(model: string, options: AcquireOptions): Promise<Acquisition>;
  /**
   * Take (key, model) out until `until`, remembering its current strikes; a key already out longer
   * keeps its later return. `pinned`: the provider said when it ends, so the proxy's daily reset
   * leaves it alone.
   */
  coolDown(slot: number, model: string, until: number, reason: string, pinned?: boolean): void;
  /**
   * Cool `model` on the other keys of `slot`'s quota group (keys that draw on one quota, such as
   * one Vertex project's) until `until`, leaving any that is already out longer; returns how many
   * were cooled.
   */
  coolQuotaGroup(slot: number, model: string, until: number, reason: string, pinned?: boolean): number;
  /**
   * A lease's answer was served using `tokens`: its charge against declared limits is settled with
   * them (once; a lease released unsettled counts none).
   */
  settleLimit(lease: Lease, tokens: number): void;
  /** What each key (by slot) and the provider as a whole have used of their declared limits now; empty without limits. */
  limitUse(): { keys: Map<number, LimitUse[]>; provider: LimitUse[] };
  /** Count one more strike for (key, model) and return the new count. */
  addStrike(slot: number, model: string): number;
  /**
   * A transient failure of (key, model): count it, and open the circuit once the run of failures
   * is long enough (at once for a timeout: a hung key costs every request that meets it).
   */
  noteTransient(slot: number, model: string, failure: { timedOut: boolean; reason: string }): CircuitChange;
  /** A success: forget the strikes and the failure run of (key, model) and close its circuit. */
  noteSuccess(slot: number, model: string): void;
  /** Whether a ready key other than `slot`, not in `exclude` and below its cap, could serve `model` now. */
  hasOtherReady(model: string, exclude: ReadonlySet<number>, slot: number): boolean;
  /** Every key is disabled right now (the daily reset or a key reset is what brings one back). */
  allDisabled(): boolean;
  /** Take the key out for every model until `until`. */
  disable(slot: number, until: number, reason: string): void;
  /** The keys disabled now, soonest back first: O(disabled keys). */
  disabledKeys(): { slot: number; key: PoolKey; until: number; reason: string }[];
  /** Bring a disabled key back for every model (a recovery probe found it working), written through; its cooldowns stay. */
  restore(slot: number): void;
  /**
   * Clear cooldowns, strikes and disabled state of one key (by id) or of all keys; returns how many
   * keys it touched. `keepPinned` (the daily reset) spares cooldowns whose end the provider stated.
   */
  reset(options?: { keyId?: string; keepPinned?: boolean; writeThrough?: boolean }): number;
  /** The earliest time any key could serve `model` again (now when one is ready). */
  earliestAvailable(model: string): number;
  /** Up to `limit` enabled keys in configured order, for side calls such as model listing. */
  healthyKeys(limit: number): PoolKey[];
  /**
   * A key-state change made elsewhere (loaded at start, or another process's), applied in memory
   * and not written back; a change for another provider or an unknown key is ignored.
   */
  apply(change: KeyStateChange): void;
  /** Keys disabled, or cooling for `model`, in configured order: O(such keys), not O(all keys). */
  passedOver(model: string): PassedOver[];
  standing(): PoolStanding;
}

const MAX_IDLE_LANES = 256;

interface Lane {
  readonly model: string;
  readonly inFlight: Int32Array;
  readonly coolUntil: Float64Array;
  readonly strikes: Int32Array;
  readonly reasons: Map<number, string>;
  /** Slots whose cooldown end the provider stated. */
  readonly pinned: Set<number>;
  readonly ready: IndexedHeap;
  readonly cooling: IndexedHeap;
  /** Consecutive transient failures per slot; a success resets it. */
  readonly failureRun: Int32Array;
  /** Slots with a failure run: open, half-open or merely suspect. */
  readonly failing: Set<number>;
  /** Times the circuit opened since the last success: the step of its backoff. */
  readonly openings: Int32Array;
  /** When an open circuit turns half-open; +Infinity while its trial is out. */
  readonly openUntil: Float64Array;
  readonly openReasons: Map<number, string>;
  /** Slots whose circuit is open, or half-open with a trial out, ordered by `openUntil`. */
  readonly open: IndexedHeap;
  /** Slots whose trial lease is out and has not reported an outcome yet. */
  readonly trials: Set<number>;
  /** Cooling slots held back by a declared limit rather than by the provider, with the limit in words. */
  readonly limited: Map<number, string>;
  /** Cluster mode: a provider-wide window counted across the cluster is full until then, for every key alike. */
  providerHeldUntil: number;
  busy: number;
  struckKeys: number;
  readonly waiters: Set<() => void>;
}

export function createKeyPool(options: KeyPoolOptions): KeyPool {
  const { provider, keys, maxConcurrentPerKey: cap, sink } = options;
  const clock = options.now ?? Date.now;
  const count = keys.length;
  const slotById = new Map(keys.map((key, slot) => [key.id, slot]));
  const inFlightTotal = new Int32Array(count);
  const lastUsed = new Float64Array(count);
  const disabledUntil = new Float64Array(count);
  const disabledReason = new Map<number, string>();
  const disabled = createIndexedHeap(count, (a, b) => disabledUntil[a]! < disabledUntil[b]!);
  const lanes = new Map<string, Lane>();
  const quotaSiblings = siblingsByQuotaGroup(keys);
  const ledger = options.limits === undefined ? undefined : createLimitLedger({
    provider,
    limitsFor: options.limits,
    keyIdOf: (slot) => keys[slot]!.id,
    keyCount: count,
    nextReset: options.nextReset ?? (() => Number.POSITIVE_INFINITY),
  });
  const sharedLimits = options.sharedLimits;
  /** Charges of leases still out whose answer has not been settled yet. */
  const unsettled = new Set<LimitCharge>();
  let useSequence = 0;

  const createLane = (model: string): Lane => {
    const inFlight = new Int32Array(count);
    const coolUntil = new Float64Array(count);
    const ready = createIndexedHeap(count, (a, b) => {
      const byModel = inFlight[a]! - inFlight[b]!;
      if (byModel !== 0) return byModel < 0;
      const overall = inFlightTotal[a]! - inFlightTotal[b]!;
      if (overall !== 0) return overall < 0;
      return lastUsed[a]! < lastUsed[b]! || (lastUsed[a] === lastUsed[b] && a < b);
    });
    const cooling = createIndexedHeap(count, (a, b) => coolUntil[a]! < coolUntil[b]!);
    const openUntil = new Float64Array(count);
    const open = createIndexedHeap(count, (a, b) => openUntil[a]! < openUntil[b]!);
    for (let slot = 0; slot < count; slot++) if (disabledUntil[slot] === 0) ready.push(slot);
    const lane: Lane = {
      model,
      inFlight,
      coolUntil,
      strikes: new Int32Array(count),
      reasons: new Map(),
      pinned: new Set(),
      ready,
      cooling,
      failureRun: new Int32Array(count),
      failing: new Set(),
      openings: new Int32Array(count),
      openUntil,
      openReasons: new Map(),
      open,
      trials: new Set(),
      limited: new Map(),
      providerHeldUntil: 0,
      busy: 0,
      struckKeys: 0,
      waiters: new Set(),
    };
    return lane;
  };

  const isIdle = (lane: Lane): boolean =>
    lane.busy === 0 && lane.cooling.size === 0 && lane.struckKeys === 0 && lane.failing.size === 0 && lane.waiters.size === 0;

  const laneFor = (model: string): Lane => {
    let lane = lanes.get(model);
    if (lane) return lane;
    // Unbounded distinct model names must not grow memory without bound; an idle lane holds
    // nothing that cannot be rebuilt, so drop one before adding another.
    if (lanes.size >= MAX_IDLE_LANES) {
      for (const [name, candidate] of lanes) {
        if (isIdle(candidate)) {
          lanes.delete(name);
          break;
        }
      }
    }
    lane = createLane(model);
    lanes.set(model, lane);
    return lane;
  };

  const wakeOne = (lane: Lane): void => {
    for (const wake of lane.waiters) {
      wake();
      return;
    }
  };

  const wakeAll = (): void => {
    for (const lane of lanes.values()) for (const wake of [...lane.waiters]) wake();
  };

  const reorderEverywhere = (slot: number): void => {
    for (const lane of lanes.values()) lane.ready.update(slot);
  };

  /** The one rule for being selectable: not disabled, not cooling and no open circuit for the lane's model. */
  const makeReady = (lane: Lane, slot: number): void => {
    if (disabledUntil[slot] !== 0 || lane.cooling.has(slot) || lane.open.has(slot) || lane.ready.has(slot)) return;
    lane.ready.push(slot);
  };

  const enable = (slot: number): void => {
    disabledUntil[slot] = 0;
    disabledReason.delete(slot);
    disabled.remove(slot);
    for (const lane of lanes.values()) makeReady(lane, slot);
  };

  const endCooling = (lane: Lane, slot: number): void => {
    lane.cooling.remove(slot);
    lane.coolUntil[slot] = 0;
    lane.reasons.delete(slot);
    lane.pinned.delete(slot);
    lane.limited.delete(slot);
    makeReady(lane, slot);
  };

  /** Leave the open heap: half-open when a failure run remains, closed after a success or a reset. */
  const endOpen = (lane: Lane, slot: number): void => {
    lane.open.remove(slot);
    lane.openUntil[slot] = 0;
    lane.trials.delete(slot);
    makeReady(lane, slot);
  };

  const closeCircuit = (lane: Lane, slot: number): void => {
    lane.failureRun[slot] = 0;
    lane.openings[slot] = 0;
    lane.failing.delete(slot);
    lane.openReasons.delete(slot);
    if (lane.open.has(slot)) endOpen(lane, slot);
    else lane.trials.delete(slot);
  };

  const restoreExpired = (lane: Lane, now: number): void => {
    for (let top = disabled.peek(); top !== undefined && disabledUntil[top]! <= now; top = disabled.peek()) {
      enable(top);
      sink?.clearKeyState(provider, keys[top]!.id, "");
    }
    for (let top = lane.cooling.peek(); top !== undefined && lane.coolUntil[top]! <= now; top = lane.cooling.peek()) {
      endCooling(lane, top);
    }
    for (let top = lane.open.peek(); top !== undefined && lane.openUntil[top]! <= now; top = lane.open.peek()) {
      endOpen(lane, top);
    }
  };

  /**
   * Best slot in `heap` that the request has not tried yet (and that `usable` accepts); popped
   * entries are pushed back.
   */
  const bestUntried = (heap: IndexedHeap, exclude: ReadonlySet<number>, usable?: (slot: number) => boolean): number => {
    if (exclude.size === 0 && !usable) return heap.peek() ?? -1;
    const skipped: number[] = [];
    let found = -1;
    for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
      if (!exclude.has(top) && (!usable || usable(top))) {
        found = top;
        break;
      }
      skipped.push(heap.pop()!);
    }
    for (const slot of skipped) heap.push(slot);
    return found;
  };

  const earliestReturn = (lane: Lane, exclude: ReadonlySet<number>): number => {
    let earliest = Number.POSITIVE_INFINITY;
    const cooling = bestUntried(lane.cooling, exclude);
    if (cooling >= 0) earliest = lane.coolUntil[cooling]!;
    const off = bestUntried(disabled, exclude);
    if (off >= 0) earliest = Math.min(earliest, Math.max(disabledUntil[off]!, lane.coolUntil[off]!));
    return earliest;
  };

  /** When the model's declared limits hold `slot` back, cool it for the lane until it frees (not written through: the counts are the state). */
  const heldByLimit = (lane: Lane, slot: number, now: number): boolean => {
    const hold = ledger!.keyHold(slot, lane.model, now);
    if (hold === undefined) return false;
    holdBack(lane, slot, hold.until, hold.limit);
    return true;
  };

  const holdBack = (lane: Lane, slot: number, until: number, limit: string): void => {
    applyCooldown(lane, slot, until, `at its declared limit: ${limit}`, false);
    lane.limited.set(slot, limit);
  };

  /** The declared limit that holds back the first untried key to return, when that is what does. */
  const limitOfFirstReturn = (lane: Lane, exclude: ReadonlySet<number>, retryAt: number): string | undefined => {
    const first = bestUntried(lane.cooling, exclude);
    if (first < 0 || lane.coolUntil[first]! > retryAt) return undefined;
    return lane.limited.get(first);
  };

  const settleCharge = (charge: LimitCharge, tokens: number | undefined): void => {
    if (!unsettled.delete(charge)) return;
    const change = ledger!.settleTokens(charge, tokens, clock());
    if (change !== 0 && sharedLimits !== undefined) sharedLimits.adjustTokens(charge.shared, Math.floor(charge.at / 1000), change);
  };

  /** `declared`: the lane's model has declared limits, so the lease is charged against them. */
  const take = (lane: Lane, slot: number, now: number, declared: boolean): Lease => {
    // A key with a failure run that reached the open threshold is half-open (or open, when taken
    // as a fallback): this lease is its trial, and no other request gets it from the ready heap
    // until the trial reports back.
    // A typed-array read first: on the hot path almost no key has a failure run.
    const trial = lane.failureRun[slot] !== 0 && lane.openReasons.has(slot);
    if (trial) {
      lane.ready.remove(slot);
      lane.openUntil[slot] = Number.POSITIVE_INFINITY;
      if (lane.open.has(slot)) lane.open.update(slot);
      else lane.open.push(slot);
      lane.trials.add(slot);
    }
    lane.inFlight[slot]! += 1;
    lane.busy += 1;
    inFlightTotal[slot]! += 1;
    lastUsed[slot] = ++useSequence;
    reorderEverywhere(slot);
    const key = keys[slot]!;
    const limitCharge = declared ? ledger!.charge(slot, lane.model, now, sharedLimits !== undefined) : undefined;
    if (limitCharge !== undefined) unsettled.add(limitCharge);
    let held = true;
    return {
      limitCharge,
      slot,
      secret: key.secret,
      keyId: key.id,
      masked: key.masked,
      credential: key,
      model: lane.model,
      trial,
      release() {
        if (!held) return;
        held = false;
        if (limitCharge !== undefined) settleCharge(limitCharge, undefined);
        lane.inFlight[slot]! -= 1;
        lane.busy -= 1;
        inFlightTotal[slot]! -= 1;
        // A trial that ended without a transient verdict (cancelled, rate-limited, a request
        // fault) leaves the key half-open for the next request to try.
        if (lane.trials.has(slot)) endOpen(lane, slot);
        reorderEverywhere(slot);
        wakeOne(lane);
      },
    };
  };

  const wait = (lane: Lane, until: number, signal: AbortSignal | undefined): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        lane.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, until - clock()));
      lane.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });

  const setStrikes = (lane: Lane, slot: number, strikes: number): void => {
    const before = lane.strikes[slot]!;
    lane.strikes[slot] = strikes;
    if (before === 0 && strikes > 0) lane.struckKeys += 1;
    if (before > 0 && strikes === 0) lane.struckKeys -= 1;
  };

  const applyCooldown = (lane: Lane, slot: number, until: number, reason: string, pinned: boolean): void => {
    lane.coolUntil[slot] = until;
    lane.reasons.set(slot, reason);
    lane.limited.delete(slot);
    if (pinned) lane.pinned.add(slot);
    else lane.pinned.delete(slot);
    lane.ready.remove(slot);
    if (lane.cooling.has(slot)) lane.cooling.update(slot);
    else lane.cooling.push(slot);
  };

  /**
   * Cool (key, lane's model) until `until` and write it through; a key already cooling until then or
   * later keeps its return (a shorter hint must not bring it back early). Whether it was cooled.
   */
  const coolSlot = (lane: Lane, slot: number, until: number, reason: string, pinned: boolean): boolean => {
    if (lane.cooling.has(slot) && lane.coolUntil[slot]! >= until) return false;
    applyCooldown(lane, slot, until, reason, pinned);
    sink?.saveKeyState({ provider, keyId: keys[slot]!.id, model: lane.model, until, strikes: lane.strikes[slot]!, reason, pinned });
    return true;
  };

  const applyDisable = (slot: number, until: number, reason: string): void => {
    disabledUntil[slot] = until;
    disabledReason.set(slot, reason);
    if (disabled.has(slot)) disabled.update(slot);
    else disabled.push(slot);
    for (const lane of lanes.values()) lane.ready.remove(slot);
  };

  const applySaved = (record: KeyStateRecord): void => {
    const slot = slotById.get(record.keyId);
    if (slot === undefined) return;
    const running = record.until > clock();
    if (record.model === "") {
      if (running) applyDisable(slot, record.until, record.reason);
      else if (disabledUntil[slot] !== 0) enable(slot);
      return;
    }
    const lane = laneFor(record.model);
    setStrikes(lane, slot, record.strikes);
    if (running) applyCooldown(lane, slot, record.until, record.reason, record.pinned);
    else if (lane.cooling.has(slot)) endCooling(lane, slot);
  };

  /** Clear the recorded state of one slot: the key (model "") or its cooldown and strikes for one model. */
  const applyCleared = (slot: number, model: string): void => {
    if (model === "") {
      if (disabledUntil[slot] !== 0) enable(slot);
      return;
    }
    const lane = lanes.get(model);
    if (!lane) return;
    if (lane.cooling.has(slot)) endCooling(lane, slot);
    setStrikes(lane, slot, 0);
  };

  return {
    provider,
    size: count,
    cap,

    async acquire(model, { exclude, deadline, signal, fallback = false, preferKeyId }) {
      const lane = laneFor(model);
      const declared = ledger !== undefined && ledger.limits(model) !== undefined;
      for (;;) {
        if (signal?.aborted) return { kind: "aborted" };
        const now = clock();
        restoreExpired(lane, now);
        let chosen = -1;
        let viaFallback = false;
        if (declared) {
          // A provider-wide limit holds every key back alike: wait for it, or say when it frees.
          const gate = lane.providerHeldUntil > now ? { until: lane.providerHeldUntil, limit: "a per-provider limit, counted across the cluster" } : ledger!.providerHold(model, now);
          if (gate !== undefined) {
            if (gate.until > deadline) return { kind: "cooling", retryAt: gate.until, limit: gate.limit };
            await wait(lane, gate.until, signal);
            continue;
          }
        }
        const preferred = preferKeyId === undefined ? undefined : slotById.get(preferKeyId);
        if (preferred !== undefined && lane.ready.has(preferred) && !exclude.has(preferred) && (cap === undefined || lane.inFlight[preferred]! < cap) && !(declared && heldByLimit(lane, preferred, now))) {
          chosen = preferred;
        }
        if (chosen < 0) {
          let best = bestUntried(lane.ready, exclude);
          // Each key found at its limit leaves the ready heap until it frees, so this loop runs once per key per limit period.
          while (declared && best >= 0 && heldByLimit(lane, best, now)) best = bestUntried(lane.ready, exclude);
          if (best >= 0) {
            if (cap !== undefined && lane.inFlight[best]! >= cap) {
              if (now >= deadline) return { kind: "at_capacity" };
              await wait(lane, deadline, signal);
              continue;
            }
            chosen = best;
          }
        }
        if (chosen < 0 && fallback && lane.open.size > 0) {
          // An open circuit may serve as a last resort; a key cooling, disabled, at its cap or at a declared limit may not.
          const usable = (slot: number): boolean =>
            disabledUntil[slot] === 0 && !lane.cooling.has(slot) && (cap === undefined || lane.inFlight[slot]! < cap) && !(declared && ledger!.keyHold(slot, model, now) !== undefined);
          chosen = bestUntried(lane.open, exclude, usable);
          viaFallback = chosen >= 0;
        }
        if (chosen >= 0) {
          const lease = take(lane, chosen, now, declared);
          if (sharedLimits === undefined || lease.limitCharge === undefined) return { kind: "lease", lease, fallback: viaFallback };
          // The other processes count too: the request goes only if the shared count has room.
          const refused = await sharedLimits.charge(lease.limitCharge.shared, now);
          if (refused === undefined || refused.freesAt <= clock()) return { kind: "lease", lease, fallback: viaFallback };
          // Never sent: the charge is taken back whole, not settled.
          unsettled.delete(lease.limitCharge);
          ledger!.refund(lease.limitCharge);
          lease.release();
          // A full provider-wide window holds every key: asking again key by key would cost a round trip each.
          if (lease.limitCharge.shared[refused.window]?.scope === "provider") lane.providerHeldUntil = Math.max(lane.providerHeldUntil, refused.freesAt);
          else holdBack(lane, chosen, refused.freesAt, "a per-key limit, counted across the cluster");
          continue;
        }
        const earliest = earliestReturn(lane, exclude);
        if (earliest === Number.POSITIVE_INFINITY) return { kind: "exhausted" };
        if (earliest > deadline) {
          const limit = declared ? limitOfFirstReturn(lane, exclude, earliest) : undefined;
          return limit === undefined ? { kind: "cooling", retryAt: earliest } : { kind: "cooling", retryAt: earliest, limit };
        }
        await wait(lane, earliest, signal);
      }
    },

    limitUse() {
      const used = { keys: new Map<number, LimitUse[]>(), provider: [] as LimitUse[] };
      if (ledger === undefined) return used;
      const now = clock();
      for (let slot = 0; slot < count; slot++) {
        const own = ledger.use(slot, now);
        if (own.length > 0) used.keys.set(slot, own);
      }
      used.provider = ledger.use(undefined, now);
      return used;
    },

    settleLimit(lease, tokens) {
      if (lease.limitCharge !== undefined) settleCharge(lease.limitCharge, tokens);
    },

    coolDown(slot, model, until, reason, pinned = false) {
      coolSlot(laneFor(model), slot, until, reason, pinned);
    },

    coolQuotaGroup(slot, model, until, reason, pinned = false) {
      const lane = laneFor(model);
      let cooled = 0;
      for (const sibling of quotaSiblings.get(slot) ?? []) if (disabledUntil[sibling] === 0 && coolSlot(lane, sibling, until, reason, pinned)) cooled++;
      return cooled;
    },

    addStrike(slot, model) {
      const lane = laneFor(model);
      const strikes = lane.strikes[slot]! + 1;
      setStrikes(lane, slot, strikes);
      return strikes;
    },

    noteTransient(slot, model, { timedOut, reason }) {
      const lane = laneFor(model);
      const failures = lane.failureRun[slot]! + 1;
      lane.failureRun[slot] = failures;
      lane.failing.add(slot);
      lane.trials.delete(slot);
      const threshold = failuresToOpenCircuit(timedOut);
      // A failed trial opens the circuit again whatever the failure, for longer each time.
      if (failures < threshold && !lane.openReasons.has(slot)) return { failures };
      const openings = lane.openings[slot]! + 1;
      lane.openings[slot] = openings;
      const openUntil = clock() + circuitBackoffMs(openings);
      lane.openUntil[slot] = openUntil;
      lane.openReasons.set(slot, reason);
      lane.ready.remove(slot);
      if (lane.open.has(slot)) lane.open.update(slot);
      else lane.open.push(slot);
      return { failures, openUntil };
    },

    noteSuccess(slot, model) {
      const lane = lanes.get(model);
      if (!lane) return;
      if (lane.failureRun[slot] !== 0) closeCircuit(lane, slot);
      if (lane.strikes[slot] === 0) return;
      setStrikes(lane, slot, 0);
      if (!lane.cooling.has(slot)) sink?.clearKeyState(provider, keys[slot]!.id, model);
    },

    hasOtherReady(model, exclude, slot) {
      const lane = laneFor(model);
      const belowCap = (other: number): boolean => cap === undefined || lane.inFlight[other]! < cap;
      // Asked once per attempt: the heap's top usually answers it without popping anything.
      const top = lane.ready.peek();
      if (top === undefined) return false;
      if (top !== slot && !exclude.has(top) && belowCap(top)) return true;
      if (lane.ready.size === 1) return false;
      return bestUntried(lane.ready, exclude, (other) => other !== slot && belowCap(other)) >= 0;
    },

    allDisabled() {
      if (disabled.size < count) return false;
      const first = disabled.peek();
      return first !== undefined && disabledUntil[first]! > clock();
    },

    disable(slot, until, reason) {
      applyDisable(slot, until, reason);
      sink?.saveKeyState({ provider, keyId: keys[slot]!.id, model: "", until, strikes: 0, reason, pinned: false });
    },

    disabledKeys() {
      return [...disabled.ids()]
        .map((slot) => ({ slot, key: keys[slot]!, until: disabledUntil[slot]!, reason: disabledReason.get(slot) ?? "" }))
        .sort((a, b) => a.until - b.until);
    },

    restore(slot) {
      if (disabledUntil[slot] === 0) return;
      enable(slot);
      sink?.clearKeyState(provider, keys[slot]!.id, "");
    },

    reset({ keyId, keepPinned = false, writeThrough = true } = {}) {
      const slots = keyId === undefined ? keys.map((_, slot) => slot) : [slotById.get(keyId)].filter((s) => s !== undefined);
      // writeThrough false: this process's memory only (another process writes the shared state).
      const out = writeThrough ? sink : undefined;
      for (const slot of slots) {
        if (disabledUntil[slot] !== 0) enable(slot);
        out?.clearKeyState(provider, keys[slot]!.id, "");
        for (const lane of lanes.values()) {
          const kept = keepPinned && lane.pinned.has(slot) && lane.cooling.has(slot);
          if (!kept && lane.cooling.has(slot)) endCooling(lane, slot);
          if (!kept) {
            setStrikes(lane, slot, 0);
            out?.clearKeyState(provider, keys[slot]!.id, lane.model);
          }
          closeCircuit(lane, slot);
        }
      }
      wakeAll();
      return slots.length;
    },

    earliestAvailable(model) {
      const lane = laneFor(model);
      const now = clock();
      restoreExpired(lane, now);
      if (lane.ready.size > 0) return now;
      return earliestReturn(lane, new Set());
    },

    healthyKeys(limit) {
      const found: PoolKey[] = [];
      for (let slot = 0; slot < count && found.length < limit; slot++) {
        if (disabledUntil[slot] === 0 || disabledUntil[slot]! <= clock()) found.push(keys[slot]!);
      }
      return found;
    },

    apply(change) {
      if (change.kind === "saved") {
        if (change.record.provider === provider) applySaved(change.record);
      } else if (change.kind === "cleared") {
        const slot = slotById.get(change.keyId);
        if (change.provider === provider && slot !== undefined) applyCleared(slot, change.model);
      } else if (change.kind === "incident") {
        return;
      } else if (change.provider === undefined || change.provider === provider) {
        for (let slot = 0; slot < count; slot++) {
          applyCleared(slot, "");
          for (const lane of lanes.values()) applyCleared(slot, lane.model);
        }
      }
      // A waiting request may now have a key.
      wakeAll();
    },

    passedOver(model) {
      const now = clock();
      const found = new Map<number, PassedOver>();
      for (const slot of disabled.ids()) {
        if (disabledUntil[slot]! > now) found.set(slot, { masked: keys[slot]!.masked, why: "disabled", until: disabledUntil[slot]!, reason: disabledReason.get(slot) ?? "" });
      }
      const lane = lanes.get(model);
      for (const slot of lane?.cooling.ids() ?? []) {
        if (!found.has(slot) && lane!.coolUntil[slot]! > now) {
          found.set(slot, { masked: keys[slot]!.masked, why: "cooling", until: lane!.coolUntil[slot]!, reason: lane!.reasons.get(slot) ?? "" });
        }
      }
      for (const slot of lane?.open.ids() ?? []) {
        if (!found.has(slot) && lane!.openUntil[slot]! > now && !lane!.trials.has(slot)) {
          found.set(slot, { masked: keys[slot]!.masked, why: "circuit_open", until: lane!.openUntil[slot]!, reason: lane!.openReasons.get(slot) ?? "" });
        }
      }
      return [...found].sort(([a], [b]) => a - b).map(([, entry]) => entry);
    },

    standing() {
      const now = clock();
      const coolingBySlot = new Map<number, KeyStanding["coolingModels"]>();
      const circuitsBySlot = new Map<number, KeyStanding["circuits"]>();
      for (const lane of lanes.values()) {
        for (const slot of lane.cooling.ids()) {
          if (lane.coolUntil[slot]! <= now) continue;
          const list = coolingBySlot.get(slot) ?? [];
          list.push({
            model: lane.model,
            until: lane.coolUntil[slot]!,
            reason: lane.reasons.get(slot) ?? "",
            strikes: lane.strikes[slot]!,
          });
          coolingBySlot.set(slot, list);
        }
        for (const slot of lane.failing) {
          const reason = lane.openReasons.get(slot);
          if (reason === undefined) continue;
          const until = lane.openUntil[slot]!;
          const open = lane.open.has(slot) && !lane.trials.has(slot) && until > now;
          const list = circuitsBySlot.get(slot) ?? [];
          list.push({ model: lane.model, state: open ? "open" : "half_open", until: open ? until : 0, failures: lane.failureRun[slot]!, reason });
          circuitsBySlot.set(slot, list);
        }
      }
      const standing: PoolStanding = { keys: [], healthy: 0, cooling: 0, disabled: 0, failing: 0 };
      keys.forEach((key, slot) => {
        const off = disabledUntil[slot]! > now;
        const coolingModels = coolingBySlot.get(slot) ?? [];
        const circuits = circuitsBySlot.get(slot) ?? [];
        if (off) standing.disabled += 1;
        else if (coolingModels.length > 0) standing.cooling += 1;
        else if (circuits.length > 0) standing.failing += 1;
        else standing.healthy += 1;
        standing.keys.push({
          id: key.id,
          masked: key.masked,
          inFlight: inFlightTotal[slot]!,
          disabledUntil: off ? disabledUntil[slot]! : 0,
          ...(off ? { disabledReason: disabledReason.get(slot) ?? "" } : {}),
          coolingModels,
          circuits,
        });
      });
      return standing;
    },
  };
}

/** For each key of a quota group with more than one key, the other keys of its group. */
function siblingsByQuotaGroup(keys: readonly PoolKey[]): Map<number, number[]> {
  const groups = new Map<string, number[]>();
  keys.forEach((key, slot) => {
    if (key.quotaGroup === undefined) return;
    const group = groups.get(key.quotaGroup);
    if (group === undefined) groups.set(key.quotaGroup, [slot]);
    else group.push(slot);
  });
  const siblings = new Map<number, number[]>();
  for (const slots of groups.values()) {
    if (slots.length < 2) continue;
    for (const slot of slots) siblings.set(slot, slots.filter((other) => other !== slot));
  }
  return siblings;
}
