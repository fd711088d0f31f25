/**
 * Throughput runs with wrk (Debian package `wrk`), pinned with taskset. wrk is C and needs one
 * core at most, so it can share core 0 with the mock and leave core 1 to the server under test.
 * POST bodies and headers go in a generated Lua script; several bodies are sent round robin
 * (one per request), which is how the key-scaling runs spread load over 20 models.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./processes.ts";

export interface WrkRun {
  url: string;
  /** Request bodies, used in turn. */
  bodies: string[];
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  cores: string;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  /** Answers that were not 2xx/3xx, and socket errors: both must be 0 for a clean run. */
  non2xx: number;
  socketErrors: number;
}

const scriptDir = tempDir("wrk");
let scriptCount = 0;

/** Lua string literal (long brackets cannot be used: bodies may contain "]]"). */
function luaString(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

function writeScript(run: WrkRun): string {
  const headerLines = Object.entries(run.headers).map(([name, value]) => `wrk.headers[${luaString(name)}] = ${luaString(value)}`);
  const lua = [
    `wrk.method = "POST"`,
    ...headerLines,
    `local bodies = { ${run.bodies.map(luaString).join(", ")} }`,
    `local requests = {}`,
    `local next = 0`,
    // Formatting every request once, in init (host and path are known there), keeps wrk's
    // per-request Lua work to a table lookup.
    `function init(args)`,
    `  for i, body in ipairs(bodies) do requests[i] = wrk.format(nil, nil, nil, body) end`,
    `end`,
    `function request()`,
    `  next = next % #requests + 1`,
    `  return requests[next]`,
    `end`,
  ].join("\n");
  const path = join(scriptDir, `run-${++scriptCount}.lua`);
  writeFileSync(path, lua);
  return path;
}

export function parseWrkOutput(output: string): WrkResult {
  const match = /(\d+) requests in ([\d.]+)(m?s)/.exec(output);
  if (!match) throw new Error(`unexpected wrk output:\n${output}`);
  const requests = Number(match[1]);
  const seconds = Number(match[2]) / (match[3] === "ms" ? 1000 : 1);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return { requests, seconds, rps: requests / seconds, non2xx, socketErrors };
}

export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const script = writeScript(run);
  const proc = Bun.spawn(
    ["taskset", "-c", run.cores, "wrk", "-t1", `-c${run.connections}`, `-d${run.seconds}s`, "--timeout", "5s", "-s", script, run.url],
    { stdout: "pipe", stderr: "pipe" },
  );
  // wrk ends by itself after -d; the kill is only a guard against a hung server.
  const guard = setTimeout(() => proc.kill("SIGKILL"), (run.seconds + 10) * 1000);
  const output = await new Response(proc.stdout).text();
  await proc.exited;
  clearTimeout(guard);
  return parseWrkOutput(output);
}

/** True when wrk is installed. */
export function haveWrk(): boolean {
  return Bun.spawnSync(["which", "wrk"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
}
