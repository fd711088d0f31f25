#!/usr/bin/env bun
/**
 * Cluster mode's cost on one instance: the same proxy with and without `REDIS_URL`, non-stream
 * chat at c=64 against the fast mock, alternating wrk runs (A B A B …), medians. Both proxies on
 * core 1 (one loaded at a time); wrk, the mock and redis-server on core 0. Target ≥ 0.9×. Then
 * two cluster instances loaded at once against one alone (this machine gives servers one core).
 *
 *   bun bench/cluster-throughput.ts [--rounds 5] [--seconds 2] [--name cluster-throughput]
 */

import { parseArgs } from "node:util";
import { startRedis } from "../test/support/redis-server.ts";
import { percentile } from "./clients.ts";
import { BUN, cpuSeconds, freePorts, pin, removeTempDirs, startChild, type Child } from "./processes.ts";
import { describeMachine, fmt, sourceVersion, writeReport } from "./report.ts";
import { LOAD_CORE, PROXY_HEADERS, chatBody, keyList, proxyEnv, startProxy } from "./setup.ts";
import { runWrk } from "./wrk.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" }, seconds: { type: "string", default: "2" }, name: { type: "string", default: "cluster-throughput" } } });
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const TARGET = 0.9;

const started = performance.now();
const redis = await startRedis();
const children: Child[] = [];
try {
  const [mockPort, standalonePort, clusterPort] = freePorts(3) as [number, number, number];
  const mock = await startChild({ name: "mock", cmd: [BUN, "bench/fast-mock.ts", String(mockPort)], cores: LOAD_CORE, port: mockPort, timeoutMs: 10_000 });
  children.push(mock);
  const keys = keyList(5);
  const proxies = {
    standalone: await startProxy("standalone", proxyEnv(mock.url, keys), standalonePort),
    cluster: await startProxy("cluster", proxyEnv(mock.url, keys, { REDIS_URL: redis.url, REDIS_PREFIX: "bench-throughput:" }), clusterPort),
  };
  children.push(proxies.standalone, proxies.cluster);
  pin(process.pid, LOAD_CORE);

  const body = chatBody("openai/gpt-bench-0");
  const run = (child: Child) => runWrk({ url: `${child.url}/v1/chat/completions`, bodies: [body], headers: PROXY_HEADERS, connections: 64, seconds: SECONDS, cores: LOAD_CORE });
  const rps = { standalone: [] as number[], cluster: [] as number[] };
  const cpuPerRequest = { standalone: [] as number[], cluster: [] as number[] };
  for (const name of ["standalone", "cluster"] as const) await run(proxies[name]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of round % 2 === 0 ? (["standalone", "cluster"] as const) : (["cluster", "standalone"] as const)) {
      const before = cpuSeconds(proxies[name].pid);
      const result = await run(proxies[name]);
      if (result.non2xx > 0 || result.socketErrors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.socketErrors} socket errors`);
      rps[name].push(result.rps);
      cpuPerRequest[name].push(((cpuSeconds(proxies[name].pid) - before) * 1e6) / result.requests);
    }
  }
  // Two cluster instances loaded at once (two wrk processes, half the connections each) against
  // the one instance alone. This machine has two cores: the second instance runs on core 0, beside
  // wrk, the mock and Redis, so the figure says what a second instance adds on a box that is full.
  const second = await startProxy("cluster-2", proxyEnv(mock.url, keys, { REDIS_URL: redis.url, REDIS_PREFIX: "bench-throughput:" }), freePorts(1)[0]!);
  pin(second.pid, LOAD_CORE);
  children.push(second);
  const halfRun = (child: Child) => runWrk({ url: `${child.url}/v1/chat/completions`, bodies: [body], headers: PROXY_HEADERS, connections: 32, seconds: SECONDS, cores: LOAD_CORE });
  const pairRps: number[] = [];
  await Promise.all([halfRun(proxies.cluster), halfRun(second)]);
  for (let round = 0; round < ROUNDS; round++) {
    const [one, two] = await Promise.all([halfRun(proxies.cluster), halfRun(second)]);
    pairRps.push(one.rps + two.rps);
  }

  const median = (list: number[]) => percentile([...list].sort((a, b) => a - b), 50);
  const ratio = median(rps.cluster) / median(rps.standalone);
  const pairRatio = median(pairRps) / median(rps.cluster);
  const row = {
    id: "15a",
    what: "Cluster mode (REDIS_URL) vs standalone, one instance, non-stream chat c=64",
    measured: fmt.rps(median(rps.cluster)),
    against: fmt.rps(median(rps.standalone)),
    judged: fmt.times(ratio),
    target: `≥ ${TARGET}×`,
    pass: ratio >= TARGET,
  };
  const path = writeReport(
    {
      date: new Date().toISOString().slice(0, 10),
      machine: describeMachine(),
      layout: ["both proxies on core 1 (one loaded at a time); wrk, the fast mock and redis-server on core 0."],
      rows: [
        row,
        {
          id: "15c",
          what: "Two cluster instances loaded together (2 × c=32) vs one (c=64); the second on the load core",
          measured: fmt.rps(median(pairRps)),
          against: fmt.rps(median(rps.cluster)),
          judged: fmt.times(pairRatio),
          target: "≥ 1.0× (the box is the limit)",
          pass: pairRatio >= 1,
        },
      ],
      details: [
        `req/s per round — standalone: ${rps.standalone.map((v) => v.toFixed(0)).join(", ")}; cluster: ${rps.cluster.map((v) => v.toFixed(0)).join(", ")}.`,
        `proxy CPU µs per request (all threads, /proc) — standalone: ${fmt.ms(median(cpuPerRequest.standalone) / 1000)}, cluster: ${fmt.ms(median(cpuPerRequest.cluster) / 1000)}.`,
        `two instances together, req/s per round: ${pairRps.map((v) => v.toFixed(0)).join(", ")}.`,
        `source ${sourceVersion()}.`,
      ],
      durationSeconds: (performance.now() - started) / 1000,
      command: "bun bench/cluster-throughput.ts",
    },
    values.name,
  );
  console.log(`${row.what}: ${row.measured} vs ${row.against} → ${row.judged} (${row.pass ? "pass" : "MISS"}, target ${row.target})`);
  console.log(`Two instances together vs one: ${fmt.rps(median(pairRps))} vs ${fmt.rps(median(rps.cluster))} → ${fmt.times(pairRatio)}; report: ${path}`);
} finally {
  for (const child of children.reverse()) await child.stop();
  await redis.dispose();
  removeTempDirs();
}
