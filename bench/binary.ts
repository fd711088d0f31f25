/**
 * The compiled binary: build it for linux-x64 with build/build.ts into a temporary folder, report
 * its size, and time start-to-ready (spawn → first 200 from GET /healthz) over a few starts. The
 * same timing for `bun src/main.ts` is measured alongside, so the two can be compared.
 */

import { statSync } from "node:fs";
import { join } from "node:path";
import { median } from "./clients.ts";
import { BUN, ROOT, freePorts, tempDir, waitUntilReady } from "./processes.ts";

export interface BinaryResult {
  sizeMb: number;
  buildSeconds: number;
  binaryReadyMs: number;
  sourceReadyMs: number;
}

const STARTS = 5;

async function build(outdir: string): Promise<{ path: string; seconds: number }> {
  const started = performance.now();
  const proc = Bun.spawn([BUN, "build/build.ts", "--target", "linux-x64", "--outdir", outdir], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const guard = setTimeout(() => proc.kill("SIGKILL"), 180_000);
  const [output, errors] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(guard);
  if (proc.exitCode !== 0) throw new Error(`build failed:\n${output}\n${errors}`);
  return { path: join(outdir, "llm-key-proxy-linux-x64"), seconds: (performance.now() - started) / 1000 };
}

/** Spawn → ready, in ms, for one start of `cmd`; the process is stopped afterwards. */
async function timeStart(cmd: string[], cores: string, envFile: string, cwd: string): Promise<number> {
  const [port] = freePorts(1);
  const started = performance.now();
  const proc = Bun.spawn(["taskset", "-c", cores, ...cmd, "--env-file", envFile, "--port", String(port)], { cwd, stdout: "ignore", stderr: "ignore" });
  let exited = false;
  void proc.exited.then(() => (exited = true));
  try {
    await waitUntilReady(`http://127.0.0.1:${port}/healthz`, 10_000, 1, () => !exited);
    return performance.now() - started;
  } finally {
    proc.kill("SIGINT");
    await proc.exited;
  }
}

async function medianStart(cmd: string[], cores: string, envFile: string, cwd: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < STARTS; i++) times.push(await timeStart(cmd, cores, envFile, cwd));
  return median(times);
}

/** `envFile` must configure a working proxy (PROXY_API_KEY and one provider). */
export async function measureBinary(envFile: string, cores: string): Promise<BinaryResult> {
  const outdir = tempDir("binary");
  const binary = await build(outdir);
  const cwd = tempDir("binary-cwd");
  const binaryReadyMs = await medianStart([binary.path], cores, envFile, cwd);
  const sourceReadyMs = await medianStart([BUN, "--no-env-file", join(ROOT, "src/main.ts")], cores, envFile, cwd);
  return { sizeMb: statSync(binary.path).size / 1024 / 1024, buildSeconds: binary.seconds, binaryReadyMs, sourceReadyMs };
}
