/**
 * Child processes for the benchmarks: start a server pinned to a set of cores, wait until it
 * answers, read its memory from /proc, move it to other cores, and stop it. Every server is its
 * own process so its RSS is its own and so `taskset` can keep the load generator off its core.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");
export const BUN = process.execPath;

export interface Child {
  name: string;
  pid: number;
  port: number;
  url: string;
  proc: Bun.Subprocess;
  /** Ask it to stop (SIGINT: the proxy drains and flushes), then kill it if it lingers past `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  name: string;
  /** Command and arguments, without taskset. */
  cmd: string[];
  /** CPU list for taskset, e.g. "1" or "0-1". */
  cores: string;
  port: number;
  env?: Record<string, string>;
  cwd?: string;
  /** Path answered with 2xx once the server is ready. */
  readyPath?: string;
  timeoutMs?: number;
}

const createdDirs: string[] = [];

/** A fresh temporary directory for one run's files (under `parent`, default the OS's); removeTempDirs() deletes it. */
export function tempDir(prefix: string, parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, `lkp-bench-${prefix}-`));
  createdDirs.push(dir);
  return dir;
}

/** Deletes every directory tempDir() made (binaries, data dirs, request logs: hundreds of MB). */
export function removeTempDirs(): void {
  for (const dir of createdDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Loopback ports that are free right now (the OS picks them; we release them at once). */
export function freePorts(count: number): number[] {
  const servers = Array.from({ length: count }, () => Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() }));
  const ports = servers.map((server) => server.port!);
  for (const server of servers) server.stop(true);
  return ports;
}

/** Polls `url` until it answers 2xx; returns the milliseconds it took, or throws at the timeout. */
export async function waitUntilReady(url: string, timeoutMs: number, intervalMs = 2, alive: () => boolean = () => true): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (!alive()) throw new Error(`the process serving ${url} exited before it was ready`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return performance.now() - started;
    } catch {
      // Not listening yet.
    }
    await Bun.sleep(intervalMs);
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
}

export async function startChild(options: StartOptions): Promise<Child> {
  const url = `http://127.0.0.1:${options.port}`;
  const logPath = join(tempDir(`log-${options.name}`), "output.log");
  const proc = Bun.spawn(["taskset", "-c", options.cores, ...options.cmd], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdout: Bun.file(logPath),
    stderr: Bun.file(logPath),
  });
  let exited = false;
  void proc.exited.then(() => (exited = true));
  try {
    await waitUntilReady(`${url}${options.readyPath ?? "/healthz"}`, options.timeoutMs ?? 20_000, 10, () => !exited);
  } catch (error) {
    proc.kill("SIGKILL");
    throw new Error(`${options.name} did not start: ${String(error)}\n${readFileSync(logPath, "utf8").slice(-2000)}`);
  }
  return {
    name: options.name,
    pid: proc.pid,
    port: options.port,
    url,
    proc,
    stop: (graceMs = 5_000) => stopChild(proc, graceMs),
  };
}

async function stopChild(proc: Bun.Subprocess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGINT");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** Moves every thread of a running process to `cores` (threads created later inherit it). */
export function pin(pid: number, cores: string): void {
  const result = Bun.spawnSync(["taskset", "-a", "-p", "-c", cores, String(pid)], { stdout: "ignore", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`taskset -a -p -c ${cores} ${pid} failed: ${result.stderr.toString()}`);
}

/** Current and peak resident set size of a process, in MB (from /proc/<pid>/status). */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

/** Writes a `.env` file from a record (values must not contain newlines). */
export function writeEnvFile(path: string, env: Record<string, string>): void {
  writeFileSync(path, Object.entries(env).map(([name, value]) => `${name}=${value}`).join("\n") + "\n");
}

/** CPU time a process has used so far (user + system, all threads), in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/**
 * Waits until a process stops using CPU (less than 20 ms in 200 ms), at most `maxMs`: work a server
 * deferred (log writes, GC) must not spill into the next measurement on the same core.
 */
export async function settle(pid: number, maxMs = 5_000): Promise<number> {
  const started = performance.now();
  let before = cpuSeconds(pid);
  while (performance.now() - started < maxMs) {
    await Bun.sleep(200);
    const now = cpuSeconds(pid);
    if (now - before < 0.02) break;
    before = now;
  }
  return performance.now() - started;
}
