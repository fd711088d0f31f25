/**
 * The {@link Store} on Redis (or Valkey), for cluster mode: several proxy instances share key
 * state, usage and the last daily reset through one Redis, with Bun's built-in client. Every key
 * is namespaced by the prefix, and holds key ids (the short hash), never a key.
 *
 * - Key state: one hash (`<prefix>keystate`), a field per (provider, key id, model), the record as
 *   JSON. Each change is written at once and published on `<prefix>changes`, so the other
 *   instances' pools take it in (`watchKeyState`); an instance ignores its own messages.
 * - Usage: a hash per usage day (`<prefix>usage:<day>`), a field per (provider, key id, model,
 *   counter), merged with HINCRBY in batches at most `flushIntervalMs` behind, each batch one
 *   atomic script; `<prefix>usage:days` lists the days.
 * - Meta: one hash (`<prefix>meta`).
 * - Provider incidents: published on the same channel and kept by no one (a pause lasts seconds).
 * - Concurrency slots (MAX_CONCURRENT_REQUESTS_PER_KEY across the cluster): a sorted set per
 *   (provider, key id, model) of holders by expiry, taken by an atomic script, renewed while held
 *   and removed on release; a holder that dies is gone within SLOT_TTL_MS.
 *
 * - Declared limits (`RATE_LIMIT_<P>…`): a hash per minute window (a field per second, the count
 *   of that second) and a counter per day window (ending at the daily reset), checked and charged
 *   together by one atomic script, so two instances cannot both take the last request of a minute.
 *
 * Redis down never fails a request: writes are fire-and-forget, usage deltas wait in a bounded
 * buffer (beyond it they are dropped and counted), key-state writes made while apart wait too (the
 * last one per key and model), and one warning is given per outage, not per write. Every
 * `reconcileMs` an instance that watches pushes what it could not write and reads the whole shared
 * key state back, telling its pools what changed since it last looked: that repairs a message
 * missed while the subscription was down, and merges two instances that were apart.
 */

import { addCounters, matchesUsageQuery, USAGE_COUNTERS, type UsageCounter } from "./usage-rows.ts";
import { connectRedis, redactRedisUrl, type RedisConnection } from "./redis-connection.ts";
import type { KeyStateChange, KeyStateRecord, Store, StoreHealth, UsageDelta, UsageRow } from "./types.ts";
import type { SharedLimitWindow } from "../engine/declared-limits.ts";

export interface RedisStoreOptions {
  /** `redis://` or `rediss://`, with user and password when Redis needs them. */
  url: string;
  /** Namespaces every key and the channel (default `lkp:`). */
  prefix?: string;
  /** This instance, so that its own published changes are not applied twice. Default: random. */
  instanceId?: string;
  /** Longest time a usage delta waits before reaching Redis. Default 1000. */
  flushIntervalMs?: number;
  /** How often a watching instance reconciles its view with the shared key state. Default 5000. */
  reconcileMs?: number;
  /** Usage buckets kept while Redis cannot be reached; beyond, deltas are dropped and counted. Default 100,000. */
  maxPendingUsage?: number;
  /** One sentence per outage (and one when it ends); never holds the URL's password. */
  onWarning?: (message: string) => void;
}

export interface RedisStore extends Store {
  /** Settles once the change channel is subscribed (after the first `watchKeyState`). */
  watching(): Promise<void>;
  /** Push what waits, read the shared key state and tell the watchers what changed (also on a timer). */
  reconcile(): Promise<void>;
  health(): StoreHealth;
}

const SEPARATOR = "\u0000";
const DEFAULT_FLUSH_INTERVAL_MS = 1_000;
const DEFAULT_MAX_PENDING_USAGE = 100_000;
const DEFAULT_RECONCILE_MS = 5_000;
/** A concurrency slot lives this long unless its holder renews it: a killed instance frees its slots within it. */
const SLOT_TTL_MS = 10_000;
const SLOT_RENEW_MS = 3_000;
/** An idle set of slots is removed by Redis after this (holders renew it while they hold). */
const SLOTS_IDLE_MS = 60_000;
/**
 * KEYS[1]: the slots of one (provider, key, model), a sorted set of holders by expiry. ARGV: now,
 * cap, this holder's expiry, this holder's id, how long the set outlives its last use. Expired
 * holders go first; a free slot is taken.
 */
const TAKE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;
/**
 * KEYS: the windows of one request. ARGV[1]: now (ms); then per window: kind (`m` a minute hash of
 * per-second counts, `d` a day counter), limit, cost, the day's end (ms). Nothing is charged unless
 * every window has room (an empty window always has): {0, 0}; else {the latest time one that refused
 * frees, that window's 1-based index}.
 */
const CHARGE_LIMITS = `
local now = tonumber(ARGV[1])
local second = math.floor(now / 1000)
local frees, which = 0, 0
for i = 1, #KEYS do
  local at = 2 + (i - 1) * 4
  local kind, limit, cost = ARGV[at], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  if kind == 'm' then
    local flat = redis.call('HGETALL', KEYS[i])
    local seconds, counts, total = {}, {}, 0
    for j = 1, #flat, 2 do
      local s, c = tonumber(flat[j]), tonumber(flat[j + 1])
      if s <= second - 60 then redis.call('HDEL', KEYS[i], flat[j])
      else total = total + c; seconds[#seconds + 1] = s; counts[s] = c end
    end
    if total > 0 and total + cost > limit then
      table.sort(seconds)
      local left, at_free = total, (second + 60) * 1000
      for _, s in ipairs(seconds) do
        left = left - counts[s]
        if left <= 0 or left + cost <= limit then at_free = (s + 60) * 1000; break end
      end
      if at_free > frees then frees, which = at_free, i end
    end
  else
    local total = tonumber(redis.call('GET', KEYS[i]) or '0')
    local ends = tonumber(ARGV[at + 3])
    if total > 0 and total + cost > limit and ends > frees then frees, which = ends, i end
  end
end
if frees > 0 then return {frees, which} end
for i = 1, #KEYS do
  local at = 2 + (i - 1) * 4
  local cost = tonumber(ARGV[at + 2])
  if ARGV[at] == 'm' then
    if cost > 0 then redis.call('HINCRBY', KEYS[i], second, cost) end
    redis.call('PEXPIRE', KEYS[i], 61000)
  elseif cost > 0 then
    redis.call('INCRBY', KEYS[i], cost)
    redis.call('PEXPIREAT', KEYS[i], ARGV[at + 3])
  end
end
return {0, 0}`;

/** KEYS[1]: one window. ARGV: kind, the second (minute windows), the change, its life (ms) or end (epoch ms); the window never outlives it. */
const ADJUST_LIMIT = `
if ARGV[1] == 'm' then
  redis.call('HINCRBY', KEYS[1], ARGV[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
else
  redis.call('INCRBY', KEYS[1], ARGV[3])
  redis.call('PEXPIREAT', KEYS[1], ARGV[4])
end
return 1`;

/**
 * ARGV: the count n of the day-list arguments, the days key and the days, then (hash, field,
 * increment) triples. Runs atomically: every increment of a flush lands, or none does.
 */
const APPLY_USAGE = `
local n = tonumber(ARGV[1])
redis.call('SADD', unpack(ARGV, 2, n + 1))
for i = n + 2, #ARGV, 3 do redis.call('HINCRBY', ARGV[i], ARGV[i + 1], ARGV[i + 2]) end
return 1`;

interface ChangeMessage {
  from: string;
  change: KeyStateChange;
}

const stateField = (provider: string, keyId: string, model: string): string => [provider, keyId, model].join(SEPARATOR);
const usageBucket = (delta: Pick<UsageDelta, "day" | "provider" | "keyId" | "model">): string => [delta.day, delta.provider, delta.keyId, delta.model].join(SEPARATOR);


function emptyRow(day: string, provider: string, keyId: string, model: string): UsageRow {
  return { day, provider, keyId, model, requests: 0, successes: 0, failures: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 };
}




export function openRedisStore(options: RedisStoreOptions): RedisStore {
  const prefix = options.prefix ?? "lkp:";
  const instanceId = options.instanceId ?? crypto.randomUUID();
  const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
  const maxPending = options.maxPendingUsage ?? DEFAULT_MAX_PENDING_USAGE;
  const warn = options.onWarning ?? ((message: string) => console.warn(message));
  const keys = { state: `${prefix}keystate`, days: `${prefix}usage:days`, meta: `${prefix}meta`, channel: `${prefix}changes`, usage: (day: string) => `${prefix}usage:${day}` };
  // Commands fail at once while disconnected instead of queueing without bound; the client
  // reconnects by itself.
  const connection = connectRedis(options.url);
  const send = connection.send;
  let subscriber: ReturnType<RedisConnection["subscriber"]> | undefined;
  let subscribed: Promise<void> = Promise.resolve();
  const listeners = new Set<(change: KeyStateChange) => void>();
  /** The shared key state as this instance last saw it (field → JSON), to tell what a reconcile changed. */
  let mirror = new Map<string, string>();
  /** Key-state writes Redis did not take (it was away), the last per field; null clears the field. */
  const unsent = new Map<string, KeyStateRecord | null>();
  let reconcileTimer: ReturnType<typeof setInterval> | undefined;
  let slotCount = 0;
  /** A day window's key names its end, so a new day starts a new count. */
  const limitKey = (window: SharedLimitWindow): string => `${prefix}limit:${window.name}${window.kind === "day" ? `${SEPARATOR}${window.endsAt}` : ""}`;

  let reachable = true;
  let dropped = 0;
  const pending = new Map<string, UsageRow>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const outage = (error: unknown): void => {
    if (!reachable) return;
    reachable = false;
    warn(`Redis at ${redactRedisUrl(options.url)} cannot be reached (${error instanceof Error ? error.message : String(error)}): serving on this instance's own view until it is back.`);
  };
  const healthy = (): void => {
    if (reachable) return;
    reachable = true;
    warn(`Redis at ${redactRedisUrl(options.url)} is reachable again.`);
  };


  const publish = (change: KeyStateChange): Promise<unknown> => send("PUBLISH", [keys.channel, JSON.stringify({ from: instanceId, change } satisfies ChangeMessage)]);

  const merge = (row: UsageRow): void => {
    const id = usageBucket(row);
    const merged = pending.get(id);
    if (merged) addCounters(merged, row);
    else if (pending.size < maxPending) pending.set(id, { ...row });
    else dropped += row.requests;
  };

  const scheduleFlush = (): void => {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, flushIntervalMs);
    timer.unref?.();
  };

  const flush = async (): Promise<void> => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    pending.clear();
    try {
      // One script for the whole batch, so Redis applies all of it or none: a batch that fails is
      // retried whole without counting any of it twice.
      const args: string[] = [keys.days, ...new Set(batch.map((row) => row.day))].map(String);
      const increments: string[] = [];
      for (const row of batch) {
        for (const counter of USAGE_COUNTERS) {
          if (row[counter] !== 0) increments.push(keys.usage(row.day), [row.provider, row.keyId, row.model, counter].join(SEPARATOR), String(row[counter]));
        }
      }
      await send("EVAL", [APPLY_USAGE, "0", String(args.length), ...args, ...increments]);
      healthy();
    } catch (error) {
      outage(error);
      for (const row of batch) merge(row);
      scheduleFlush();
    }
  };

  const tell = (change: KeyStateChange): void => {
    for (const listener of listeners) listener(change);
  };

  const noteInMirror = (change: KeyStateChange): void => {
    if (change.kind === "saved") mirror.set(stateField(change.record.provider, change.record.keyId, change.record.model), JSON.stringify(change.record));
    else if (change.kind === "cleared") mirror.delete(stateField(change.provider, change.keyId, change.model));
    else if (change.kind === "cleared_all") for (const field of [...mirror.keys()]) if (change.provider === undefined || field.startsWith(`${change.provider}${SEPARATOR}`)) mirror.delete(field);
  };

  const writeState = async (field: string, record: KeyStateRecord | null): Promise<void> => {
    if (record) {
      await send("HSET", [keys.state, field, JSON.stringify(record)]);
      await publish({ kind: "saved", record });
    } else {
      await send("HDEL", [keys.state, field]);
      const [provider, keyId, model] = field.split(SEPARATOR) as [string, string, string];
      await publish({ kind: "cleared", provider, keyId, model });
    }
  };

  /** A key-state write of this instance: in its view at once, in Redis now or once it is back. */
  const putState = (field: string, record: KeyStateRecord | null): void => {
    if (record) mirror.set(field, JSON.stringify(record));
    else mirror.delete(field);
    unsent.delete(field);
    writeState(field, record).then(healthy, (error: unknown) => {
      outage(error);
      if (!unsent.has(field)) unsent.set(field, record);
    });
  };

  const reconcile = async (): Promise<void> => {
    for (const [field, record] of [...unsent]) {
      await writeState(field, record);
      if (unsent.get(field) === record) unsent.delete(field);
    }
    const fresh = new Map(Object.entries(((await send("HGETALL", [keys.state])) ?? {}) as Record<string, string>));
    const changes: KeyStateChange[] = [];
    for (const [field, json] of fresh) if (mirror.get(field) !== json) changes.push({ kind: "saved", record: JSON.parse(json) as KeyStateRecord });
    for (const field of mirror.keys()) {
      if (fresh.has(field)) continue;
      const [provider, keyId, model] = field.split(SEPARATOR) as [string, string, string];
      changes.push({ kind: "cleared", provider, keyId, model });
    }
    mirror = fresh;
    healthy();
    changes.forEach(tell);
  };

  const watch = (): void => {
    if (subscriber || closed) return;
    subscriber = connection.subscriber();
    subscribed = subscriber
      .subscribe(keys.channel, (text) => {
        let message: ChangeMessage;
        try {
          message = JSON.parse(text) as ChangeMessage;
        } catch {
          return;
        }
        if (message.from === instanceId) return;
        noteInMirror(message.change);
        tell(message.change);
      })
      .then(() => undefined, outage);
    reconcileTimer = setInterval(() => void reconcile().catch(outage), options.reconcileMs ?? DEFAULT_RECONCILE_MS);
    reconcileTimer.unref?.();
  };

  return {
    addUsage(delta) {
      merge(delta);
      scheduleFlush();
    },

    saveKeyState(record) {
      putState(stateField(record.provider, record.keyId, record.model), record);
    },

    clearKeyState(provider, keyId, model) {
      putState(stateField(provider, keyId, model), null);
    },

    clearAllKeyState(provider) {
      const ours = [...mirror.keys()].filter((field) => provider === undefined || field.startsWith(`${provider}${SEPARATOR}`));
      noteInMirror({ kind: "cleared_all", ...(provider === undefined ? {} : { provider }) });
      for (const field of [...unsent.keys()]) if (provider === undefined || field.startsWith(`${provider}${SEPARATOR}`)) unsent.delete(field);
      const cleared = async (): Promise<void> => {
        if (provider === undefined) await send("DEL", [keys.state]);
        else {
          const fields = Object.keys((await send("HGETALL", [keys.state])) ?? {}).filter((field) => field.startsWith(`${provider}${SEPARATOR}`));
          if (fields.length > 0) await send("HDEL", [keys.state, ...fields]);
        }
        await publish({ kind: "cleared_all", ...(provider === undefined ? {} : { provider }) });
      };
      cleared().then(healthy, (error: unknown) => {
        outage(error);
        // What this instance knew of is cleared once Redis is back.
        for (const field of ours) if (!unsent.has(field)) unsent.set(field, null);
      });
    },

    async loadKeyState() {
      const all = ((await send("HGETALL", [keys.state])) ?? {}) as Record<string, string>;
      healthy();
      mirror = new Map(Object.entries(all));
      return Object.values(all).map((json) => JSON.parse(json) as KeyStateRecord);
    },

    async usage(query) {
      const days = query.day !== undefined ? [query.day] : (((await send("SMEMBERS", [keys.days])) ?? []) as string[]);
      const rows = new Map<string, UsageRow>();
      for (const day of days) {
        const fields = ((await send("HGETALL", [keys.usage(day)])) ?? {}) as Record<string, string>;
        for (const [field, value] of Object.entries(fields)) {
          const [provider, keyId, model, counter] = field.split(SEPARATOR) as [string, string, string, UsageCounter];
          if (!matchesUsageQuery({ day, provider, keyId }, query) || !USAGE_COUNTERS.includes(counter)) continue;
          const id = usageBucket({ day, provider, keyId, model });
          const row = rows.get(id) ?? emptyRow(day, provider, keyId, model);
          row[counter] += Number(value);
          rows.set(id, row);
        }
      }
      healthy();
      for (const [id, delta] of pending) {
        if (!matchesUsageQuery(delta, query)) continue;
        const row = rows.get(id);
        if (row) addCounters(row, delta);
        else rows.set(id, { ...delta });
      }
      return [...rows.values()];
    },

    async getMeta(name) {
      return ((await send("HGET", [keys.meta, name])) as string | null) ?? undefined;
    },

    async setMeta(name, value) {
      await send("HSET", [keys.meta, name, value]);
    },

    flush,

    async close() {
      if (closed) return;
      await flush().catch(() => {});
      closed = true;
      if (reconcileTimer !== undefined) clearInterval(reconcileTimer);
      connection.close();
      subscriber?.close();
    },

    shareIncident(provider, incident) {
      publish({ kind: "incident", provider, until: incident?.until ?? 0, message: incident?.message ?? "" }).then(healthy, outage);
    },

    async claim(name, ttlMs) {
      try {
        const answer = await send("SET", [`${prefix}claim:${name}`, instanceId, "NX", "PX", String(ttlMs)]);
        healthy();
        return answer === "OK";
      } catch (error) {
        outage(error);
        return true;
      }
    },

    async chargeLimits(windows, now) {
      if (windows.length === 0) return undefined;
      const args: string[] = [String(now)];
      for (const window of windows) args.push(window.kind === "minute" ? "m" : "d", String(window.limit), String(Math.round(window.cost)), String(window.endsAt));
      try {
        const [frees, which] = (await send("EVAL", [CHARGE_LIMITS, String(windows.length), ...windows.map(limitKey), ...args])) as [number, number];
        healthy();
        return Number(frees) === 0 ? undefined : { freesAt: Number(frees), window: Number(which) - 1 };
      } catch (error) {
        // Redis away: this instance's own count still holds.
        outage(error);
        return undefined;
      }
    },

    adjustLimitTokens(windows, second, tokens) {
      const change = String(Math.round(tokens));
      if (change === "0") return;
      for (const window of windows) {
        if (!window.tokens) continue;
        const args = window.kind === "minute" ? ["m", String(second), change, "61000"] : ["d", "", change, String(window.endsAt)];
        send("EVAL", [ADJUST_LIMIT, "1", limitKey(window), ...args]).then(healthy, outage);
      }
    },

    async acquireSlot({ provider, keyId, model }, cap) {
      const key = `${prefix}slots:${[provider, keyId, model].join(SEPARATOR)}`;
      const holder = `${instanceId}:${++slotCount}`;
      try {
        const taken = await send("EVAL", [TAKE_SLOT, "1", key, String(Date.now()), String(cap), String(Date.now() + SLOT_TTL_MS), holder, String(SLOTS_IDLE_MS)]);
        healthy();
        if (Number(taken) !== 1) return false;
      } catch (error) {
        // Redis away: the slot is granted, and this instance's own cap still holds.
        outage(error);
        return { release() {} };
      }
      const renew = setInterval(() => {
        send("ZADD", [key, "XX", String(Date.now() + SLOT_TTL_MS), holder]).catch(outage);
        send("PEXPIRE", [key, String(SLOTS_IDLE_MS)]).catch(outage);
      }, SLOT_RENEW_MS);
      renew.unref?.();
      let held = true;
      return {
        release() {
          if (!held) return;
          held = false;
          clearInterval(renew);
          send("ZREM", [key, holder]).then(healthy, outage);
        },
      };
    },

    watchKeyState(listener) {
      listeners.add(listener);
      watch();
      return () => listeners.delete(listener);
    },

    watching: () => subscribed,
    reconcile,
    health: () => ({ shared: true, reachable, droppedUsage: dropped }),
  };
}
