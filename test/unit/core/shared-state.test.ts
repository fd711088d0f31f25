/**
 * The engine over a state that answers later and that other processes write too: the contract a
 * networked store (Redis, in cluster mode) builds on. A fake shared store stands for the network:
 * each "process" gets a view that writes to the shared records and hears the other views' writes.
 */

import { describe, expect, test } from "bun:test";
import { createEngine } from "../../../src/core/create-engine.ts";
import type { ProviderSettings } from "../../../src/config/discover-providers.ts";
import { keyId } from "../../../src/key-identity.ts";
import type { KeyStateChange, KeyStateRecord, Store } from "../../../src/store/types.ts";

const KEYS = ["sk-shared-key-aaaa1111", "sk-shared-key-bbbb2222"];
const PROVIDER: ProviderSettings = {
  name: "mine",
  displayName: "mine",
  family: "openai",
  baseUrl: "http://127.0.0.1:9/v1",
  keys: KEYS.map((secret) => ({ secret })),
  custom: true,
  ignoreModels: [],
  whitelistModels: [],
  responsesApi: "translate",
};
const FAR = () => Date.now() + 60_000;
const stateKey = (provider: string, key: string, model: string) => `${provider}\u0000${key}\u0000${model}`;

/** Records shared by every view; a view's writes reach the other views' watchers, as a pub/sub would. */
function sharedState(options: { delayMs?: number; failLoad?: boolean } = {}) {
  const records = new Map<string, KeyStateRecord>();
  const watchers = new Set<{ view: number; listener: (change: KeyStateChange) => void }>();
  const later = <T>(value: T): Promise<T> =>
    new Promise((resolve, reject) => setTimeout(() => (options.failLoad ? reject(new Error("connection refused")) : resolve(value)), options.delayMs ?? 0));
  let views = 0;
  return {
    records,
    view(): Store {
      const me = ++views;
      const publish = (change: KeyStateChange) => {
        for (const watcher of watchers) if (watcher.view !== me) watcher.listener(change);
      };
      return {
        addUsage() {},
        saveKeyState(record) {
          records.set(stateKey(record.provider, record.keyId, record.model), { ...record });
          publish({ kind: "saved", record: { ...record } });
        },
        clearKeyState(provider, key, model) {
          records.delete(stateKey(provider, key, model));
          publish({ kind: "cleared", provider, keyId: key, model });
        },
        clearAllKeyState(provider) {
          for (const [id, record] of records) if (provider === undefined || record.provider === provider) records.delete(id);
          publish({ kind: "cleared_all", provider });
        },
        loadKeyState: () => later([...records.values()]),
        usage: () => later([]),
        getMeta: () => later(String(Date.now())),
        setMeta: () => later(undefined),
        flush: () => later(undefined),
        close: () => later(undefined),
        watchKeyState(listener) {
          const watcher = { view: me, listener };
          watchers.add(watcher);
          return () => watchers.delete(watcher);
        },
      };
    },
  };
}

function engineOn(state: Store, onStateUnavailable?: (error: unknown) => void) {
  return createEngine({ providers: [PROVIDER], state, resetMinuteUtc: 180, onStateUnavailable });
}

describe("a state that answers later", () => {
  test("the pools hold the saved state once ready has settled", async () => {
    const shared = sharedState({ delayMs: 20 });
    shared.records.set("x", { provider: "mine", keyId: keyId(KEYS[0]!), model: "m", until: FAR(), strikes: 2, reason: "rate limited", pinned: false });
    const engine = engineOn(shared.view());
    const pool = engine.providers.get("mine")!.pool;
    expect(pool.standing().cooling).toBe(0);
    await engine.ready;
    expect(pool.standing()).toMatchObject({ cooling: 1, healthy: 1 });
    expect(pool.addStrike(0, "m")).toBe(3);
    engine.stop();
  });

  test("a state that cannot be read degrades to fresh keys, said once, and ready still settles", async () => {
    const errors: unknown[] = [];
    const engine = engineOn(sharedState({ failLoad: true }).view(), (error) => errors.push(error));
    await engine.ready;
    expect(errors.map(String)).toEqual(["Error: connection refused"]);
    expect(engine.providers.get("mine")!.pool.standing()).toMatchObject({ healthy: 2 });
    engine.stop();
  });
});

describe("a state other processes write", () => {
  test("a key one process cools or disables is passed over by the other, and its reset reaches both", async () => {
    const shared = sharedState();
    const first = engineOn(shared.view());
    const second = engineOn(shared.view());
    await Promise.all([first.ready, second.ready]);
    const here = first.providers.get("mine")!.pool;
    const there = second.providers.get("mine")!.pool;

    here.coolDown(0, "m", FAR(), "rate limited (HTTP 429)");
    expect(there.passedOver("m")).toEqual([expect.objectContaining({ masked: "…1111", why: "cooling", reason: "rate limited (HTTP 429)" })]);
    const acquired = await there.acquire("m", { exclude: new Set(), deadline: FAR() });
    expect(acquired.kind === "lease" && acquired.lease.keyId).toBe(keyId(KEYS[1]!));
    if (acquired.kind === "lease") acquired.lease.release();

    here.disable(1, FAR(), "invalid key (HTTP 401)");
    expect(there.standing()).toMatchObject({ disabled: 1, cooling: 1, healthy: 0 });

    second.providers.get("mine")!.pool.reset();
    expect(here.standing()).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
    expect(shared.records.size).toBe(0);
    first.stop();
    second.stop();
  });

  test("a stopped engine no longer hears the others", async () => {
    const shared = sharedState();
    const first = engineOn(shared.view());
    const second = engineOn(shared.view());
    await Promise.all([first.ready, second.ready]);
    second.stop();
    first.providers.get("mine")!.pool.coolDown(0, "m", FAR(), "rate limited");
    expect(second.providers.get("mine")!.pool.standing().cooling).toBe(0);
    first.stop();
  });
});
