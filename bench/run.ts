#!/usr/bin/env bun
/**
 * The benchmark suite, one command: `npm run bench` (bun bench/run.ts). Everything runs on
 * loopback on this machine in one go, so the ratios between measurements hold even on a noisy box.
 *
 * Processes: the fast mock upstream (bench/fast-mock.ts), the reference passthrough
 * (bench/reference-passthrough.ts) and several proxies (src/main.ts, each its own process, so an
 * RSS is one proxy's alone), each with a generated .env. Load comes from wrk (throughput) and from
 * this process (latency, streams); bench/open-streams.ts holds 1,000 streams.
 *
 * Cores (2-core machine): servers under test on core 1; this process, wrk and the mock on core 0.
 * wrk and the mock are far cheaper per request than the proxy, so core 0 never limits a proxy
 * run (checked: direct throughput ≥ 3× the proxy's). Latency at concurrency 1 is measured twice:
 * in that split layout, and with everything on core 0 — at concurrency 1 the work is serial, and
 * one shared core removes the cross-core wake-up (0.2–1 ms on a VM) that the split layout adds.
 *
 * Measurements alternate between the things compared (A B A B …) and report medians, so a slow
 * patch hits both. Every wrk run is ≤ 2 s and every sampling loop stops at 10 s; two phases are
 * longer by nature and bounded too: the 100k-request memory run (2 s runs, capped at 60 s) and
 * the wait for the logging proxy to write its backlog after each run (capped at 20 s).
 *
 * Options: --skip-binary (no build), --quick (shorter rounds, for trying the suite out),
 * --keep-temp (keep the temporary folders: .env files, data, logs, process output, the binary),
 * --only 2,9 (just those groups; every server still starts), --name X (report to <date>-X.md).
 * Where a proxy spends its time under one of these loads: `bun bench/profile.ts <scenario>`.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { measureBinary } from "./binary.ts";
import { opsPerSecond } from "./key-selection.ts";
import { median, percentile, sampleLatency, sampleStreams, type StreamSample, type Target } from "./clients.ts";
import { PROXY_KEY } from "./reference-passthrough.ts";
import { BUN, ROOT, cpuSeconds, freePorts, memoryMb, pin, removeTempDirs, settle, startChild, tempDir, writeEnvFile, type Child } from "./processes.ts";
import { JSON_HEADERS, LOAD_CORE, MODELS, PROMPT, PROXY_HEADERS, SERVER_CORE, chatBody, keyList, proxyEnv, responsesBody, startProxy } from "./setup.ts";
import { describeMachine, fmt, renderTable, writeReport, type Row } from "./report.ts";
import { haveWrk, runWrk, type WrkResult } from "./wrk.ts";

const QUICK = process.argv.includes("--quick");
const SKIP_BINARY = process.argv.includes("--skip-binary");

/** The value after `flag` (`--only 9`) or in it (`--only=9`). */
function optionValue(flag: string): string | undefined {
  const at = process.argv.findIndex((arg) => arg === flag || arg.startsWith(`${flag}=`));
  if (at === -1) return undefined;
  const arg = process.argv[at]!;
  return arg.includes("=") ? arg.slice(flag.length + 1) : process.argv[at + 1];
}
/** `--only 2,9`: just those measurement groups (issue items 1–9). */
const ONLY = optionValue("--only")?.split(",").map((item) => item.trim()).filter((item) => item !== "");
/** `--name responses`: the report goes to bench/results/<date>-responses.md. */
const REPORT_NAME = optionValue("--name");

/** Seconds per throughput run, and A/B rounds per comparison. */
const RUN_SECONDS = QUICK ? 1 : 2;
const ROUNDS = QUICK ? 2 : 5;
const CONNECTIONS = 64;
/** A memory file system for the logging comparison (Linux). */
const TMPFS = "/dev/shm";

interface Servers {
  mock: Child;
  reference: Child;
  /** 1 OpenAI key + 1 Gemini key, request logging off. */
  proxy: Child;
  /**
   * Each comparison of proxies (4, 5, 7) uses two started together and loaded alike, so neither
   * has more warm-up (JIT) behind it than the other.
   */
  keys1: Child;
  keys10k: Child;
  healthy100: Child;
  failing100: Child;
  loggingOff: Child;
  logging: Child;
  /** Logging into a memory file system (/dev/shm), when the machine has one: the disk's share of 7. */
  loggingTmpfs?: Child;
}

interface Collected {
  rows: Row[];
  details: string[];
}

// ---------------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------------

async function startServers(): Promise<{ servers: Servers; idleRssMb: number }> {
  const [mockPort, referencePort, ...ports] = freePorts(10);
  const mock = await startChild({ name: "mock", cmd: [BUN, "bench/fast-mock.ts", String(mockPort)], cores: LOAD_CORE, port: mockPort!, timeoutMs: 10_000 });
  const reference = await startChild({
    name: "reference",
    cmd: [BUN, "bench/reference-passthrough.ts", `${mock.url}/v1`, String(referencePort)],
    cores: SERVER_CORE,
    port: referencePort!,
  });
  const proxy = await startProxy("proxy", proxyEnv(mock.url, ["sk-bench-only"]), ports[0]!);
  // Idle RSS: after start and a moment to settle, before any request.
  await Bun.sleep(1_000);
  const idleRssMb = memoryMb(proxy.pid).rss;
  const [keys1, keys10k, healthy100, failing100, loggingOff, logging, loggingTmpfs] = await Promise.all([
    startProxy("keys1", proxyEnv(mock.url, keyList(1)), ports[1]!),
    startProxy("keys10k", proxyEnv(mock.url, keyList(10_000)), ports[2]!),
    startProxy("healthy100", proxyEnv(mock.url, keyList(100)), ports[3]!),
    startProxy("failing100", proxyEnv(mock.url, [...keyList(50), ...keyList(50, "fail-bench")]), ports[4]!),
    startProxy("logging-off", proxyEnv(mock.url, ["sk-bench-only"]), ports[5]!),
    startProxy("logging", proxyEnv(mock.url, ["sk-bench-only"], { REQUEST_LOGGING: "true" }), ports[6]!),
    existsSync(TMPFS)
      ? startProxy("logging-tmpfs", proxyEnv(mock.url, ["sk-bench-only"], { REQUEST_LOGGING: "true", LOG_DIR: tempDir("logs", TMPFS) }), ports[7]!)
      : undefined,
  ]);
  return { servers: { mock, reference, proxy, keys1, keys10k, healthy100, failing100, loggingOff, logging, loggingTmpfs }, idleRssMb };
}

// ---------------------------------------------------------------------------------------------
// Throughput helpers
// ---------------------------------------------------------------------------------------------

interface LoadTarget {
  name: string;
  server: Child;
  url: string;
  bodies: string[];
  headers: Record<string, string>;
}

interface ThroughputStats {
  /** Median over the runs of requests/s as wrk saw it. */
  rps: number;
  /**
   * Median over the runs of requests / (run time + time the server stayed busy afterwards): work a
   * server defers (log writes) is part of what a request costs under sustained load.
   */
  sustainedRps: number;
  runs: WrkResult[];
  /** CPU time the server used per request, µs (all threads, from /proc, busy time afterwards included). */
  cpuUsPerRequest: number;
  /** Median time the server stayed busy after a run, ms. */
  drainMs: number;
}

interface MeasuredRun {
  result: WrkResult;
  cpu: number;
  drainMs: number;
}

interface CompareOptions {
  /** Runs once the warm-up is over, before the measured rounds. */
  afterWarmup?: () => Promise<void>;
  seconds?: number;
  rounds?: number;
  /** Warm-up run per target before the measured rounds (default 2 s). */
  warmupSeconds?: number;
  /** Longest wait for a server to go idle after a run (default 5 s). */
  settleMaxMs?: number;
}

function wrkFor(target: LoadTarget, seconds: number): Promise<WrkResult> {
  return runWrk({ url: target.url, bodies: target.bodies, headers: target.headers, connections: CONNECTIONS, seconds, cores: LOAD_CORE });
}

/**
 * One measured wrk run, then a wait until the server is idle, so nothing spills into the next
 * run on the same core; the server's CPU time covers both.
 */
async function measuredRun(target: LoadTarget, seconds: number, settleMaxMs = 5_000): Promise<MeasuredRun> {
  const before = cpuSeconds(target.server.pid);
  const result = await wrkFor(target, seconds);
  // settle() watches 200 ms windows; the last, idle one is not drain.
  const drainMs = Math.max(0, (await settle(target.server.pid, settleMaxMs)) - 200);
  return { result, cpu: cpuSeconds(target.server.pid) - before, drainMs };
}

/** A warm-up run each, then alternating rounds (A B, B A, …); medians per target. */
async function compareThroughput(targets: readonly LoadTarget[], collected: Collected, label: string, options: CompareOptions = {}): Promise<Map<string, ThroughputStats>> {
  const seconds = options.seconds ?? RUN_SECONDS;
  for (const target of targets) {
    await wrkFor(target, options.warmupSeconds ?? 2);
    await settle(target.server.pid, options.settleMaxMs);
  }
  await options.afterWarmup?.();
  const runs = new Map(targets.map((target) => [target.name, [] as MeasuredRun[]]));
  for (let round = 0; round < (options.rounds ?? ROUNDS); round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) runs.get(target.name)!.push(await measuredRun(target, seconds, options.settleMaxMs));
  }
  const stats = new Map<string, ThroughputStats>();
  for (const target of targets) {
    const list = runs.get(target.name)!;
    const requests = list.reduce((sum, run) => sum + run.result.requests, 0);
    const cpuUs = (list.reduce((sum, run) => sum + run.cpu, 0) / requests) * 1e6;
    const failures = list.reduce((sum, run) => sum + run.result.non2xx + run.result.socketErrors, 0);
    const drainMs = median(list.map((run) => run.drainMs));
    stats.set(target.name, {
      rps: median(list.map((run) => run.result.rps)),
      sustainedRps: median(list.map((run) => run.result.requests / (run.result.seconds + run.drainMs / 1000))),
      runs: list.map((run) => run.result),
      cpuUsPerRequest: cpuUs,
      drainMs,
    });
    collected.details.push(
      `${label} — ${target.name}: ${list.map((run) => Math.round(run.result.rps)).join(" / ")} req/s (${seconds} s runs, c=${CONNECTIONS}), ` +
        `server CPU ${Math.round(cpuUs)} µs/request${drainMs >= 200 ? `, busy ${(drainMs / 1000).toFixed(1)} s after each run (median)` : ""}` +
        `${failures > 0 ? `, **${failures} non-2xx or socket errors**` : ""}`,
    );
  }
  return stats;
}

// ---------------------------------------------------------------------------------------------
// 1. Added latency at concurrency 1
// ---------------------------------------------------------------------------------------------

function latencyTargets(servers: Servers): Target[] {
  return [
    { name: "direct", url: `${servers.mock.url}/v1/chat/completions`, body: chatBody("gpt-bench"), headers: { ...JSON_HEADERS, authorization: "Bearer sk-direct" } },
    { name: "reference", url: `${servers.reference.url}/v1/chat/completions`, body: chatBody("gpt-bench"), headers: PROXY_HEADERS },
    { name: "proxy", url: `${servers.proxy.url}/v1/chat/completions`, body: chatBody("openai/gpt-bench"), headers: PROXY_HEADERS },
  ];
}

interface Added {
  p50: number;
  p99: number;
}

function addedOver(samples: Map<string, number[]>, name: string): Added {
  const direct = samples.get("direct")!;
  const own = samples.get(name)!;
  return { p50: percentile(own, 50) - percentile(direct, 50), p99: percentile(own, 99) - percentile(direct, 99) };
}

async function measureLatency(servers: Servers, collected: Collected): Promise<void> {
  const rounds = QUICK ? 1_000 : 3_000;
  const layouts: { label: string; cores: string }[] = [
    { label: "split (servers on core 1)", cores: SERVER_CORE },
    { label: "shared core 0", cores: LOAD_CORE },
  ];
  for (const [index, layout] of layouts.entries()) {
    pin(servers.reference.pid, layout.cores);
    pin(servers.proxy.pid, layout.cores);
    const samples = await sampleLatency(latencyTargets(servers), rounds, 10_000);
    const proxy = addedOver(samples, "proxy");
    const reference = addedOver(samples, "reference");
    for (const [name, list] of samples) {
      collected.details.push(
        `1. latency c=1, ${layout.label} — ${name}: p50 ${fmt.ms(percentile(list, 50))}, p90 ${fmt.ms(percentile(list, 90))}, p99 ${fmt.ms(percentile(list, 99))} (${list.length} requests)`,
      );
    }
    const [p50Id, p99Id] = index === 0 ? ["1a", "1b"] : ["1c", "1d"];
    collected.rows.push(
      {
        id: p50Id,
        what: `Added latency p50, c=1, ${layout.label}`,
        measured: `proxy +${fmt.ms(proxy.p50)}`,
        against: `reference +${fmt.ms(reference.p50)}`,
        judged: fmt.times(proxy.p50 / reference.p50),
        target: "≤ 1.5× reference",
        pass: proxy.p50 <= 1.5 * reference.p50,
      },
      {
        id: p99Id,
        what: `Added latency p99, c=1, ${layout.label}`,
        measured: `proxy +${fmt.ms(proxy.p99)}`,
        against: `reference +${fmt.ms(reference.p99)}`,
        judged: fmt.ms(proxy.p99),
        target: "≤ 1 ms",
        pass: proxy.p99 <= 1,
      },
    );
  }
  pin(servers.reference.pid, SERVER_CORE);
  pin(servers.proxy.pid, SERVER_CORE);
}

// ---------------------------------------------------------------------------------------------
// 2. Throughput at concurrency 64
// ---------------------------------------------------------------------------------------------

async function measureThroughput(servers: Servers, collected: Collected): Promise<number> {
  const targets: LoadTarget[] = [
    { name: "direct", server: servers.mock, url: `${servers.mock.url}/v1/chat/completions`, bodies: [chatBody("gpt-bench")], headers: { ...JSON_HEADERS, authorization: "Bearer sk-direct" } },
    { name: "reference", server: servers.reference, url: `${servers.reference.url}/v1/chat/completions`, bodies: [chatBody("gpt-bench")], headers: PROXY_HEADERS },
    { name: "proxy", server: servers.proxy, url: `${servers.proxy.url}/v1/chat/completions`, bodies: [chatBody("openai/gpt-bench")], headers: PROXY_HEADERS },
  ];
  const stats = await compareThroughput(targets, collected, "2. throughput");
  const direct = stats.get("direct")!.rps;
  const reference = stats.get("reference")!;
  const proxy = stats.get("proxy")!;
  collected.rows.push(
    {
      id: "2a",
      what: `Throughput, non-stream, c=${CONNECTIONS}`,
      measured: `proxy ${fmt.rps(proxy.rps)}`,
      against: `reference ${fmt.rps(reference.rps)}`,
      judged: fmt.pct(proxy.rps / reference.rps),
      target: "≥ 85% of reference",
      pass: proxy.rps >= 0.85 * reference.rps,
    },
    {
      id: "2b",
      what: "Server CPU per request (from /proc, all threads)",
      measured: `proxy ${Math.round(proxy.cpuUsPerRequest)} µs`,
      against: `reference ${Math.round(reference.cpuUsPerRequest)} µs`,
      judged: fmt.times(proxy.cpuUsPerRequest / reference.cpuUsPerRequest),
      target: "—",
    },
    {
      id: "2c",
      what: "Mock headroom: direct vs proxy throughput (validity check)",
      measured: `direct ${fmt.rps(direct)}`,
      against: `proxy ${fmt.rps(proxy.rps)}`,
      judged: fmt.times(direct / proxy.rps),
      target: "≥ 3× (else the mock limits)",
      pass: direct >= 3 * proxy.rps,
    },
  );
  return proxy.rps;
}

// ---------------------------------------------------------------------------------------------
// 3. Streaming
// ---------------------------------------------------------------------------------------------

function summarizeStreams(list: readonly StreamSample[]): { ttfb: number; total: number; chunks: number } {
  const ttfb = list.map((sample) => sample.ttfbMs).sort((a, b) => a - b);
  const total = list.map((sample) => sample.totalMs).sort((a, b) => a - b);
  return { ttfb: percentile(ttfb, 50), total: percentile(total, 50), chunks: median(list.map((sample) => sample.chunks)) };
}

/** Aggregate chunks/s of many 200-chunk streams at c=64 through the proxy (wrk reads them whole). */
async function streamsUnderLoad(servers: Servers, collected: Collected): Promise<void> {
  const cases = [
    { id: "3a3", label: "OpenAI→OpenAI passthrough", model: "openai/gpt-bench" },
    { id: "3b3", label: "Gemini→OpenAI translation", model: "gemini/gemini-bench" },
  ];
  for (const streamCase of cases) {
    const target: LoadTarget = { name: streamCase.label, server: servers.proxy, url: `${servers.proxy.url}/v1/chat/completions`, bodies: [chatBody(streamCase.model, true)], headers: PROXY_HEADERS };
    await wrkFor(target, 1);
    await settle(servers.proxy.pid);
    const { result, cpu } = await measuredRun(target, RUN_SECONDS);
    const chunksPerSecond = result.rps * 200;
    collected.details.push(
      `3. ${streamCase.label} at c=${CONNECTIONS}: ${Math.round(result.rps)} streams/s, proxy CPU ${Math.round((cpu / result.requests) * 1e6)} µs/stream` +
        `${result.non2xx + result.socketErrors > 0 ? `, **${result.non2xx + result.socketErrors} non-2xx or socket errors**` : ""}`,
    );
    collected.rows.push({
      id: streamCase.id,
      what: `Stream chunks/s at c=${CONNECTIONS}, aggregate (streams/s × 200), ${streamCase.label}`,
      measured: `proxy ${fmt.perSecond(chunksPerSecond, "chunks")}`,
      against: "—",
      judged: fmt.perSecond(chunksPerSecond, "chunks"),
      target: "—",
    });
  }
}

/**
 * The same streams with the servers moved to the load core: without the cross-core wake-up of the
 * split layout, what is left is the servers' own work before the first byte (details only).
 */
async function sharedCoreTtfb(servers: Servers, label: string, targets: Target[], rounds: number, collected: Collected): Promise<void> {
  pin(servers.reference.pid, LOAD_CORE);
  pin(servers.proxy.pid, LOAD_CORE);
  try {
    const samples = await sampleStreams(targets, Math.round(rounds / 2), 5_000);
    const direct = summarizeStreams(samples.get("direct")!).ttfb;
    const added = [...samples]
      .filter(([name]) => name !== "direct")
      .map(([name, list]) => `${name} +${fmt.ms(summarizeStreams(list).ttfb - direct)}`);
    collected.details.push(`3. ${label}, shared core 0 — added TTFB p50: ${added.join(", ")} (direct ${fmt.ms(direct)})`);
  } finally {
    pin(servers.reference.pid, SERVER_CORE);
    pin(servers.proxy.pid, SERVER_CORE);
  }
}

async function measureStreams(servers: Servers, collected: Collected): Promise<void> {
  const rounds = QUICK ? 200 : 600;
  const geminiUrl = `${servers.mock.url}/v1beta/models/gemini-bench:streamGenerateContent?alt=sse`;
  const cases: { label: string; id: string; targets: Target[] }[] = [
    {
      label: "OpenAI→OpenAI passthrough",
      id: "3a",
      targets: [
        { name: "direct", url: `${servers.mock.url}/v1/chat/completions`, body: chatBody("gpt-bench", true), headers: { ...JSON_HEADERS, authorization: "Bearer sk-direct" } },
        { name: "reference", url: `${servers.reference.url}/v1/chat/completions`, body: chatBody("gpt-bench", true), headers: PROXY_HEADERS },
        { name: "proxy", url: `${servers.proxy.url}/v1/chat/completions`, body: chatBody("openai/gpt-bench", true), headers: PROXY_HEADERS },
      ],
    },
    {
      label: "Gemini→OpenAI translation",
      id: "3b",
      targets: [
        { name: "direct", url: geminiUrl, body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: PROMPT[0]!.content }] }] }), headers: { ...JSON_HEADERS, "x-goog-api-key": "direct" } },
        { name: "proxy", url: `${servers.proxy.url}/v1/chat/completions`, body: chatBody("gemini/gemini-bench", true), headers: PROXY_HEADERS },
      ],
    },
  ];
  for (const streamCase of cases) {
    await sharedCoreTtfb(servers, streamCase.label, streamCase.targets, rounds, collected);
    const samples = await sampleStreams(streamCase.targets, rounds, 10_000);
    const summary = new Map([...samples].map(([name, list]) => [name, summarizeStreams(list)]));
    for (const [name, s] of summary) {
      collected.details.push(
        `3. ${streamCase.label} — ${name}: TTFB p50 ${fmt.ms(s.ttfb)}, whole stream p50 ${fmt.ms(s.total)}, ${s.chunks} chunks, ` +
          `${fmt.perSecond((s.chunks / s.total) * 1000, "chunks")} (${samples.get(name)!.length} streams, c=1)`,
      );
    }
    const direct = summary.get("direct")!;
    const proxy = summary.get("proxy")!;
    const reference = summary.get("reference");
    const chunksPerSecond = (proxy.chunks / proxy.total) * 1000;
    collected.rows.push(
      {
        id: `${streamCase.id}1`,
        what: `Stream added TTFB p50, ${streamCase.label}`,
        measured: `proxy +${fmt.ms(proxy.ttfb - direct.ttfb)}`,
        against: reference ? `reference +${fmt.ms(reference.ttfb - direct.ttfb)}` : `direct ${fmt.ms(direct.ttfb)}`,
        judged: fmt.ms(proxy.ttfb - direct.ttfb),
        target: "≤ 1 ms",
        pass: proxy.ttfb - direct.ttfb <= 1,
      },
      {
        id: `${streamCase.id}2`,
        what: `Stream chunks/s (200-chunk stream ÷ p50 whole-stream time, c=1), ${streamCase.label}`,
        measured: `proxy ${fmt.perSecond(chunksPerSecond, "chunks")}`,
        against: reference ? `reference ${fmt.perSecond((reference.chunks / reference.total) * 1000, "chunks")}` : `direct ${fmt.perSecond((direct.chunks / direct.total) * 1000, "chunks")}`,
        judged: fmt.perSecond(chunksPerSecond, "chunks"),
        target: streamCase.id === "3b" ? "≥ 20,000 chunks/s" : "—",
        pass: streamCase.id === "3b" ? chunksPerSecond >= 20_000 : undefined,
      },
    );
  }
  await streamsUnderLoad(servers, collected);
}

// ---------------------------------------------------------------------------------------------
// 4. Key scaling, 5. rotation under failure
// ---------------------------------------------------------------------------------------------

function twentyModelTarget(name: string, server: Child): LoadTarget {
  return { name, server, url: `${server.url}/v1/chat/completions`, bodies: MODELS.map((model) => chatBody(`openai/${model}`)), headers: PROXY_HEADERS };
}

async function measureKeyScaling(servers: Servers, collected: Collected): Promise<void> {
  const stats = await compareThroughput([twentyModelTarget("1 key", servers.keys1), twentyModelTarget("10,000 keys", servers.keys10k)], collected, "4. key scaling, 20 models");
  const one = stats.get("1 key")!.rps;
  const many = stats.get("10,000 keys")!.rps;
  // The key pool alone, in this process (nothing else runs meanwhile): how selection scales.
  const [oneKey, tenThousand] = [await opsPerSecond(1), await opsPerSecond(10_000)];
  collected.rows.push({
    id: "4b",
    what: "Key pool alone: acquire+release per second, 10,000 keys vs 1 key, 20 models (bench/key-selection.ts)",
    measured: `10,000 keys ${fmt.perSecond(tenThousand, "ops")}`,
    against: `1 key ${fmt.perSecond(oneKey, "ops")}`,
    judged: `${((1e6 / tenThousand) - (1e6 / oneKey)).toFixed(1)} µs more per request`,
    target: "—",
  });
  collected.rows.push({
    id: "4a",
    what: "Throughput with 10,000 keys vs 1 key, 20 models, c=64",
    measured: `10,000 keys ${fmt.rps(many)}`,
    against: `1 key ${fmt.rps(one)}`,
    judged: fmt.pct(many / one),
    target: "≥ 95%",
    pass: many >= 0.95 * one,
  });
}

/** Sum of one counter's samples whose label text contains `match`. */
async function counterSum(server: Child, name: string, match: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: PROXY_HEADERS })).text();
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(`${name}{`) && line.includes(match)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  return sum;
}

async function measureFailover(servers: Servers, collected: Collected): Promise<void> {
  const healthy = twentyModelTarget("100 healthy keys", servers.healthy100);
  const failing = twentyModelTarget("50 of 100 keys answer 429", servers.failing100);
  // The warm-up inside compareThroughput meets every failing key once per model and cools it for
  // 60 s (the mock's retry-after); what is measured after it is the steady state.
  let limitedBefore = 0;
  const stats = await compareThroughput([healthy, failing], collected, "5. rotation under failure, 20 models", {
    afterWarmup: async () => {
      limitedBefore = await counterSum(servers.failing100, "llm_proxy_upstream_attempts_total", 'outcome="rate_limit"');
    },
  });
  const measuredRequests = stats.get(failing.name)!.runs.reduce((sum, run) => sum + run.requests, 0);
  const limitedTotal = await counterSum(servers.failing100, "llm_proxy_upstream_attempts_total", 'outcome="rate_limit"');
  const good = stats.get(healthy.name)!.rps;
  const bad = stats.get(failing.name)!.rps;
  collected.details.push(
    `5. 429 answers the failing proxy met: ${limitedTotal} in all (50 keys × 20 models = 1,000 to cool every pair once); ` +
      `${limitedTotal - limitedBefore} after the warm-up, over ${measuredRequests.toLocaleString("en")} measured requests`,
  );
  collected.rows.push({
    id: "5",
    what: "Throughput with 50% of keys answering 429 vs all healthy (100 keys, 20 models)",
    measured: `failing ${fmt.rps(bad)}`,
    against: `healthy ${fmt.rps(good)}`,
    judged: fmt.pct(bad / good),
    target: "≥ 80%",
    pass: bad >= 0.8 * good,
  });
}

// ---------------------------------------------------------------------------------------------
// 6. Memory
// ---------------------------------------------------------------------------------------------

interface OpenStreamsResult {
  opened: number;
  /** Highest RSS sampled (every 10 ms) in each phase, MB. */
  peakOpeningMb: number;
  peakOpenMb: number;
  peakClosingMb: number;
}

type HoldPhase = "opening" | "open" | "closing";

/**
 * Samples a process's RSS every 10 ms until stopped, remembering the highest value per phase:
 * /proc's VmHWM gives only the peak since start, not when it happened.
 */
function sampleRss(pid: number) {
  const peaks: Record<HoldPhase, number> = { opening: 0, open: 0, closing: 0 };
  let phase: HoldPhase = "opening";
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        peaks[phase] = Math.max(peaks[phase], memoryMb(pid).rss);
      } catch {
        return; // the process is gone
      }
      await Bun.sleep(10);
    }
  })();
  return {
    enter: (next: HoldPhase) => (phase = next),
    stop: async () => {
      running = false;
      await loop;
      return peaks;
    },
  };
}

/** Opens `count` held streams through `proxy`, samples its RSS meanwhile, then ends them. */
async function holdStreams(proxy: Child, mock: Child, count: number, openTimeoutMs: number): Promise<OpenStreamsResult> {
  const rss = sampleRss(proxy.pid);
  const child = Bun.spawn([BUN, "bench/open-streams.ts", `${proxy.url}/v1/chat/completions`, PROXY_KEY, String(count), String(openTimeoutMs)], {
    cwd: ROOT,
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "4096" },
    stdout: "pipe",
    stderr: "inherit",
  });
  pin(child.pid, LOAD_CORE);
  const lines = readLines(child.stdout);
  const first = (await lines.next()).value ?? "";
  const opened = Number(/^open (\d+)/.exec(first)?.[1] ?? 0);
  rss.enter("open");
  await Bun.sleep(500);
  rss.enter("closing");
  // Streams the proxy could not start yet get held too once they start: release until all end.
  const deadline = Date.now() + 20_000;
  let done = false;
  void child.exited.then(() => (done = true));
  while (!done && Date.now() < deadline) {
    await fetch(`${mock.url}/release`, { method: "POST" }).then((response) => response.arrayBuffer());
    await Bun.sleep(200);
  }
  if (!done) child.kill("SIGKILL");
  await child.exited;
  const peaks = await rss.stop();
  return { opened, peakOpeningMb: peaks.opening, peakOpenMb: peaks.open, peakClosingMb: peaks.closing };
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const piece of stream) {
    buffer += decoder.decode(piece, { stream: true });
    for (let end = buffer.indexOf("\n"); end !== -1; end = buffer.indexOf("\n")) {
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
    }
  }
}

/** Requests in 2 s wrk runs until `total` are done (or 60 s pass); RSS after each run. */
async function longRun(target: LoadTarget, total: number): Promise<{ requests: number; curve: { requests: number; rssMb: number }[] }> {
  const curve: { requests: number; rssMb: number }[] = [];
  let requests = 0;
  const deadline = performance.now() + 60_000;
  while (requests < total && performance.now() < deadline) {
    const result = await wrkFor(target, 2);
    requests += result.requests;
    curve.push({ requests, rssMb: memoryMb(target.server.pid).rss });
  }
  return { requests, curve };
}

/** The same 1,000 streams through a fresh reference passthrough: the floor for this stack. */
async function referenceStreams(mock: Child, collected: Collected): Promise<void> {
  const [port] = freePorts(1);
  const reference = await startChild({
    name: "reference-memory",
    cmd: [BUN, "bench/reference-passthrough.ts", `${mock.url}/v1`, String(port)],
    cores: SERVER_CORE,
    port: port!,
    env: { BUN_CONFIG_MAX_HTTP_REQUESTS: "4096" },
  });
  try {
    const startRss = memoryMb(reference.pid).rss;
    const held = await holdStreams(reference, mock, 1_000, 8_000);
    collected.details.push(
      `6. reference passthrough, same 1,000 streams (fresh, same fetch limit): RSS ${fmt.mb(startRss)} at start; highest sampled ${fmt.mb(held.peakOpenMb)} while all were open, ` +
        `${fmt.mb(held.peakClosingMb)} while they ended; VmHWM ${fmt.mb(memoryMb(reference.pid).peak)}`,
    );
  } finally {
    await reference.stop();
  }
}

/** 6a idle RSS (measured at start-up) and 6b: how many streams Bun's defaults let the proxy hold. */
async function measureIdleAndStreamCap(servers: Servers, idleRssMb: number, collected: Collected): Promise<void> {
  collected.rows.push({ id: "6a", what: "RSS idle after start (1 key per provider)", measured: fmt.mb(idleRssMb), against: "—", judged: fmt.mb(idleRssMb), target: "≤ 60 MB", pass: idleRssMb <= 60 });
  // With Bun's defaults, fetch allows 256 requests in flight per process, upstream calls included.
  const capped = await holdStreams(servers.proxy, servers.mock, 1_000, 3_000);
  collected.rows.push({
    id: "6b",
    what: "Streams open at once of 1,000 requested (proxy with Bun defaults)",
    measured: `${capped.opened} open`,
    against: "1,000 requested",
    judged: `${capped.opened}`,
    target: "1,000",
    pass: capped.opened >= 1_000,
  });
}

/** 6c: a fresh proxy with the fetch limit raised, so 1,000 streams can be open at once. */
async function measureOpenStreams(servers: Servers, collected: Collected): Promise<void> {
  const [port] = freePorts(1);
  const proxy = await startProxy("memory-streams", proxyEnv(servers.mock.url, ["sk-bench-only"]), port!, { processEnv: { BUN_CONFIG_MAX_HTTP_REQUESTS: "4096" } });
  try {
    const startRss = memoryMb(proxy.pid).rss;
    const held = await holdStreams(proxy, servers.mock, 1_000, 8_000);
    // The proxy is fresh, so its VmHWM is the peak of this phase alone.
    const peak = memoryMb(proxy.pid).peak;
    await settle(proxy.pid);
    collected.details.push(
      `6. fresh proxy with BUN_CONFIG_MAX_HTTP_REQUESTS=4096, ${held.opened} streams: RSS ${fmt.mb(startRss)} at start; highest sampled ` +
        `${fmt.mb(held.peakOpeningMb)} while opening, ${fmt.mb(held.peakOpenMb)} while all were open, ${fmt.mb(held.peakClosingMb)} while they ended ` +
        `(190 chunks each at once); VmHWM ${fmt.mb(peak)}; ${fmt.mb(memoryMb(proxy.pid).rss)} once idle again`,
    );
    collected.rows.push({
      id: "6c",
      what: "Peak RSS (VmHWM) with 1,000 concurrent open streams (BUN_CONFIG_MAX_HTTP_REQUESTS=4096)",
      measured: fmt.mb(peak),
      against: `${fmt.mb(held.peakOpenMb)} while all open`,
      judged: fmt.mb(peak),
      target: "≤ 200 MB",
      pass: held.opened >= 1_000 && peak <= 200,
    });
  } finally {
    await proxy.stop();
  }
  await referenceStreams(servers.mock, collected);
}

/** 6d: RSS of a fresh proxy over ≥ 100k requests (20 models), sampled every 2 s run. */
async function measureLongRun(servers: Servers, collected: Collected): Promise<void> {
  const [port] = freePorts(1);
  const proxy = await startProxy("memory-long", proxyEnv(servers.mock.url, ["sk-bench-only"]), port!);
  try {
    const target: LoadTarget = { name: "memory", server: proxy, url: `${proxy.url}/v1/chat/completions`, bodies: MODELS.map((model) => chatBody(`openai/${model}`)), headers: PROXY_HEADERS };
    const { requests, curve } = await longRun(target, 100_000);
    // Growth: median of the last three samples against the median of the first three taken at
    // ≥ 20k requests (heap and JIT warmed); medians, because a GC between samples moves RSS by MBs.
    const warmed = curve.filter((point) => point.requests >= 20_000);
    const early = median(warmed.slice(0, 3).map((point) => point.rssMb));
    const late = median(warmed.slice(-3).map((point) => point.rssMb));
    const growth = late - early;
    collected.details.push(`6. RSS of a fresh proxy over the long run (requests → MB): ${curve.map((point) => `${Math.round(point.requests / 1000)}k → ${point.rssMb.toFixed(1)}`).join(", ")}`);
    collected.rows.push({
      id: "6d",
      what: `RSS over ${Math.round(requests / 1000)}k requests: last three samples vs first three from ${Math.round((warmed[0]?.requests ?? 0) / 1000)}k (medians)`,
      measured: fmt.mb(late),
      against: fmt.mb(early),
      judged: `${growth >= 0 ? "+" : ""}${fmt.mb(growth)}`,
      target: "no growth (≤ +5 MB) over ≥ 100k",
      pass: requests >= 100_000 && warmed.length >= 6 && growth <= 5,
    });
  } finally {
    await proxy.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 7. Request logging
// ---------------------------------------------------------------------------------------------

async function measureLogging(servers: Servers, collected: Collected): Promise<void> {
  const off: LoadTarget = { name: "logging off", server: servers.loggingOff, url: `${servers.loggingOff.url}/v1/chat/completions`, bodies: [chatBody("openai/gpt-bench")], headers: PROXY_HEADERS };
  const on: LoadTarget = { ...off, name: "logging on", server: servers.logging, url: `${servers.logging.url}/v1/chat/completions` };
  const tmpfs: LoadTarget | undefined = servers.loggingTmpfs && { ...off, name: "logging on, LOG_DIR in /dev/shm", server: servers.loggingTmpfs, url: `${servers.loggingTmpfs.url}/v1/chat/completions` };
  // Log writes run on a background queue after the answer, so a run is followed by a wait (up to
  // 20 s) until the proxy is idle; 1 s runs keep the backlog below the queue's 10,000-write bound,
  // past which writes would be dropped rather than cost time.
  const stats = await compareThroughput(tmpfs ? [off, on, tmpfs] : [off, on], collected, "7. request logging", { seconds: 1, rounds: 3, warmupSeconds: 1, settleMaxMs: 20_000 });
  const offStats = stats.get("logging off")!;
  const onStats = stats.get("logging on")!;
  const tmpfsStats = tmpfs && stats.get(tmpfs.name)!;
  const ratioRows = (on: ThroughputStats, ids: [string, string], where: string, target?: string): Row[] => [
    {
      id: ids[0],
      what: `Throughput, request logging on${where} vs off, c=64, as the client sees it during a 1 s run`,
      measured: `on ${fmt.rps(on.rps)}`,
      against: `off ${fmt.rps(offStats.rps)}`,
      judged: fmt.pct(on.rps / offStats.rps),
      target: target ?? "—",
      pass: target ? on.rps >= 0.85 * offStats.rps : undefined,
    },
    {
      id: ids[1],
      what: `Sustained throughput, logging on${where} vs off (requests ÷ (run + time busy writing logs afterwards))`,
      measured: `on ${fmt.rps(on.sustainedRps)}`,
      against: `off ${fmt.rps(offStats.sustainedRps)}`,
      judged: fmt.pct(on.sustainedRps / offStats.sustainedRps),
      target: target ?? "—",
      pass: target ? on.sustainedRps >= 0.85 * offStats.sustainedRps : undefined,
    },
  ];
  collected.rows.push(...ratioRows(onStats, ["7a", "7b"], "", "≥ 85%"));
  // The same proxy writing into memory: what is left is the proxy's own logging work, the rest of
  // 7a/7b is the file system creating and removing request folders.
  if (tmpfsStats) collected.rows.push(...ratioRows(tmpfsStats, ["7c", "7d"], " with LOG_DIR in /dev/shm (memory file system)"));
}

// ---------------------------------------------------------------------------------------------
// 8. Compiled binary
// ---------------------------------------------------------------------------------------------

async function measureCompiled(mock: Child, collected: Collected): Promise<void> {
  const envFile = join(tempDir("env-binary"), ".env");
  writeEnvFile(envFile, proxyEnv(mock.url, ["sk-bench-only"]));
  const result = await measureBinary(envFile, SERVER_CORE);
  collected.details.push(`8. build of the linux-x64 binary and its archive took ${result.buildSeconds.toFixed(1)} s`);
  collected.rows.push(
    { id: "8a", what: "Compiled binary start-to-ready (spawn → GET /healthz 200, median of 5)", measured: fmt.ms(result.binaryReadyMs), against: `bun src/main.ts ${fmt.ms(result.sourceReadyMs)}`, judged: fmt.ms(result.binaryReadyMs), target: "—" },
    { id: "8b", what: "Compiled binary size (linux-x64)", measured: fmt.mb(result.sizeMb), against: "—", judged: fmt.mb(result.sizeMb), target: "—" },
  );
}

// ---------------------------------------------------------------------------------------------
// 9. OpenAI Responses API (POST /v1/responses)
// ---------------------------------------------------------------------------------------------

/**
 * 9a–9c: Responses pass-through (openai is native: the body goes to the mock's /v1/responses with
 * the model renamed) against chat pass-through, on the same proxy process, alternating rounds.
 */
async function measureResponsesThroughput(servers: Servers, collected: Collected): Promise<void> {
  const proxy = servers.proxy;
  const chat: LoadTarget = { name: "chat pass-through", server: proxy, url: `${proxy.url}/v1/chat/completions`, bodies: [chatBody("openai/gpt-bench")], headers: PROXY_HEADERS };
  const responses: LoadTarget = { name: "responses pass-through, store false", server: proxy, url: `${proxy.url}/v1/responses`, bodies: [responsesBody("openai/gpt-bench")], headers: PROXY_HEADERS };
  const stored: LoadTarget = { ...responses, name: "responses pass-through, store true", bodies: [responsesBody("openai/gpt-bench", { store: true })] };
  // Twice the usual rounds of half the length: the pairs sit closer in time, so the ratio holds
  // better on a machine that other work shares.
  const stats = await compareThroughput([chat, responses], collected, "9. Responses vs chat", { seconds: 1, rounds: 2 * ROUNDS });
  const chatStats = stats.get(chat.name)!;
  const responsesStats = stats.get(responses.name)!;
  const pairRatios = responsesStats.runs.map((run, round) => run.rps / chatStats.runs[round]!.rps);
  collected.details.push(`9. Responses ÷ chat per round (adjacent runs): ${pairRatios.map((ratio) => fmt.pct(ratio)).join(" / ")}; median ${fmt.pct(median(pairRatios))}`);
  collected.rows.push(
    {
      id: "9a",
      what: `Throughput, Responses pass-through (store false) vs chat pass-through, non-stream, c=${CONNECTIONS}, same proxy`,
      measured: `responses ${fmt.rps(responsesStats.rps)}`,
      against: `chat ${fmt.rps(chatStats.rps)}`,
      judged: fmt.pct(responsesStats.rps / chatStats.rps),
      target: "≥ 95% (adds no more than chat)",
      pass: responsesStats.rps >= 0.95 * chatStats.rps,
    },
    {
      id: "9b",
      what: "Server CPU per request, Responses pass-through (store false) vs chat pass-through",
      measured: `responses ${Math.round(responsesStats.cpuUsPerRequest)} µs`,
      against: `chat ${Math.round(chatStats.cpuUsPerRequest)} µs`,
      judged: fmt.times(responsesStats.cpuUsPerRequest / chatStats.cpuUsPerRequest),
      target: "—",
    },
  );
  // Storing writes every response to SQLite (its own file, a new row each: the mock's ids differ):
  // measured against store false, after the comparison above so those rounds never meet a store
  // being written; chat runs alongside as the control (the store is never on its path).
  const storeStats = await compareThroughput([chat, responses, stored], collected, "9. Responses store on vs off", { rounds: Math.min(ROUNDS, 4) });
  const on = storeStats.get(stored.name)!;
  const off = storeStats.get(responses.name)!;
  const chatAlongside = storeStats.get(chat.name)!;
  collected.rows.push({
    id: "9c",
    what: `Throughput, Responses pass-through with store true vs store false, non-stream, c=${CONNECTIONS} (sustained: busy time after each run included)`,
    measured: `store on ${fmt.rps(on.sustainedRps)}`,
    against: `store off ${fmt.rps(off.sustainedRps)}`,
    judged: fmt.pct(on.sustainedRps / off.sustainedRps),
    target: "—",
  });
  collected.details.push(
    `9. store on: ${Math.round(on.cpuUsPerRequest)} µs server CPU per request against ${Math.round(off.cpuUsPerRequest)} µs with store off; ` +
      `client-side ${fmt.rps(on.rps)} against ${fmt.rps(off.rps)}; chat in the same rounds ${fmt.rps(chatAlongside.rps)} (${Math.round(chatAlongside.cpuUsPerRequest)} µs/request)`,
  );
}

/** 9d–9e: added latency at c=1 of both routes over the mock answering each directly (split layout). */
async function measureResponsesLatency(servers: Servers, collected: Collected): Promise<void> {
  const direct = { ...JSON_HEADERS, authorization: "Bearer sk-direct" };
  const targets: Target[] = [
    { name: "direct chat", url: `${servers.mock.url}/v1/chat/completions`, body: chatBody("gpt-bench"), headers: direct },
    { name: "proxy chat", url: `${servers.proxy.url}/v1/chat/completions`, body: chatBody("openai/gpt-bench"), headers: PROXY_HEADERS },
    { name: "direct responses", url: `${servers.mock.url}/v1/responses`, body: responsesBody("gpt-bench"), headers: direct },
    { name: "proxy responses", url: `${servers.proxy.url}/v1/responses`, body: responsesBody("openai/gpt-bench"), headers: PROXY_HEADERS },
  ];
  const samples = await sampleLatency(targets, QUICK ? 1_000 : 3_000, 10_000);
  for (const [name, list] of samples) {
    collected.details.push(`9. latency c=1, split — ${name}: p50 ${fmt.ms(percentile(list, 50))}, p99 ${fmt.ms(percentile(list, 99))} (${list.length} requests)`);
  }
  const added = (route: string, p: number): number => percentile(samples.get(`proxy ${route}`)!, p) - percentile(samples.get(`direct ${route}`)!, p);
  for (const [id, p] of [["9d", 50], ["9e", 99]] as const) {
    collected.rows.push({
      id,
      what: `Added latency p${p}, c=1, split layout, Responses pass-through (store false) vs chat pass-through`,
      measured: `responses +${fmt.ms(added("responses", p))}`,
      against: `chat +${fmt.ms(added("chat", p))}`,
      judged: `${added("responses", p) - added("chat", p) >= 0 ? "+" : ""}${fmt.ms(added("responses", p) - added("chat", p))}`,
      target: "—",
    });
  }
}

/** 9f: the chat → Responses event conversion alone, in this process (bench/responses-events.ts). */
async function measureResponsesConversion(collected: Collected): Promise<void> {
  const { measureConversion } = await import("./responses-events.ts");
  const { stream, writer } = await measureConversion(QUICK ? 1 : 3);
  collected.details.push(
    `9. conversion in process: ${stream.responses.toLocaleString("en")} responses of ${stream.eventsPerResponse} Responses events from ${stream.chunksPerResponse} recorded chat chunks ` +
      `(test/fixtures/openai/chat-stream-text.sse.txt) in ${stream.seconds.toFixed(1)} s through toResponsesEventStream; ` +
      `the writer alone (chunks parsed beforehand): ${fmt.perSecond(writer.eventsPerSecond, "events")}, ${fmt.perSecond(writer.responses / writer.seconds, "responses")}`,
  );
  collected.rows.push({
    id: "9f",
    what: "Translated stream: Responses events/s from recorded chat chunks, in process (SSE parse + createResponseEventWriter + encode)",
    measured: fmt.perSecond(stream.eventsPerSecond, "events"),
    against: `writer alone ${fmt.perSecond(writer.eventsPerSecond, "events")}`,
    judged: fmt.perSecond(stream.eventsPerSecond, "events"),
    target: "≥ 20,000 events/s",
    pass: stream.eventsPerSecond >= 20_000,
  });
}

/** 9g: a translated stream end to end (Gemini's 200-event stream as Responses events), c=1, like 3b2. */
async function measureResponsesTranslatedStream(servers: Servers, collected: Collected): Promise<void> {
  const targets: Target[] = [
    { name: "proxy", url: `${servers.proxy.url}/v1/responses`, body: responsesBody("gemini/gemini-bench", { stream: true }), headers: PROXY_HEADERS },
  ];
  const samples = (await sampleStreams(targets, QUICK ? 200 : 600, 10_000)).get("proxy")!;
  const s = summarizeStreams(samples);
  const eventsPerSecond = (s.chunks / s.total) * 1000;
  collected.details.push(
    `9. Gemini→Responses translation — proxy: TTFB p50 ${fmt.ms(s.ttfb)}, whole stream p50 ${fmt.ms(s.total)}, ${s.chunks} Responses events from 200 Gemini events (${samples.length} streams, c=1)`,
  );
  collected.rows.push({
    id: "9g",
    what: "Stream events/s (Responses events ÷ p50 whole-stream time, c=1), Gemini→Responses translation through the proxy",
    measured: `proxy ${fmt.perSecond(eventsPerSecond, "events")}`,
    against: `TTFB p50 ${fmt.ms(s.ttfb)}`,
    judged: fmt.perSecond(eventsPerSecond, "events"),
    target: "—",
  });
}

/** 9h: stored-response lookup by id, in process, on stores of two sizes (bench/response-lookup.ts). */
async function measureResponseLookup(collected: Collected): Promise<void> {
  const { measureLookup } = await import("./response-lookup.ts");
  const [small, large] = await measureLookup([1_000, 20_000], QUICK ? 10 : 20);
  collected.details.push(
    `9. stored-response get(id), median of alternating 100 ms rounds: ${small!.stored.toLocaleString("en")} stored ${fmt.perSecond(small!.getsPerSecond, "gets")} ` +
      `(${(1e6 / small!.getsPerSecond).toFixed(1)} µs), ${large!.stored.toLocaleString("en")} stored ${fmt.perSecond(large!.getsPerSecond, "gets")} (${(1e6 / large!.getsPerSecond).toFixed(1)} µs); ` +
      `filled with one put each in ${small!.fillSeconds.toFixed(1)} s and ${large!.fillSeconds.toFixed(1)} s. Only POST /v1/responses with previous_response_id, and GET/DELETE /v1/responses/{id}, look a response up`,
  );
  collected.rows.push({
    id: "9h",
    what: `Stored-response lookup get(id) (SQLite, primary key), ${large!.stored.toLocaleString("en")} stored vs ${small!.stored.toLocaleString("en")}, in process`,
    measured: `${large!.stored.toLocaleString("en")}: ${fmt.perSecond(large!.getsPerSecond, "gets")}`,
    against: `${small!.stored.toLocaleString("en")}: ${fmt.perSecond(small!.getsPerSecond, "gets")}`,
    judged: fmt.pct(large!.getsPerSecond / small!.getsPerSecond),
    target: "—",
  });
}

async function measureResponses(servers: Servers, collected: Collected): Promise<void> {
  // A tree without the route (404) gets a note instead of a failed suite.
  const probe = await fetch(`${servers.proxy.url}/v1/responses`, { method: "POST", body: responsesBody("openai/gpt-bench"), headers: PROXY_HEADERS });
  await probe.arrayBuffer();
  if (!probe.ok) {
    collected.details.push(`9. skipped: POST /v1/responses answered HTTP ${probe.status}`);
    return;
  }
  await measureResponsesLatency(servers, collected);
  await measureResponsesThroughput(servers, collected);
  await measureResponsesTranslatedStream(servers, collected);
  await measureResponsesConversion(collected);
  await measureResponseLookup(collected);
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

function checkPrerequisites(): void {
  if (!haveWrk()) throw new Error("wrk is not installed: apt-get install -y wrk");
  if (Bun.spawnSync(["which", "taskset"], { stdout: "ignore" }).exitCode !== 0) throw new Error("taskset (util-linux) is not installed");
  if (navigator.hardwareConcurrency < 2) throw new Error("the suite needs 2 cores: one for the server under test, one for load and mock");
}

async function step(name: string, run: () => Promise<unknown>): Promise<void> {
  const group = /^(\d+)\./.exec(name)?.[1];
  if (ONLY && group !== undefined && !ONLY.includes(group)) return;
  const started = performance.now();
  process.stderr.write(`• ${name} … `);
  await run();
  process.stderr.write(`${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

async function main(): Promise<void> {
  checkPrerequisites();
  const suiteStarted = performance.now();
  // Before pinning: nproc counts the cores this process may use.
  const machine = describeMachine();
  // This process is a load generator: it lives on the load core with wrk and the mock.
  pin(process.pid, LOAD_CORE);
  const collected: Collected = { rows: [], details: [] };
  let started: Awaited<ReturnType<typeof startServers>> | undefined;
  try {
    await step("starting mock, reference and proxies", async () => (started = await startServers()));
    const { servers, idleRssMb } = started!;
    await step("1. latency at c=1", () => measureLatency(servers, collected));
    await step("2. throughput at c=64", () => measureThroughput(servers, collected));
    await step("3. streaming", () => measureStreams(servers, collected));
    await step("4. key scaling", () => measureKeyScaling(servers, collected));
    await step("5. rotation under failure", () => measureFailover(servers, collected));
    await step("7. request logging", () => measureLogging(servers, collected));
    await step("6. memory: idle, stream cap", () => measureIdleAndStreamCap(servers, idleRssMb, collected));
    await step("6. memory: 1,000 open streams", () => measureOpenStreams(servers, collected));
    await step("6. memory: 100k requests", () => measureLongRun(servers, collected));
    if (!SKIP_BINARY) await step("8. compiled binary", () => measureCompiled(servers.mock, collected));
    await step("9. Responses API", () => measureResponses(servers, collected));
  } finally {
    if (started) await Promise.all(Object.values(started.servers).map((child) => child.stop()));
    if (!process.argv.includes("--keep-temp")) removeTempDirs();
  }
  collected.rows.sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));
  const report = {
    date: new Date().toISOString().slice(0, 10),
    machine,
    layout: [
      `Servers under test (proxies, reference passthrough) pinned to core ${SERVER_CORE} with \`taskset -c ${SERVER_CORE}\` (all their threads, Bun's HTTP client thread included).`,
      `Load generators (wrk -t1, this Bun process, bench/open-streams.ts) and the fast mock pinned to core ${LOAD_CORE}.`,
      `Rows 1c–1d: the reference and the proxy moved to core ${LOAD_CORE} with \`taskset -a -p\` for a second latency pass, all on one core.`,
      `wrk: 1 thread, ${CONNECTIONS} connections, ${RUN_SECONDS} s runs after a 2 s warm-up per target; ${ROUNDS} alternating rounds per comparison (A B, B A, …), median reported; after each run the server is let go idle (its CPU time watched in /proc) so deferred work does not spill into the next run.`,
      "Proxies compared with each other (rows 4, 5, 7) are separate processes started together and loaded alike, so JIT warm-up favours neither.",
      "Proxies run as `bun --no-env-file src/main.ts --env-file <tmp .env> --port <p>` with LOG_LEVEL=warn, each with its own data and log folders.",
    ],
    rows: collected.rows,
    details: collected.details,
    durationSeconds: (performance.now() - suiteStarted) / 1000,
    command: ["bun bench/run.ts", ...process.argv.slice(2)].join(" "),
  };
  const path = writeReport(report, REPORT_NAME);
  console.log(`\n${renderTable(report.rows)}\n\nWritten to ${path.replace(`${ROOT}/`, "")}`);
}

await main();
process.exit(0);
