/**
 * The {@link Store} on Redis (or Valkey), for cluster mode: several proxy instances share key
 * state, usage and the last daily reset through one Redis, with Bun's built-in client. Every key
 * is namespaced by the prefix, and holds key ids (the short hash), never a key.
 *
 * - Key state: one hash (`<prefix>keystate`), a field per (provider, key id, model), the record as
 *   JSON. Each change is written at once and published on `<prefix>changes`, so the other
 *   instances' pools take it in (`watchKeyState`); an instance ignores its own messages.
 * - Usage: a hash per usage day (`<prefix>usage:<day>`), a field per (provider, key id, model,
 *   counter), merged with HINCRBY in batches at most `flushIntervalMs` behind; `<prefix>usage:days`
 *   lists the days.
 * - Meta: one hash (`<prefix>meta`).
 *
 * Redis down never fails a request: writes are fire-and-forget, usage deltas wait in a bounded
 * buffer (beyond it they are dropped and counted), key-state writes made while apart are lost
 * (the cluster reconcile repairs them), and one warning is given per outage, not per write.
 */

import { RedisClient } from "bun";
import type { KeyStateChange, KeyStateRecord, Store, UsageDelta, UsageQuery, UsageRow } from "./types.ts";

export interface RedisStoreOptions {
  /** `redis://` or `rediss://`, with user and password when Redis needs them. */
  url: string;
  /** Namespaces every key and the channel (default `lkp:`). */
  prefix?: string;
  /** This instance, so that its own published changes are not applied twice. Default: random. */
  instanceId?: string;
  /** Longest time a usage delta waits before reaching Redis. Default 1000. */
  flushIntervalMs?: number;
  /** Usage buckets kept while Redis cannot be reached; beyond, deltas are dropped and counted. Default 100,000. */
  maxPendingUsage?: number;
  /** One sentence per outage (and one when it ends); never holds the URL's password. */
  onWarning?: (message: string) => void;
}

export interface RedisStore extends Store {
  /** Requests whose usage was dropped because Redis stayed unreachable past the buffer. */
  droppedUsage(): number;
  /** Settles once the change channel is subscribed (after the first `watchKeyState`). */
  watching(): Promise<void>;
  /** Whether the last exchange with Redis succeeded. */
  reachable(): boolean;
}

const COUNTERS = ["requests", "successes", "failures", "promptTokens", "completionTokens", "cachedTokens", "reasoningTokens"] as const;
const SEPARATOR = "\u0000";
const DEFAULT_FLUSH_INTERVAL_MS = 1_000;
const DEFAULT_MAX_PENDING_USAGE = 100_000;
/** The client's largest retry count: an instance keeps trying for as long as it runs. */
const RECONNECT_FOREVER = 4_294_967_295;

interface ChangeMessage {
  from: string;
  change: KeyStateChange;
}

const stateField = (provider: string, keyId: string, model: string): string => [provider, keyId, model].join(SEPARATOR);
const usageBucket = (delta: Pick<UsageDelta, "day" | "provider" | "keyId" | "model">): string => [delta.day, delta.provider, delta.keyId, delta.model].join(SEPARATOR);

function matches(row: Pick<UsageDelta, "day" | "provider" | "keyId">, query: UsageQuery): boolean {
  return (query.day === undefined || query.day === row.day) && (query.provider === undefined || query.provider === row.provider) && (query.keyId === undefined || query.keyId === row.keyId);
}

function emptyRow(day: string, provider: string, keyId: string, model: string): UsageRow {
  return { day, provider, keyId, model, requests: 0, successes: 0, failures: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0 };
}

function addCounters(into: UsageRow, delta: UsageDelta): void {
  for (const counter of COUNTERS) into[counter] += delta[counter];
}

/** The password in a Redis URL, for the redactor that masks every secret in console lines. */
export function redisPassword(url: string): string | undefined {
  const match = /^rediss?:\/\/[^@/]*:([^@/]+)@/.exec(url);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

/** The URL as a log line may show it: no user, no password. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)[^@/]*@/, "$1");
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
  const client = new RedisClient(options.url, { enableOfflineQueue: false, autoReconnect: true, maxRetries: RECONNECT_FOREVER });
  // Commands wait for the first connection only; after that a lost connection fails them at once.
  let firstConnection: Promise<void> | undefined;
  const send = async (command: string, args: string[]): Promise<unknown> => {
    firstConnection ??= client.connect().catch(() => {});
    await firstConnection;
    return client.send(command, args);
  };
  let subscriber: RedisClient | undefined;
  let subscribed: Promise<void> = Promise.resolve();
  const listeners = new Set<(change: KeyStateChange) => void>();

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
  /** A command whose failure is an outage, never an exception in a request. */
  const quietly = (work: Promise<unknown>): void => {
    work.then(healthy, outage);
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
      const days = new Set(batch.map((row) => row.day));
      const commands: Promise<unknown>[] = [send("SADD", [keys.days, ...days])];
      for (const row of batch) {
        for (const counter of COUNTERS) {
          if (row[counter] !== 0) commands.push(send("HINCRBY", [keys.usage(row.day), [row.provider, row.keyId, row.model, counter].join(SEPARATOR), String(row[counter])]));
        }
      }
      await Promise.all(commands);
      healthy();
    } catch (error) {
      // Some increments may have landed; the rest wait for the next flush. A batch is retried
      // whole, so a partial failure can count a delta twice: rare, and bounded by one batch.
      outage(error);
      for (const row of batch) merge(row);
      scheduleFlush();
    }
  };

  const watch = (): void => {
    if (subscriber || closed) return;
    subscriber = new RedisClient(options.url, { autoReconnect: true, maxRetries: RECONNECT_FOREVER });
    subscribed = subscriber
      .subscribe(keys.channel, (text) => {
        let message: ChangeMessage;
        try {
          message = JSON.parse(text) as ChangeMessage;
        } catch {
          return;
        }
        if (message.from === instanceId) return;
        for (const listener of listeners) listener(message.change);
      })
      .then(() => undefined, outage);
  };

  return {
    addUsage(delta) {
      merge(delta);
      scheduleFlush();
    },

    saveKeyState(record) {
      quietly(send("HSET", [keys.state, stateField(record.provider, record.keyId, record.model), JSON.stringify(record)]).then(() => publish({ kind: "saved", record })));
    },

    clearKeyState(provider, keyId, model) {
      quietly(send("HDEL", [keys.state, stateField(provider, keyId, model)]).then(() => publish({ kind: "cleared", provider, keyId, model })));
    },

    clearAllKeyState(provider) {
      const cleared = async (): Promise<void> => {
        if (provider === undefined) await send("DEL", [keys.state]);
        else {
          const fields = Object.keys((await send("HGETALL", [keys.state])) ?? {}).filter((field) => field.startsWith(`${provider}${SEPARATOR}`));
          if (fields.length > 0) await send("HDEL", [keys.state, ...fields]);
        }
        await publish({ kind: "cleared_all", ...(provider === undefined ? {} : { provider }) });
      };
      quietly(cleared());
    },

    async loadKeyState() {
      const all = ((await send("HGETALL", [keys.state])) ?? {}) as Record<string, string>;
      healthy();
      return Object.values(all).map((json) => JSON.parse(json) as KeyStateRecord);
    },

    async usage(query) {
      const days = query.day !== undefined ? [query.day] : (((await send("SMEMBERS", [keys.days])) ?? []) as string[]);
      const rows = new Map<string, UsageRow>();
      for (const day of days) {
        const fields = ((await send("HGETALL", [keys.usage(day)])) ?? {}) as Record<string, string>;
        for (const [field, value] of Object.entries(fields)) {
          const [provider, keyId, model, counter] = field.split(SEPARATOR) as [string, string, string, (typeof COUNTERS)[number]];
          if (!matches({ day, provider, keyId }, query) || !COUNTERS.includes(counter)) continue;
          const id = usageBucket({ day, provider, keyId, model });
          const row = rows.get(id) ?? emptyRow(day, provider, keyId, model);
          row[counter] += Number(value);
          rows.set(id, row);
        }
      }
      healthy();
      for (const [id, delta] of pending) {
        if (!matches(delta, query)) continue;
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
      client.close();
      subscriber?.close();
    },

    watchKeyState(listener) {
      listeners.add(listener);
      watch();
      return () => listeners.delete(listener);
    },

    droppedUsage: () => dropped,
    watching: () => subscribed,
    reachable: () => reachable,
  };
}
