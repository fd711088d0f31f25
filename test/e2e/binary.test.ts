/**
 * The release binary as a user gets it: `build/build.ts` compiles the binary for this machine
 * (once per run, into a temporary folder, not dist/), and the tests run it the way a user
 * would: `--version`, then from a folder with a `.env` beside it against the mock upstream, and
 * from an unrelated working directory, where it must still find that `.env` beside itself.
 * They also unpack its archive and check SHA256SUMS, and check the zip writer with `unzip`
 * when it is installed (the Windows archive is the only zip, and it is not built here).
 *
 * Cross-compiling all five targets takes half a minute and fetches four Bun runtimes on first
 * use, so it is opt-in: LKP_TEST_ALL_TARGETS=1 bun test test/e2e/binary.test.ts
 */

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { zip, type ArchiveEntry } from "../../build/archive.ts";
import { DEFAULT_CONTENT, startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";

const ROOT = join(import.meta.dir, "../..");
const BUILD_SCRIPT = join(ROOT, "build/build.ts");
const PROXY_KEY = "binary-test-proxy-key-0123456789";
const PROVIDER_KEY = "sk-binary-test-provider-key-abcdef";
/** The targets whose binary this test can run: Windows has no SIGTERM and ships a zip. */
const RUNNABLE_TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64"];
const HOST_TARGET = `${process.platform}-${process.arch}`;
const BINARY_NAME = `llm-key-proxy-${HOST_TARGET}`;
const ARCHIVE_NAME = `${BINARY_NAME}.tar.gz`;

/** One folder for everything this file writes: binaries are ~100 MB each, so it goes in afterAll. */
const workDir = mkdtempSync(join(tmpdir(), "lkp-binary-"));
const running = new Set<ReturnType<typeof Bun.spawn>>();
let mock: MockUpstream | undefined;

afterEach(async () => {
  for (const proc of running) proc.kill("SIGKILL");
  running.clear();
  await mock?.stop();
  mock = undefined;
});

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** A clean environment: the test runner's variables must not leak provider keys in. */
function cleanEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
}

async function run(command: string[], cwd: string = ROOT) {
  const proc = Bun.spawn(command, { cwd, env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

async function runBuild(args: string[]) {
  const result = await run([process.execPath, BUILD_SCRIPT, ...args]);
  if (result.code !== 0) throw new Error(`build failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

function freshDir(prefix: string): string {
  return mkdtempSync(join(workDir, prefix));
}

/** A port nobody listens on right now. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/** Copies the binary into a fresh folder and writes a `.env` beside it that points at the mock. */
function installWithEnv(binary: string, upstream: MockUpstream, port: number): string {
  const dir = freshDir("install-");
  copyFileSync(binary, join(dir, BINARY_NAME));
  const env = [`PROXY_API_KEY=${PROXY_KEY}`, `OPENAI_API_KEY=${PROVIDER_KEY}`, `OPENAI_API_BASE=${upstream.url}`, `PORT=${port}`];
  writeFileSync(join(dir, ".env"), `${env.join("\n")}\n`);
  return dir;
}

interface Started {
  proc: ReturnType<typeof Bun.spawn>;
  output: Promise<string>;
}

function start(binary: string, cwd: string): Started {
  const proc = Bun.spawn([binary], { cwd, env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
  running.add(proc);
  // Read both streams from the start, so a chatty process never blocks on a full pipe.
  const output = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]).then(([out, err]) => out + err);
  return { proc, output };
}

/** Polls /healthz until the binary answers; fails at once, with its output, if it exits first. */
async function waitUntilListening(started: Started, port: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  let exited = false;
  started.proc.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the binary exited before listening:\n${await started.output}`);
    const answered = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (answered) return;
    await Bun.sleep(50);
  }
  throw new Error(`the binary did not listen on ${port} within 15 s`);
}

async function chat(port: number): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${PROXY_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });
}

/** Starts the installed binary with `cwd`, serves one chat request through the mock, and stops it with SIGTERM. */
async function serveOneRequest(installDir: string, cwd: string, port: number): Promise<string> {
  const startedAt = performance.now();
  const started = start(join(installDir, BINARY_NAME), cwd);
  await waitUntilListening(started, port);
  // A returning user who double-clicks the binary is served (and sees the banner) within a second.
  const readyMs = performance.now() - startedAt;
  console.info(`[binary] listening ${readyMs.toFixed(0)} ms after start`);
  expect(readyMs).toBeLessThan(1_000);
  const response = await chat(port);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { choices: { message: { content: string } }[] };
  expect(body.choices[0]?.message.content).toBe(DEFAULT_CONTENT);
  expect(mock!.callsFor(PROVIDER_KEY, "/chat/completions")).toHaveLength(1);
  expect(existsSync(join(installDir, "data", "usage.db"))).toBe(true);
  started.proc.kill("SIGTERM");
  expect(await started.proc.exited).toBe(0);
  running.delete(started.proc);
  return started.output;
}

describe.skipIf(!RUNNABLE_TARGETS.includes(HOST_TARGET))(`the ${HOST_TARGET} binary`, () => {
  const outdir = join(workDir, "dist");
  const binary = join(outdir, BINARY_NAME);

  beforeAll(async () => {
    await runBuild(["--target", HOST_TARGET, "--outdir", outdir]);
  }, 120_000);

  test("the build writes the binary, its archive and SHA256SUMS in the sha256sum -c format", () => {
    expect(statSync(binary).mode & 0o111).not.toBe(0);
    const sums = readFileSync(join(outdir, "SHA256SUMS"), "utf8");
    expect(sums).toBe(`${sha256(binary)}  ${BINARY_NAME}\n${sha256(join(outdir, ARCHIVE_NAME))}  ${ARCHIVE_NAME}\n`);
  });

  test("--version prints the package version", async () => {
    const result = await run([binary, "--version"], freshDir("version-"));
    expect(result).toEqual({ stdout: `llm-key-proxy ${packageJson.version}\n`, stderr: "", code: 0 });
  });

  test.skipIf(!Bun.which("tar"))("the archive holds one folder with the executable, README.md and .env.example", async () => {
    const dir = freshDir("unpacked-");
    expect((await run(["tar", "-xzf", join(outdir, ARCHIVE_NAME), "-C", dir])).code).toBe(0);
    const folder = join(dir, BINARY_NAME);
    expect(readdirSync(dir)).toEqual([BINARY_NAME]);
    expect(readdirSync(folder).sort()).toEqual([".env.example", "README.md", "llm-key-proxy"]);
    expect(statSync(join(folder, "llm-key-proxy")).mode & 0o111).not.toBe(0);
    expect(sha256(join(folder, "llm-key-proxy"))).toBe(sha256(binary));
    expect(readFileSync(join(folder, "README.md"), "utf8")).toBe(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(readFileSync(join(folder, ".env.example"), "utf8")).toBe(readFileSync(join(ROOT, ".env.example"), "utf8"));
  });

  test("started in its own folder, it reads the .env there, serves, keeps data/ beside itself and exits 0 on SIGTERM", async () => {
    mock = await startMockUpstream();
    const port = freePort();
    const installDir = installWithEnv(binary, mock, port);
    const output = await serveOneRequest(installDir, installDir, port);
    expect(output).toContain(join(installDir, ".env"));
  });

  test("started from another working directory, it still finds the .env beside the executable", async () => {
    mock = await startMockUpstream();
    const port = freePort();
    const installDir = installWithEnv(binary, mock, port);
    const elsewhere = freshDir("elsewhere-");
    const output = await serveOneRequest(installDir, elsewhere, port);
    expect(output).toContain(join(installDir, ".env"));
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  test("unconfigured: without a terminal it exits 1 with one sentence; on a terminal it opens the wizard", async () => {
    const installDir = freshDir("unconfigured-");
    const installed = join(installDir, BINARY_NAME);
    writeFileSync(installed, readFileSync(binary));
    chmodSync(installed, 0o755);
    const headless = await run([installed], freshDir("headless-"));
    expect(headless.code).toBe(1);
    expect(headless.stderr).toContain(join(installDir, ".env"));
    // `script` gives the binary a pseudo-terminal, as a double-click does; the wizard must greet.
    const script = Bun.which("script");
    if (!script) throw new Error("`script` (util-linux) is needed to give the binary a terminal");
    const proc = Bun.spawn([script, "-qfec", installed, "/dev/null"], { cwd: freshDir("tty-"), stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    let screen = "";
    const reader = proc.stdout.getReader();
    const deadline = Date.now() + 15_000;
    // The prompt itself arrives wrapped in colour codes; the wizard's plain header lines are enough.
    while (!screen.includes("Nothing is written until you choose") && Date.now() < deadline) {
      const { done, value } = await reader.read();
      if (done) break;
      screen += new TextDecoder().decode(value);
    }
    proc.kill("SIGKILL");
    await proc.exited;
    expect(screen).toContain("Welcome to llm-key-proxy");
    expect(screen).toContain("llm-key-proxy setup");
    expect(screen).toContain("Nothing is written until you choose");
    expect(existsSync(join(installDir, ".env"))).toBe(false);
  }, 30_000);
});

describe.skipIf(!Bun.which("unzip"))("zip writer", () => {
  test("unzip accepts the archive, with deflated and stored entries and Unix modes kept", async () => {
    const text = new TextEncoder().encode("compressible line\n".repeat(500));
    const noise = crypto.getRandomValues(new Uint8Array(4096));
    const entries: ArchiveEntry[] = [
      { type: "directory", path: "top", mode: 0o755 },
      { type: "file", path: "top/tool", mode: 0o755, data: noise },
      { type: "file", path: "top/notes.txt", mode: 0o644, data: text },
      { type: "file", path: "top/empty", mode: 0o644, data: new Uint8Array(0) },
    ];
    const dir = freshDir("zip-");
    const archive = join(dir, "test.zip");
    writeFileSync(archive, zip(entries, new Date("2024-05-06T07:08:10Z")));

    const tested = await run(["unzip", "-t", archive]);
    expect(tested.code).toBe(0);
    expect(tested.stdout).toContain("No errors detected");
    const listing = (await run(["unzip", "-Z", archive])).stdout;
    expect(listing).toMatch(/drwxr-xr-x .* top\//);
    expect(listing).toMatch(/-rwxr-xr-x .* stor .*24-May-06 07:08 top\/tool/);
    expect(listing).toMatch(/-rw-r--r-- .* defN .* top\/notes\.txt/);

    const out = join(dir, "out");
    mkdirSync(out);
    expect((await run(["unzip", "-q", archive, "-d", out])).code).toBe(0);
    expect(new Uint8Array(readFileSync(join(out, "top/tool")))).toEqual(noise);
    expect(statSync(join(out, "top/tool")).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(out, "top/notes.txt"), "utf8")).toBe("compressible line\n".repeat(500));
    expect(readFileSync(join(out, "top/empty")).length).toBe(0);
  });
});

describe.skipIf(!process.env.LKP_TEST_ALL_TARGETS)("npm run build (all five targets; opt-in)", () => {
  test("builds every binary and archive, all listed in SHA256SUMS", async () => {
    const outdir = join(workDir, "all");
    await runBuild(["--outdir", outdir]);
    const expected = ["linux-x64", "linux-arm64", "windows-x64", "darwin-x64", "darwin-arm64"].flatMap((target) =>
      target.startsWith("windows-")
        ? [`llm-key-proxy-${target}.exe`, `llm-key-proxy-${target}.zip`]
        : [`llm-key-proxy-${target}`, `llm-key-proxy-${target}.tar.gz`],
    );
    expect(readdirSync(outdir).sort()).toEqual([...expected, "SHA256SUMS"].sort());
    const sums = readFileSync(join(outdir, "SHA256SUMS"), "utf8");
    expect(sums).toBe(expected.map((name) => `${sha256(join(outdir, name))}  ${name}\n`).join(""));
    if (Bun.which("unzip")) expect((await run(["unzip", "-t", join(outdir, "llm-key-proxy-windows-x64.zip")])).code).toBe(0);
  }, 600_000);
});
