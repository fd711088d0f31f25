#!/usr/bin/env bun
/**
 * This tree's proxy against the proxy of another commit, same machine, same run: what "not worse
 * than before" means for a change that reshapes the code. The other commit is checked out in a
 * temporary git worktree (sharing this checkout's node_modules); both proxies run on core 1 with
 * the same settings against the fast mock on core 0, and every measurement alternates between
 * them (A B A B …), medians reported.
 *
 *   bun bench/compare-commits.ts <commit> [--rounds 5] [--seconds 2] [--name compare]
 *
 * Rows: non-stream throughput at c=64 (wrk), streamed throughput at c=64, and added latency p50 /
 * p99 at c=1 over the mock answering directly (blocks of sequential requests, alternating). Target:
 * within 5% of the other commit. `bun bench/compare-commits.ts HEAD` (the tree against its own
 * commit) shows the noise floor of this machine.
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { percentile } from "./clients.ts";
import { BUN, ROOT, freePorts, pin, removeTempDirs, startChild, tempDir, writeEnvFile, type Child } from "./processes.ts";
import { describeMachine, fmt, sourceVersion, writeReport, type Row } from "./report.ts";
import { LOAD_CORE, PROXY_HEADERS, SERVER_CORE, chatBody, keyList, proxyEnv } from "./setup.ts";
import { haveWrk, runWrk } from "./wrk.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: "string", default: "5" }, seconds: { type: "string", default: "2" }, name: { type: "string", default: "compare" } },
});
const baseRef = positionals[0];
if (!baseRef) throw new Error("usage: bun bench/compare-commits.ts <commit> [--rounds 5] [--seconds 2] [--name compare]");
if (!haveWrk()) throw new Error("wrk is needed (apt-get install -y wrk)");
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNECTIONS = 64;
const TOLERANCE = 0.05;
const MODEL = "gpt-bench-0";

const BLOCK = 400;
const started = performance.now();
const baseCommit = execFileSync("git", ["rev-parse", "--short", baseRef], { cwd: ROOT, encoding: "utf8" }).trim();
const worktree = mkdtempSync(join(tmpdir(), "lkp-base-"));
execFileSync("git", ["worktree", "add", "--detach", worktree, baseCommit], { cwd: ROOT, stdio: "ignore" });
symlinkSync(join(ROOT, "node_modules"), join(worktree, "node_modules"));

/** `BLOCK` sequential requests; their times in ms, ascending. */
async function block(url: string, body: string, headers: Record<string, string>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < BLOCK; i++) {
    const t0 = performance.now();
    const response = await fetch(url, { method: "POST", body, headers });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
    times.push(performance.now() - t0);
  }
  return times.sort((x, y) => x - y);
}

const children: Child[] = [];
type Name = "head" | "base";
type Figures = { c1: Record<Name, number[]>; c2: Record<Name, number[]>; p50: Record<Name, number[]>; p99: Record<Name, number[]> };
const median = (list: number[]): number => percentile([...list].sort((a, b) => a - b), 50);
try {
  const [mockPort] = freePorts(1) as [number];
  const mock = await startChild({ name: "mock", cmd: [BUN, "bench/fast-mock.ts", String(mockPort)], cores: LOAD_CORE, port: mockPort, timeoutMs: 10_000 });
  children.push(mock);
  pin(process.pid, LOAD_CORE);
  const chatUrl = (child: Child) => `${child.url}/v1/chat/completions`;

  const startProxyIn = async (name: Name, port: number): Promise<Child> => {
    const dir = tempDir(`compare-${name}`);
    const envFile = join(dir, ".env");
    writeEnvFile(envFile, proxyEnv(mock.url, keyList(5), { DATA_DIR: join(dir, "data"), LOG_DIR: join(dir, "logs") }));
    const cwd = name === "head" ? ROOT : worktree;
    return startChild({ name, cmd: [BUN, "--no-env-file", "src/main.ts", "--env-file", envFile, "--port", String(port)], cores: SERVER_CORE, port, cwd });
  };

  /**
   * One session: both proxies started (`first` first), then every measurement alternating. On
   * this VM the proxy started first measured up to 15% slower than an identical one started
   * second, so the suite runs two sessions with the start order swapped and judges their
   * geometric mean.
   */
  const session = async (first: Name): Promise<Figures> => {
    const [portA, portB] = freePorts(2) as [number, number];
    const second: Name = first === "head" ? "base" : "head";
    const proxies = { [first]: await startProxyIn(first, portA) } as Record<Name, Child>;
    proxies[second] = await startProxyIn(second, portB);
    const figures: Figures = { c1: { head: [], base: [] }, c2: { head: [], base: [] }, p50: { head: [], base: [] }, p99: { head: [], base: [] } };
    try {
      const wrkRun = (name: Name, stream: boolean) =>
        runWrk({ url: chatUrl(proxies[name]), bodies: [chatBody(`openai/${MODEL}`, stream)], headers: PROXY_HEADERS, connections: CONNECTIONS, seconds: SECONDS, cores: LOAD_CORE });
      for (const stream of [false, true]) {
        for (const name of ["head", "base"] as const) await wrkRun(name, stream);
        for (let round = 0; round < ROUNDS; round++) {
          // Who goes first alternates, so neither always meets a core just warmed by the other.
          for (const name of round % 2 === 0 ? (["head", "base"] as const) : (["base", "head"] as const)) {
            const result = await wrkRun(name, stream);
            if (result.non2xx > 0 || result.socketErrors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.socketErrors} socket errors`);
            figures[stream ? "c2" : "c1"][name].push(result.rps);
          }
        }
      }
      // Latency in blocks: per round, sequential requests to the mock directly, then to each proxy;
      // a block's added latency is its percentile minus the direct block's of the same round.
      for (let round = 0; round < 2 * ROUNDS + 1; round++) {
        const direct = await block(`${mock.url}/v1/chat/completions`, chatBody(MODEL), { "content-type": "application/json", authorization: "Bearer sk-bench-00000" });
        for (const name of round % 2 === 0 ? (["head", "base"] as const) : (["base", "head"] as const)) {
          const own = await block(chatUrl(proxies[name]), chatBody(`openai/${MODEL}`), PROXY_HEADERS);
          if (round === 0) continue; // warm-up
          figures.p50[name].push(percentile(own, 50) - percentile(direct, 50));
          figures.p99[name].push(percentile(own, 99) - percentile(direct, 99));
        }
      }
    } finally {
      await proxies.head.stop();
      await proxies.base.stop();
    }
    return figures;
  };

  const sessions = [await session("head"), await session("base")];
  const rows: Row[] = [];
  const details: string[] = [];
  const rowsOf: { id: keyof Figures; what: string; format: (value: number) => string; higherIsBetter: boolean }[] = [
    { id: "c1", what: `Non-stream chat throughput, c=${CONNECTIONS}`, format: fmt.rps, higherIsBetter: true },
    { id: "c2", what: `Streamed chat throughput, c=${CONNECTIONS}`, format: fmt.rps, higherIsBetter: true },
    { id: "p50", what: "Added latency p50, c=1, over the mock directly", format: (v) => `+${fmt.ms(v)}`, higherIsBetter: false },
    { id: "p99", what: "Added latency p99, c=1, over the mock directly", format: (v) => `+${fmt.ms(v)}`, higherIsBetter: false },
  ];
  for (const { id, what, format, higherIsBetter } of rowsOf) {
    const ratios = sessions.map((figures) => median(figures[id].head) / median(figures[id].base));
    const ratio = Math.sqrt(ratios[0]! * ratios[1]!);
    const pooled = (name: Name) => median(sessions.flatMap((figures) => figures[id][name]));
    rows.push({
      id,
      what: `${what}: this tree vs ${baseCommit}`,
      measured: format(pooled("head")),
      against: format(pooled("base")),
      judged: fmt.times(ratio),
      target: higherIsBetter ? `≥ ${1 - TOLERANCE}×` : `≤ ${1 + TOLERANCE}×`,
      pass: higherIsBetter ? ratio >= 1 - TOLERANCE : ratio <= 1 + TOLERANCE,
    });
    details.push(`${id}: ratio head/base per session (head started first, then base first): ${ratios.map((r) => r.toFixed(3)).join(", ")}.`);
  }
  details.push(`${ROUNDS} alternating wrk rounds of ${SECONDS} s per mode and ${2 * ROUNDS} latency rounds of ${BLOCK} sequential requests per target, in each session; source ${sourceVersion()}.`);

  const path = writeReport(
    {
      date: new Date().toISOString().slice(0, 10),
      machine: describeMachine(),
      layout: ["both proxies on core 1 (one loaded at a time); wrk, the latency sampler and the fast mock on core 0."],
      rows,
      details,
      durationSeconds: (performance.now() - started) / 1000,
      command: `bun bench/compare-commits.ts ${baseRef}`,
    },
    values.name,
  );
  for (const row of rows) console.log(`${row.id} ${row.what}: ${row.measured} vs ${row.against} → ${row.judged} (${row.pass ? "pass" : "MISS"}, target ${row.target})`);
  console.log(`report: ${path}`);
} finally {
  for (const child of children.reverse()) await child.stop();
  execFileSync("git", ["worktree", "remove", "--force", worktree], { cwd: ROOT, stdio: "ignore" });
  rmSync(worktree, { recursive: true, force: true });
  removeTempDirs();
}
