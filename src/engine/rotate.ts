/**
 * The attempt loop: pick the best key, try it, and act on the classified outcome — answer a request
 * fault as-is, rotate away from a transient failure (retrying the same key once only when no other
 * key could take over), cool or disable a key that is out — all within the request's deadline. It
 * knows nothing of HTTP frameworks or wire formats: an attempt is a function that returns a value
 * or a classified `Failure`.
 */

import { UPSTREAM_TIMEOUT, timeoutFailure, type AttemptResult, type Failure, type FailureClass, type LimitReached, type Settlement } from "../outcome.ts";
import { quotaCooldownUntil, rateLimitCooldownMs } from "./cooldown-policy.ts";
import { nextDailyReset } from "./daily-reset.ts";
import type { IncidentTracker } from "./incidents.ts";
import type { KeyPool, Lease } from "./key-pool.ts";
import { recordAttemptUsage, type UsageSink } from "./usage.ts";
import { hideSecret } from "../credential.ts";

/**
 * Why a request got no answer, as facts: which keys, how many attempts, the last failure, when to
 * come back. The engine says what happened; each face (the server's error bodies, the library's
 * RotationError) words it.
 */
export type RotationFailure =
  /** The upstream refused the request itself (a 400): the client's fault, no key blamed. */
  | { kind: "request_rejected"; failure: Failure }
  | { kind: "aborted" }
  | { kind: "deadline"; provider: string; last?: Failure }
  /** Usable keys exist, but every one stayed at its concurrency cap until the deadline. */
  | { kind: "at_capacity"; provider: string; model: string }
  /** `limit`: the first key to return is held back by a declared limit (`10 requests per minute per key (RATE_LIMIT_GEMINI)`), not by the provider. */
  | { kind: "all_keys_cooling"; provider: string; model: string; poolSize: number; retryAfterMs: number; attempts: number; last?: Failure; limit?: string }
  | { kind: "all_keys_disabled"; provider: string; poolSize: number; reasons: string[]; retryAfterMs: number; attempts: number; last?: Failure }
  | { kind: "all_keys_rate_limited"; provider: string; model: string; attempts: number; last: Failure; retryAfterMs?: number }
  | { kind: "all_keys_failed"; provider: string; model: string; attempts: number; last: Failure }
  | { kind: "no_keys"; provider: string; model: string }
  | { kind: "provider_incident"; message: string; retryAfterMs: number };

/**
 * The provider cannot serve this model now — every key out, at its cap, failed, or the provider
 * paused — as opposed to the request being refused, the client leaving or the time running out:
 * what lets a route move on to its next target.
 */
export function cannotServe(failure: RotationFailure): boolean {
  switch (failure.kind) {
    case "all_keys_cooling":
    case "all_keys_disabled":
    case "all_keys_rate_limited":
    case "all_keys_failed":
    case "at_capacity":
    case "no_keys":
    case "provider_incident":
      return true;
    default:
      return false;
  }
}

/** One line of the decision trace. */
export interface AttemptTrace {
  keyId: string;
  /** The key as `…last4`; never the key. */
  masked: string;
  outcome: "ok" | FailureClass;
  status: number;
  durationMs: number;
  message?: string;
  /** What the engine did about it: `rotating`, `cooling until …`, `circuit open until …`, … */
  action?: string;
}

export interface RotationRequest<T> {
  pool: KeyPool;
  /** Upstream model name (without the provider prefix). */
  model: string;
  deadline: number;
  /**
   * Another target of a route takes over when this provider cannot serve: never wait for a key to
   * come back, for an incident to end or to retry the same key, and keep one attempt to its share
   * of the budget, so the next target still has time.
   */
  fallbackFollows?: boolean;
  /** The key that served this conversation last (prompt-cache affinity): tried first when it is ready. */
  preferKeyId?: string;
  /** Aborted when the client goes away; absent for a caller that cannot leave (a library call without one). */
  signal?: AbortSignal;
  /**
   * One try with one key. `controller` is the attempt's own: the rotator aborts it at the deadline
   * or when the client leaves, and the attempt may abort it too (its phase timeouts); a committed
   * stream keeps it, so the client leaving still ends the upstream call.
   */
  attempt(lease: Lease, controller: AbortController): Promise<AttemptResult<T>>;
}

export type RotationResult<T> =
  | { ok: true; value: T; lease: Lease; trace: AttemptTrace[] }
  | { ok: false; failure: RotationFailure; trace: AttemptTrace[] };

export interface RotatorOptions {
  usage: UsageSink;
  incidents: IncidentTracker;
  resetMinuteUtc: number;
  /** Wait before the single same-key retry of a transient failure. */
  transientBackoffMs?: () => number;
  /**
   * The share of a request's budget one attempt may use while another key could still take over
   * (so a hung key cannot eat the whole deadline); the last candidate gets all that is left.
   * Unset: every attempt may run to the deadline.
   */
  attemptShare?: number;
  /**
   * Cluster mode with MAX_CONCURRENT_REQUESTS_PER_KEY: a cluster-wide slot of (key, model) taken
   * for each lease (false while all are taken elsewhere), released with it. Unset: the cap is this
   * process's alone.
   */
  slots?: (scope: { provider: string; keyId: string; model: string }, cap: number) => Promise<{ release(): void } | false>;
  now?: () => number;
}

/** How long a request waits before trying keys again whose cluster-wide slots were all taken. */
const SLOT_RETRY_MS = 20;

export interface Rotator {
  run<T>(request: RotationRequest<T>): Promise<RotationResult<T>>;
  /** Finish a lease from a successful run once its response (or stream) is over. */
  settle(pool: KeyPool, lease: Lease, settlement: Settlement): string | undefined;
}

const CLIENT_CLOSED: RotationFailure = { kind: "aborted" };

/** The trace's words for a cooldown, naming the keys of the same quota that went with it. */
function coolingAction(until: number, sharing: number): string {
  const action = `cooling until ${new Date(until).toISOString()}`;
  return sharing === 0 ? action : `${action}, with ${sharing} key${sharing === 1 ? "" : "s"} sharing its quota`;
}

export function createRotator(options: RotatorOptions): Rotator {
  const clock = options.now ?? Date.now;
  const backoff = options.transientBackoffMs ?? (() => 500 + Math.random() * 250);

  /** Apply what a failure means for the key; returns a few words for the trace. */
  const applyFailure = (pool: KeyPool, lease: Lease, failure: Failure): string | undefined => {
    const now = clock();
    switch (failure.class) {
      case "rate_limit": {
        const strike = pool.addStrike(lease.slot, lease.model);
        // No wait hint outlasts the daily reset, where every cooldown ends anyway.
        const until = Math.min(now + rateLimitCooldownMs(failure.retryAfterMs, strike), nextDailyReset(now, options.resetMinuteUtc));
        const reason = `rate limited (HTTP ${failure.status})`;
        pool.coolDown(lease.slot, lease.model, until, reason);
        return coolingAction(until, pool.coolQuotaGroup(lease.slot, lease.model, until, `${reason} on a key sharing its quota`));
      }
      case "quota": {
        pool.addStrike(lease.slot, lease.model);
        const until = quotaCooldownUntil(now, {
          hintMs: failure.retryAfterMs,
          knownResetAt: failure.resetAt,
          dailyResetAt: nextDailyReset(now, options.resetMinuteUtc),
        });
        const reason = `quota exhausted (HTTP ${failure.status})`;
        const pinned = failure.resetAt !== undefined;
        pool.coolDown(lease.slot, lease.model, until, reason, pinned);
        return coolingAction(until, pool.coolQuotaGroup(lease.slot, lease.model, until, `${reason} on a key sharing its quota`, pinned));
      }
      case "billing":
      case "invalid_key": {
        const until = nextDailyReset(now, options.resetMinuteUtc);
        const reason = failure.class === "billing" ? "billing or credit exhausted" : "key rejected as invalid";
        pool.disable(lease.slot, until, `${reason} (HTTP ${failure.status})`);
        return `disabled until ${new Date(until).toISOString()}`;
      }
      case "transient":
        return noteCircuit(pool, lease, failure);
      default:
        return undefined;
    }
  };

  /**
   * The answer's headers say a limit of the key is used up: skip (key, model) until its reset (never
   * past the daily reset), with no strike, so the next request goes elsewhere instead of meeting a 429.
   */
  const skipUntilReset = (pool: KeyPool, lease: Lease, limit: LimitReached, now: number): string => {
    const until = Math.min(limit.until, nextDailyReset(now, options.resetMinuteUtc));
    pool.coolDown(lease.slot, lease.model, until, `limit reached (${limit.header}: 0), skipped until its reset`);
    return `skipped until ${new Date(until).toISOString()} (${limit.header}: 0)`;
  };

  /** Count a transient failure against (key, model); says so when it opened the key's circuit. */
  const noteCircuit = (pool: KeyPool, lease: Lease, failure: Failure): string | undefined => {
    const timedOut = failure.code === UPSTREAM_TIMEOUT;
    const what = failure.status === 0 ? (timedOut ? "timed out" : "no answer") : `HTTP ${failure.status}`;
    const reason = `${lease.trial ? "trial failed, " : ""}${what}: ${failure.message}`.slice(0, 240);
    const change = pool.noteTransient(lease.slot, lease.model, { timedOut, reason });
    if (change.openUntil === undefined) return undefined;
    return `circuit open until ${new Date(change.openUntil).toISOString()}`;
  };

  /** Record the attempt, act on its failure, and give the key back; returns the action taken. */
  const settle = (pool: KeyPool, lease: Lease, settlement: Settlement): string | undefined => {
    if (settlement.kind === "cancelled") {
      // The client left before any answer: nothing was served and nothing is the key's fault.
      lease.release();
      return undefined;
    }
    // Released whatever the bookkeeping does: a lease that outlives a throw is a key lost until restart.
    try {
      const ok = settlement.kind === "success";
      const action = settlement.kind === "failure" ? applyFailure(pool, lease, settlement.failure) : lease.trial ? "circuit closed" : undefined;
      if (ok) {
        pool.noteSuccess(lease.slot, lease.model);
        options.incidents.noteSuccess(pool.provider);
      }
      // A success without a usage report keeps what it reserved; a failure is settled by the release (no tokens).
      if (ok && lease.limitCharge !== undefined) pool.settleLimit(lease, settlement.usage ? settlement.usage.promptTokens + settlement.usage.completionTokens : lease.limitCharge.reservedTokens);
      recordAttemptUsage(options.usage, {
        provider: pool.provider,
        keyId: lease.keyId,
        model: lease.model,
        ok,
        failure: settlement.kind === "failure" ? settlement.failure : undefined,
        usage: settlement.kind === "success" ? settlement.usage : undefined,
        now: clock(),
        resetMinuteUtc: options.resetMinuteUtc,
      });
      return action;
    } finally {
      lease.release();
    }
  };

  const run = async <T>(request: RotationRequest<T>): Promise<RotationResult<T>> => {
    const { pool, model, deadline, signal } = request;
    const provider = pool.provider;
    const begun = clock();
    const fallbackFollows = request.fallbackFollows === true;
    // Keys this request may not use again. A key that was only rate-limited stays eligible once:
    // if its own hint ends before the deadline, waiting for it beats failing the request.
    const spent = new Set<number>();
    const limitedOnce = new Set<number>();
    const trace: AttemptTrace[] = [];
    let lastFailure: Failure | undefined;
    // One key with an open circuit per request, when nothing better is left: a trial, not a sweep.
    let fallbackUsed = false;
    // Keys whose cluster-wide slots were all taken when this request asked (cluster mode, capped).
    let busyElsewhere: Set<number> | undefined;
    const fail = (failure: RotationFailure): RotationResult<T> => ({ ok: false, failure, trace });

    for (;;) {
      const incident = options.incidents.active(provider);
      if (incident) {
        // With another target to take over, waiting (for an incident, a key, a slot, a same-key retry) is pointless.
        if (incident.until > (fallbackFollows ? clock() : deadline)) return fail({ kind: "provider_incident", message: incident.message, retryAfterMs: incident.until - clock() });
        // Looked at again every little while: a success elsewhere ends the incident early.
        await sleep(Math.min(incident.until - clock(), INCIDENT_RECHECK_MS), signal);
        if (signal?.aborted) return fail(CLIENT_CLOSED);
        continue;
      }
      if (signal?.aborted) return fail(CLIENT_CLOSED);
      if (clock() >= deadline) return fail({ kind: "deadline", provider, last: lastFailure });

      const exclude = busyElsewhere === undefined ? spent : new Set([...spent, ...busyElsewhere]);
      // The conversation's key is a preference for the first attempt only: a retry goes by the usual order.
      const preferKeyId = trace.length === 0 ? request.preferKeyId : undefined;
      const acquisition = await pool.acquire(model, { exclude, deadline: fallbackFollows ? clock() : deadline, signal, fallback: !fallbackUsed, preferKeyId });
      if (busyElsewhere !== undefined && (acquisition.kind === "exhausted" || acquisition.kind === "cooling")) {
        // Every key left is at its cap somewhere in the cluster: wait a moment and ask again.
        if (fallbackFollows || clock() + SLOT_RETRY_MS >= deadline) return fail({ kind: "at_capacity", provider, model });
        await sleep(SLOT_RETRY_MS, signal);
        busyElsewhere = undefined;
        continue;
      }
      switch (acquisition.kind) {
        case "aborted":
          return fail(CLIENT_CLOSED);
        case "at_capacity":
          return fail({ kind: "at_capacity", provider, model });
        case "cooling":
          return fail(coolingFailure(pool, model, acquisition.retryAt - clock(), lastFailure, trace.length, acquisition.limit));
        case "exhausted":
          return fail(exhaustedFailure(pool, model, lastFailure, trace.length, clock()));
      }
      if (acquisition.fallback) fallbackUsed = true;

      let lease = acquisition.lease;
      if (options.slots && pool.cap !== undefined) {
        const slot = await options.slots({ provider, keyId: lease.keyId, model }, pool.cap);
        if (slot === false) {
          lease.release();
          (busyElsewhere ??= new Set()).add(lease.slot);
          continue;
        }
        const local = lease;
        lease = { ...local, release: () => (slot.release(), local.release()) };
      }
      // Until a success hands it to the caller, this request owns the lease: every other way out of
      // the loop — a settlement, a return, an attempt or bookkeeping that throws — gives it back
      // (release is idempotent, so the paths that already settled it lose nothing).
      let handedOver = false;
      try {
        for (let round = 0; ; round++) {
          const started = clock();
          // While another key could take over, one attempt may not use the whole budget.
          const share = options.attemptShare;
          const capAt = share !== undefined && (fallbackFollows || pool.hasOtherReady(model, spent, lease.slot)) ? Math.min(deadline, started + share * (deadline - begun)) : deadline;
          const result = await attemptWithinDeadline(request, lease, { deadline, capAt, now: clock });
          const durationMs = clock() - started;
          if (result.ok) {
            let action = lease.trial ? "circuit closed" : undefined;
            if (result.limitReached !== undefined) {
              const skipped = skipUntilReset(pool, lease, result.limitReached, clock());
              action = action === undefined ? skipped : `${action}; ${skipped}`;
            }
            const step: AttemptTrace = { keyId: lease.keyId, masked: lease.masked, outcome: "ok", status: 200, durationMs };
            if (action !== undefined) step.action = action;
            trace.push(step);
            handedOver = true;
            return { ok: true, value: result.value, lease, trace };
          }
          const failure = redactFailure(result.failure, lease);
          if (signal?.aborted) {
            settle(pool, lease, { kind: "cancelled" });
            return fail(CLIENT_CLOSED);
          }
          lastFailure = failure;
          const step: AttemptTrace = {
            keyId: lease.keyId,
            masked: lease.masked,
            outcome: failure.class,
            status: failure.status,
            durationMs,
            message: failure.message,
          };
          trace.push(step);
          if (failure.class === "request") {
            settle(pool, lease, { kind: "failure", failure });
            return fail({ kind: "request_rejected", failure });
          }
          if (failure.class !== "transient") {
            if (failure.class === "rate_limit" && !limitedOnce.has(lease.slot)) limitedOnce.add(lease.slot);
            else spent.add(lease.slot);
            step.action = settle(pool, lease, { kind: "failure", failure });
            break;
          }
          const declared = options.incidents.noteTransient(provider, lease.keyId, failure.status, pool.size);
          const opened = noteCircuit(pool, lease, failure);
          recordAttemptUsage(options.usage, { provider, keyId: lease.keyId, model, ok: false, failure, now: clock(), resetMinuteUtc: options.resetMinuteUtc });
          const wait = backoff();
          // Waiting to try the same key again only beats rotating when no other key could answer
          // now; never for a key that just hung (it would hang again), failed its trial, or failed
          // often enough to open its circuit.
          const retrySameKey =
            !declared &&
            round === 0 &&
            opened === undefined &&
            !lease.trial &&
            failure.code !== UPSTREAM_TIMEOUT &&
            !fallbackFollows &&
            clock() + wait < deadline &&
            !pool.hasOtherReady(model, spent, lease.slot);
          if (!retrySameKey) {
            // The lease goes back in the `finally` below, before the next key is taken.
            spent.add(lease.slot);
            step.action = declared ? "provider paused" : (opened ?? "rotating");
            if (declared) return fail({ kind: "provider_incident", message: declared.message, retryAfterMs: declared.until - clock() });
            if (clock() >= deadline) return fail({ kind: "deadline", provider, last: failure });
            break;
          }
          step.action = "retrying the same key, no other is ready";
          await sleep(wait, signal);
          if (signal?.aborted) return fail(CLIENT_CLOSED);
        }
      } finally {
        if (!handedOver) lease.release();
      }
    }
  };

  return { run, settle };
}

/** How often a request paused by a provider incident looks whether the incident is over. */
const INCIDENT_RECHECK_MS = 250;

/**
 * Run one attempt with an abort that fires at `capAt` (the deadline, or the attempt's share of the
 * budget) or when the client leaves. An attempt cut by either limit is a timeout failure of that
 * key, whatever the attempt made of its abort: the key did not answer in the time it was given.
 */
async function attemptWithinDeadline<T>(
  request: RotationRequest<T>,
  lease: Lease,
  { deadline, capAt, now }: { deadline: number; capAt: number; now: () => number },
): Promise<AttemptResult<T>> {
  // One controller per attempt, shared with the attempt's own timeouts: fetch takes one signal,
  // and linking a second controller to it for every request cost a measurable share of the proxy.
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  const started = now();
  let cut = false;
  request.signal?.addEventListener("abort", abort, { once: true });
  const timer = setTimeout(
    () => {
      cut = true;
      abort();
    },
    Math.max(0, capAt - started),
  );
  try {
    const result = await request.attempt(lease, controller);
    if (result.ok || !cut || request.signal?.aborted) return result;
    const seconds = ((capAt - started) / 1000).toFixed(1);
    const what =
      capAt < deadline
        ? `no answer within ${seconds} s, this attempt's share of the request deadline while another key could take over (FIRST_BYTE_TIMEOUT)`
        : `no answer within the ${seconds} s left before the request deadline (GLOBAL_TIMEOUT)`;
    return { ok: false, failure: timeoutFailure(what) };
  } finally {
    // Past this point a committed stream lives on: only the client's own abort may end it.
    clearTimeout(timer);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Upstream messages sometimes echo the key; the client and the logs get its masked form only. */
export function redactFailure(failure: Failure, lease: Lease): Failure {
  const message = hideSecret(failure.message, lease);
  return message === failure.message ? failure : { ...failure, message };
}

function coolingFailure(pool: KeyPool, model: string, waitMs: number, last: Failure | undefined, attempts: number, limit: string | undefined): RotationFailure {
  if (pool.allDisabled()) return allDisabledFailure(pool, waitMs, last, attempts);
  const failure: RotationFailure = { kind: "all_keys_cooling", provider: pool.provider, model, poolSize: pool.size, retryAfterMs: waitMs, attempts, last };
  return limit === undefined ? failure : { ...failure, limit };
}

/** Every key disabled: the same answer whether this request disabled the last one or found them so. */
function allDisabledFailure(pool: KeyPool, waitMs: number, last: Failure | undefined, attempts: number): RotationFailure {
  const reasons = [...new Set(pool.standing().keys.map((key) => key.disabledReason ?? ""))];
  return { kind: "all_keys_disabled", provider: pool.provider, poolSize: pool.size, reasons, retryAfterMs: waitMs, attempts, last };
}

function exhaustedFailure(pool: KeyPool, model: string, last: Failure | undefined, attempts: number, now: number): RotationFailure {
  if (!last) return { kind: "no_keys", provider: pool.provider, model };
  const earliest = pool.earliestAvailable(model);
  if (pool.allDisabled()) return allDisabledFailure(pool, earliest - now, last, attempts);
  if (last.class !== "rate_limit" && last.class !== "quota") return { kind: "all_keys_failed", provider: pool.provider, model, attempts, last };
  return { kind: "all_keys_rate_limited", provider: pool.provider, model, attempts, last, ...(Number.isFinite(earliest) ? { retryAfterMs: earliest - now } : {}) };
}
