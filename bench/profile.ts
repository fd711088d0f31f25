#!/usr/bin/env bun
/**
 * Where a proxy under load spends its CPU: starts the fast mock and one proxy under
 * `bun --cpu-prof` (same cores as the suite), drives one scenario with wrk, stops the proxy so the
 * profile is written, and prints (and saves to bench/results/<date>-profile-<scenario>.md) the CPU
 * each thread used and the hot functions of the main JS thread (bench/cpu-profile.ts).
 *
 *   bun bench/profile.ts [nonstream|logging|keys10k|openai-stream|gemini-stream|responses|responses-store] [seconds] [--keep-temp]
 *
 * Scenarios: `nonstream` is suite row 2 (c=64, small body); `logging` the same with
 * REQUEST_LOGGING=true; `keys10k` 10,000 keys over 20 models; the stream scenarios send 200-chunk
 * streams at c=64 (OpenAI passthrough, Gemini translation); `responses` is suite row 9a's
 * Responses pass-through (POST /v1/responses, openai native, store false), `responses-store` the
 * same with store true (row 9c).
 */

import { readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { summarizeProfile } from "./cpu-profile.ts";
import { sourceVersion } from "./report.ts";
import { BUN, ROOT, freePorts, pin, removeTempDirs, startChild, tempDir, type Child } from "./processes.ts";
import { LOAD_CORE, MODELS, PROXY_HEADERS, chatBody, keyList, proxyEnv, responsesBody, startProxy } from "./setup.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

/** Keep the temporary folders, the raw .cpuprofile among them. */
const KEEP = process.argv.includes("--keep-temp");

interface Scenario {
  keys: number;
  extraEnv: Record<string, string>;
  bodies: string[];
  /** Default /v1/chat/completions. */
  path?: string;
}

const SCENARIOS: Record<string, Scenario> = {
  nonstream: { keys: 1, extraEnv: {}, bodies: [chatBody("openai/gpt-bench")] },
  logging: { keys: 1, extraEnv: { REQUEST_LOGGING: "true" }, bodies: [chatBody("openai/gpt-bench")] },
  keys10k: { keys: 10_000, extraEnv: {}, bodies: MODELS.map((model) => chatBody(`openai/${model}`)) },
  "openai-stream": { keys: 1, extraEnv: {}, bodies: [chatBody("openai/gpt-bench", true)] },
  "gemini-stream": { keys: 1, extraEnv: {}, bodies: [chatBody("gemini/gemini-bench", true)] },
  responses: { keys: 1, extraEnv: {}, bodies: [responsesBody("openai/gpt-bench")], path: "/v1/responses" },
  "responses-store": { keys: 1, extraEnv: {}, bodies: [responsesBody("openai/gpt-bench", { store: true })], path: "/v1/responses" },
};

/** CPU seconds per thread name (summed over threads of the same name), from /proc/<pid>/task. */
function threadCpu(pid: number): Map<string, number> {
  const ticks = 100;
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / ticks);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return byName;
}

function threadTable(before: Map<string, number>, after: Map<string, number>, result: WrkResult): string {
  const rows = [...after]
    .map(([name, seconds]) => [name, seconds - (before.get(name) ?? 0)] as const)
    .filter(([, seconds]) => seconds > 0)
    .sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, seconds]) => sum + seconds, 0);
  return [
    `${result.requests.toLocaleString("en")} requests, ${Math.round(result.rps).toLocaleString("en")} req/s, ${result.non2xx} non-2xx, ${result.socketErrors} socket errors; proxy CPU ${Math.round((total / result.requests) * 1e6)} µs/request.`,
    "",
    "| thread | CPU s | share | µs/request |",
    "|---|---:|---:|---:|",
    ...rows.map(([name, seconds]) => `| ${name} | ${seconds.toFixed(2)} | ${((seconds / total) * 100).toFixed(0)}% | ${Math.round((seconds / result.requests) * 1e6)} |`),
  ].join("\n");
}

async function profileScenario(name: string, scenario: Scenario, seconds: number): Promise<string> {
  const [mockPort, proxyPort] = freePorts(2);
  const profileDir = tempDir("cpuprof");
  let mock: Child | undefined;
  let proxy: Child | undefined;
  try {
    mock = await startChild({ name: "mock", cmd: [BUN, "bench/fast-mock.ts", String(mockPort)], cores: LOAD_CORE, port: mockPort! });
    proxy = await startProxy(name, proxyEnv(mock.url, keyList(scenario.keys), scenario.extraEnv), proxyPort!, {
      bunFlags: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`],
    });
    const run = { url: `${proxy.url}${scenario.path ?? "/v1/chat/completions"}`, bodies: scenario.bodies, headers: PROXY_HEADERS, connections: 64, cores: LOAD_CORE };
    await runWrk({ ...run, seconds: 1 }); // warm-up: JIT, lanes, connections
    const before = threadCpu(proxy.pid);
    const result = await runWrk({ ...run, seconds });
    const threads = threadTable(before, threadCpu(proxy.pid), result);
    // Stopping writes the profile; with request logging the proxy first writes its log backlog.
    await proxy.stop(60_000);
    const file = readdirSync(profileDir).find((entry) => entry.endsWith(".cpuprofile"));
    if (!file) throw new Error(`bun --cpu-prof wrote no profile into ${profileDir}`);
    const where = KEEP ? `Raw profile (open in Chrome DevTools): ${join(profileDir, file)}\n\n` : "";
    const title = `${where}## Profile: ${name} (${seconds} s at c=64 after a 1 s warm-up; the profile covers the whole process life, the thread table the measured run)`;
    return [title, "", `${sourceVersion()}, Bun ${Bun.version}.`, "", threads, "", summarizeProfile(join(profileDir, file))].join("\n");
  } finally {
    await proxy?.stop();
    await mock?.stop();
    if (!KEEP) removeTempDirs();
  }
}

async function main(): Promise<void> {
  const [name = "nonstream", secondsText = "5"] = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
  const seconds = Math.min(10, Number(secondsText));
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`unknown scenario "${name}"; one of: ${Object.keys(SCENARIOS).join(", ")}`);
  pin(process.pid, LOAD_CORE);
  const text = await profileScenario(name, scenario, seconds);
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${new Date().toISOString().slice(0, 10)}-profile-${name}.md`);
  writeFileSync(path, `${text}\n`);
  console.log(`${text}\n\nWritten to ${path.replace(`${ROOT}/`, "")}`);
}

await main();
process.exit(0);
