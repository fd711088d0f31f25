/**
 * Limits the user declared for a provider's keys (`RATE_LIMIT_<P>…`), counted before sending so a
 * key at its limit is passed over instead of meeting a 429. Per model, per key or for the whole
 * provider: requests and tokens per minute, requests and tokens per day.
 *
 * A minute is a sliding window of 60 one-second buckets: a key frees when the oldest buckets that
 * hold it over its limit leave the window (at most a second later than exact, never earlier). A
 * day ends at the daily reset, as free-tier days do. Tokens are known only when an answer is over,
 * so a request reserves the tokens a recent answer of that model used and the reservation is
 * replaced by the real count at the end. An empty window always admits one request, so a request
 * bigger than a whole minute's tokens is sent (and the provider decides) rather than never.
 *
 * Every check and charge is O(1) per window (a bucket scan is bounded by 60), whatever the number
 * of keys; windows are made on a key's first use of a model.
 */

export interface LimitValues {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  requestsPerDay?: number;
  tokensPerDay?: number;
}

/** What one model of a provider may use: per key, and across all the provider's keys. */
export interface ModelLimits {
  perKey?: LimitValues;
  perProvider?: LimitValues;
  /** Where it was declared (`RATE_LIMIT_GEMINI_FLASH`), for the words of a refusal. */
  source: string;
}

/** One declared limit as configured: for a model glob (or every model), per key or for the provider. */
export interface RateLimitRule {
  /** A `*` glob of upstream model ids; undefined: every model. */
  model?: string;
  scope: "key" | "provider";
  limits: LimitValues;
  /** Where it was declared (`RATE_LIMIT_GEMINI_FLASH`, `providers.gemini.rateLimits[0]`), for messages. */
  source: string;
}

/** The declared limits of one model of the provider, or undefined when it has none. */
export type LimitsFor = (model: string) => ModelLimits | undefined;

export type LimitUnit = keyof LimitValues;

/** How each unit reads in a trace or an error: `10 requests per minute`. */
const UNIT_WORDS: Record<LimitUnit, string> = {
  requestsPerMinute: "requests per minute",
  tokensPerMinute: "tokens per minute",
  requestsPerDay: "requests per day",
  tokensPerDay: "tokens per day",
};
const UNITS = Object.keys(UNIT_WORDS) as LimitUnit[];

/** Each unit as `RATE_LIMIT_<P>` and `/v1/stats` spell it. */
export const UNIT_SHORT_NAMES: Readonly<Record<LimitUnit, "rpm" | "tpm" | "rpd" | "tpd">> = {
  requestsPerMinute: "rpm",
  tokensPerMinute: "tpm",
  requestsPerDay: "rpd",
  tokensPerDay: "tpd",
};

const BUCKETS = 60;
const SECOND_MS = 1000;
const DAY_MS = 86_400_000;

/** Counts of the last 60 seconds, one bucket per second. */
interface MinuteWindow {
  readonly counts: Int32Array;
  total: number;
  /** The epoch second of the newest bucket. */
  head: number;
}

/** A count since the last daily reset. */
interface DayWindow {
  total: number;
  /** When this count ends (the next daily reset at the time it started). */
  endsAt: number;
}

interface Windows {
  requestsPerMinute?: MinuteWindow;
  tokensPerMinute?: MinuteWindow;
  requestsPerDay?: DayWindow;
  tokensPerDay?: DayWindow;
}

type MinuteUnit = "requestsPerMinute" | "tokensPerMinute";
type DayUnit = "requestsPerDay" | "tokensPerDay";
const isMinute = (unit: LimitUnit): unit is MinuteUnit => unit === "requestsPerMinute" || unit === "tokensPerMinute";
const isTokens = (unit: LimitUnit): boolean => unit === "tokensPerMinute" || unit === "tokensPerDay";

function advance(window: MinuteWindow, second: number): void {
  if (second <= window.head) return;
  const gap = Math.min(second - window.head, BUCKETS);
  for (let step = 1; step <= gap; step++) {
    const index = (window.head + step) % BUCKETS;
    window.total -= window.counts[index]!;
    window.counts[index] = 0;
  }
  window.head = second;
}

/** When `cost` more fits in the minute window (0: now). */
function minuteFreesAt(window: MinuteWindow, limit: number, cost: number, second: number): number {
  advance(window, second);
  if (window.total <= 0 || window.total + cost <= limit) return 0;
  let remaining = window.total;
  for (let bucket = second - BUCKETS + 1; bucket <= second; bucket++) {
    remaining -= window.counts[bucket % BUCKETS]!;
    if (remaining <= 0 || remaining + cost <= limit) return (bucket + BUCKETS) * SECOND_MS;
  }
  return (second + BUCKETS) * SECOND_MS;
}

/** Start a new day once the daily reset has passed. */
function rollDay(window: DayWindow, now: number, nextReset: (now: number) => number): void {
  if (now < window.endsAt) return;
  window.total = 0;
  window.endsAt = nextReset(now);
}

function dayFreesAt(window: DayWindow, limit: number, cost: number, now: number, nextReset: (now: number) => number): number {
  rollDay(window, now, nextReset);
  return window.total <= 0 || window.total + cost <= limit ? 0 : window.endsAt;
}

/** A limit that holds a key (or the provider) back, and until when. */
export interface LimitHold {
  until: number;
  /** `10 requests per minute per key (RATE_LIMIT_GEMINI)`. */
  limit: string;
}

/** One window of a charge, as a shared store counts it across processes. */
export interface SharedLimitWindow {
  /** Names the window: provider, key id (`*` for the provider's), model and unit. */
  name: string;
  kind: "minute" | "day";
  /** One key's window, or the provider's (all keys together). */
  scope: "key" | "provider";
  /** It counts tokens (settled when the answer is over), not requests. */
  tokens: boolean;
  limit: number;
  cost: number;
  /** Day windows: when the count ends. */
  endsAt: number;
}

/** A shared count refused a request: the window that did (its index in the charge's list) and when it frees. */
export interface SharedRefusal {
  window: number;
  freesAt: number;
}

/** What one request was charged, so its tokens can be settled when its answer is over. */
export interface LimitCharge {
  readonly model: string;
  readonly slot: number;
  readonly reservedTokens: number;
  /** When it was charged (ms). */
  readonly at: number;
  /** The windows for a shared store (empty when there is none), in the same order as it was told. */
  readonly shared: SharedLimitWindow[];
}

/** How much of one declared limit is used now, for stats. */
export interface LimitUse {
  model: string;
  unit: LimitUnit;
  used: number;
  limit: number;
}

export interface LimitLedgerOptions {
  provider: string;
  limitsFor: LimitsFor;
  /** The key id of a slot, for the names of shared windows. */
  keyIdOf: (slot: number) => string;
  /** Slots run from 0 to this (exclusive). */
  keyCount: number;
  /** The first daily reset after `now`. */
  nextReset: (now: number) => number;
}

export interface LimitLedger {
  /** Whether `model` has any declared limit (when not, nothing else need be asked). */
  limits(model: string): ModelLimits | undefined;
  /** The provider-wide limit that holds every key of `model` back now, if any. */
  providerHold(model: string, now: number): LimitHold | undefined;
  /** The per-key limit that holds `slot` back for `model` now, if any. */
  keyHold(slot: number, model: string, now: number): LimitHold | undefined;
  /** Count one request of `slot` for `model` (and its expected tokens) in every window; `shared`: name the windows for a shared store too. */
  charge(slot: number, model: string, now: number, shared?: boolean): LimitCharge;
  /** Take a charge back: the request was never sent (a shared count refused it). */
  refund(charge: LimitCharge): void;
  /**
   * The answer is over and used `tokens` (undefined: none counted, as for a failure): the
   * reservation becomes the real count. Returns the change for the shared token windows.
   */
  settleTokens(charge: LimitCharge, tokens: number | undefined, now: number): number;
  /** What `slot` (or, undefined, the provider as a whole) has used of each declared limit of the models it served: O(models). */
  use(slot: number | undefined, now: number): LimitUse[];
}

/** How much each new answer moves a model's expected tokens per request. */
const EXPECTATION_WEIGHT = 0.2;

export function createLimitLedger(options: LimitLedgerOptions): LimitLedger {
  const { provider, limitsFor, keyIdOf, nextReset } = options;
  const resolved = new Map<string, ModelLimits | undefined>();
  /** Per model, each slot's windows (made on the slot's first use of the model). */
  const keyWindows = new Map<string, (Windows | undefined)[]>();
  const providerWindows = new Map<string, Windows>();
  const expectedTokens = new Map<string, number>();

  const limits = (model: string): ModelLimits | undefined => {
    if (resolved.has(model)) return resolved.get(model);
    const found = limitsFor(model);
    // Bounded like the pool's lanes: unknown model names must not grow this without end.
    if (resolved.size >= 1024) resolved.clear();
    resolved.set(model, found);
    return found;
  };

  const windowsOf = (model: string, slot: number | undefined): Windows => {
    if (slot === undefined) {
      let windows = providerWindows.get(model);
      if (!windows) providerWindows.set(model, (windows = {}));
      return windows;
    }
    let bySlot = keyWindows.get(model);
    if (!bySlot) keyWindows.set(model, (bySlot = new Array<Windows | undefined>(options.keyCount)));
    return (bySlot[slot] ??= {});
  };

  const minute = (windows: Windows, unit: MinuteUnit, second: number): MinuteWindow => (windows[unit] ??= { counts: new Int32Array(BUCKETS), total: 0, head: second });
  const day = (windows: Windows, unit: DayUnit, now: number): DayWindow => (windows[unit] ??= { total: 0, endsAt: nextReset(now) });

  const costOf = (unit: LimitUnit, model: string): number => (isTokens(unit) ? (expectedTokens.get(model) ?? 0) : 1);

  /** The latest time any declared unit of `values` frees, with its words; undefined when all admit. */
  const hold = (values: LimitValues, windows: Windows, model: string, now: number, scope: "key" | "provider", source: string): LimitHold | undefined => {
    const second = Math.floor(now / SECOND_MS);
    let found: LimitHold | undefined;
    for (const unit of UNITS) {
      const limit = values[unit];
      if (limit === undefined) continue;
      const cost = costOf(unit, model);
      const until = isMinute(unit) ? minuteFreesAt(minute(windows, unit, second), limit, cost, second) : dayFreesAt(day(windows, unit, now), limit, cost, now, nextReset);
      if (until > now && (found === undefined || until > found.until)) found = { until, limit: `${limit} ${UNIT_WORDS[unit]} per ${scope} (${source})` };
    }
    return found;
  };

  /**
   * Add `requests` and `tokens` (either may be negative: a refund, a reservation given back) to the
   * windows of `values`, counted at `at` (ms). A minute bucket that has left the window, or a day
   * that has ended since, is left alone: what it held is forgotten already. Counts never go below 0.
   */
  const adjust = (windows: Windows, values: LimitValues, requests: number, tokens: number, at: number, now: number): void => {
    const second = Math.floor(at / SECOND_MS);
    for (const unit of UNITS) {
      const amount = isTokens(unit) ? tokens : requests;
      if (values[unit] === undefined || amount === 0) continue;
      if (isMinute(unit)) {
        const window = minute(windows, unit, second);
        advance(window, Math.floor(now / SECOND_MS));
        if (window.head - second >= BUCKETS) continue;
        const index = second % BUCKETS;
        const change = Math.max(amount, -window.counts[index]!);
        window.counts[index]! += change;
        window.total += change;
      } else {
        const window = day(windows, unit, now);
        rollDay(window, now, nextReset);
        if (at < window.endsAt - DAY_MS) continue;
        window.total = Math.max(0, window.total + amount);
      }
    }
  };

  /** `fn` for the charge's key windows and the provider's, where the model declares them. */
  const eachScope = (charge: Pick<LimitCharge, "model" | "slot">, fn: (windows: Windows, values: LimitValues) => void): void => {
    const declared = limits(charge.model);
    if (declared?.perKey) fn(windowsOf(charge.model, charge.slot), declared.perKey);
    if (declared?.perProvider) fn(windowsOf(charge.model, undefined), declared.perProvider);
  };

  const sharedWindows = (declared: ModelLimits, slot: number, model: string, reservedTokens: number, now: number): SharedLimitWindow[] => {
    const found: SharedLimitWindow[] = [];
    const scopes: [LimitValues | undefined, string, "key" | "provider"][] = [
      [declared.perKey, keyIdOf(slot), "key"],
      [declared.perProvider, "*", "provider"],
    ];
    for (const [values, who, scope] of scopes) {
      if (values === undefined) continue;
      for (const unit of UNITS) {
        const limit = values[unit];
        if (limit === undefined) continue;
        const minuteUnit = isMinute(unit);
        found.push({
          name: [provider, who, model, unit].join("\u0000"),
          kind: minuteUnit ? "minute" : "day",
          scope,
          tokens: isTokens(unit),
          limit,
          cost: isTokens(unit) ? reservedTokens : 1,
          endsAt: minuteUnit ? 0 : nextReset(now),
        });
      }
    }
    return found;
  };

  return {
    limits,

    providerHold(model, now) {
      const declared = limits(model);
      if (declared?.perProvider === undefined) return undefined;
      return hold(declared.perProvider, windowsOf(model, undefined), model, now, "provider", declared.source);
    },

    keyHold(slot, model, now) {
      const declared = limits(model);
      if (declared?.perKey === undefined) return undefined;
      return hold(declared.perKey, windowsOf(model, slot), model, now, "key", declared.source);
    },

    charge(slot, model, now, shared = false) {
      const reservedTokens = Math.round(expectedTokens.get(model) ?? 0);
      eachScope({ model, slot }, (windows, values) => adjust(windows, values, 1, reservedTokens, now, now));
      return { model, slot, reservedTokens, at: now, shared: shared ? sharedWindows(limits(model)!, slot, model, reservedTokens, now) : [] };
    },

    refund(charge) {
      eachScope(charge, (windows, values) => adjust(windows, values, -1, -charge.reservedTokens, charge.at, charge.at));
    },

    use(slot, now) {
      const found: LimitUse[] = [];
      const second = Math.floor(now / SECOND_MS);
      const models = slot === undefined ? providerWindows.keys() : keyWindows.keys();
      for (const model of models) {
        const declared = limits(model);
        const values = slot === undefined ? declared?.perProvider : declared?.perKey;
        const windows = slot === undefined ? providerWindows.get(model) : keyWindows.get(model)?.[slot];
        if (values === undefined || windows === undefined) continue;
        for (const unit of UNITS) {
          const limit = values[unit];
          if (limit === undefined) continue;
          let used = 0;
          if (isMinute(unit)) {
            const window = windows[unit];
            if (window) {
              advance(window, second);
              used = window.total;
            }
          } else {
            const window = windows[unit];
            if (window) used = now >= window.endsAt ? 0 : window.total;
          }
          found.push({ model, unit, used: Math.max(0, Math.round(used)), limit });
        }
      }
      return found;
    },

    settleTokens(charge, counted, now) {
      const tokens = counted ?? 0;
      if (counted !== undefined) {
        const previous = expectedTokens.get(charge.model);
        expectedTokens.set(charge.model, previous === undefined ? tokens : previous + (tokens - previous) * EXPECTATION_WEIGHT);
      }
      eachScope(charge, (windows, values) => {
        adjust(windows, values, 0, -charge.reservedTokens, charge.at, now);
        adjust(windows, values, 0, tokens, now, now);
      });
      return tokens - charge.reservedTokens;
    },
  };
}

