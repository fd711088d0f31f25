#!/usr/bin/env bun
/**
 * Cluster mode: how long a key-state change made by one instance takes to reach another. Two
 * engines, each with its own Redis store (own connections, as two instances have), on one
 * redis-server started for the run; instance A cools a key, the time is taken when instance B's
 * pool shows it cooling, then A clears it and the time is taken when B's pool shows it ready.
 * Both engines share this process (one event loop), so the figure is Redis's round trip plus the
 * subscriber's parse and the pool's apply, without a second process's scheduling.
 *
 *   bun bench/cluster-propagation.ts [--changes 1000] [--name cluster-propagation]
 */

import { parseArgs } from "node:util";
import type { ProviderSettings } from "../src/config/discover-providers.ts";
import { createEngine } from "../src/core/create-engine.ts";
import type { KeyPool } from "../src/engine/key-pool.ts";
import { openRedisStore } from "../src/store/redis.ts";
import { startRedis } from "../test/support/redis-server.ts";
import { percentile } from "./clients.ts";
import { describeMachine, fmt, sourceVersion, writeReport } from "./report.ts";

const { values } = parseArgs({ options: { changes: { type: "string", default: "1000" }, name: { type: "string", default: "cluster-propagation" } } });
const CHANGES = Number(values.changes);
const TARGET_P99_MS = 100;

const provider: ProviderSettings = {
  name: "openai",
  displayName: "OpenAI",
  family: "openai",
  baseUrl: "http://127.0.0.1:9/v1",
  keys: [{ secret: "sk-bench-cluster-0001" }, { secret: "sk-bench-cluster-0002" }],
  custom: false,
  ignoreModels: [],
  whitelistModels: [],
  responsesApi: "native",
};

const started = performance.now();
const redis = await startRedis();
const stores = [0, 1].map((index) => openRedisStore({ url: redis.url, prefix: "bench:", instanceId: `bench-${index}`, reconcileMs: 3_600_000 }));
const engines = stores.map((state) => createEngine({ providers: [provider], state, resetMinuteUtc: 180 }));
try {
  await Promise.all(engines.map((engine) => engine.ready));
  await Promise.all(stores.map((store) => store.watching()));
  const [here, there] = engines.map((engine) => engine.providers.get("openai")!.pool) as [KeyPool, KeyPool];

  /** Polls B's pool (a microtask-free spin would starve the subscriber, so each check yields). */
  const seen = async (cooling: number): Promise<number> => {
    const t0 = performance.now();
    while (there.standing().cooling !== cooling) {
      if (performance.now() - t0 > 5_000) throw new Error("a change did not arrive within 5 s");
      await new Promise((resolve) => setImmediate(resolve));
    }
    return performance.now() - t0;
  };

  const samples: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const t0 = performance.now();
    if (i % 2 === 0) here.coolDown(0, "gpt-4o", Date.now() + 60_000, "rate limited (HTTP 429)");
    else here.reset({ keyId: here.standing().keys[0]!.id });
    await seen(i % 2 === 0 ? 1 : 0);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  const row = {
    id: "15b",
    what: `Cluster change propagation, instance A's pool → instance B's pool through Redis, ${CHANGES} changes (cool / reset alternating)`,
    measured: `p50 ${fmt.ms(p50)}, p99 ${fmt.ms(p99)}`,
    against: "—",
    judged: `p99 ${fmt.ms(p99)}`,
    target: `p99 ≤ ${TARGET_P99_MS} ms`,
    pass: p99 <= TARGET_P99_MS,
  };
  const path = writeReport(
    {
      date: new Date().toISOString().slice(0, 10),
      machine: describeMachine(),
      layout: ["one process: two engines, each with its own Redis store and connections; redis-server (Debian) as its own process."],
      rows: [row],
      details: [`max ${fmt.ms(samples.at(-1)!)}, min ${fmt.ms(samples[0]!)}; source ${sourceVersion()}.`],
      durationSeconds: (performance.now() - started) / 1000,
      command: "bun bench/cluster-propagation.ts",
    },
    values.name,
  );
  console.log(`${row.what}: ${row.measured} (${row.pass ? "pass" : "MISS"}, target ${row.target}); report: ${path}`);
} finally {
  for (const engine of engines) engine.stop();
  for (const store of stores) await store.close();
  await redis.dispose();
}
