#!/usr/bin/env bun
/**
 * Release build: one standalone, minified binary per platform (Bun's runtime included), an
 * archive per binary, and a checksum list. `npm run build` builds all five targets into
 * `dist/`; Bun fetches the runtime of each foreign target from the npm registry once and
 * caches it, so cross-compiling works from any host.
 *
 *   bun build/build.ts [--target linux-x64 [--target ...]] [--outdir dist]
 *
 * Written to the output folder (existing files of the same name are replaced):
 *   llm-key-proxy-<os>-<arch>[.exe]     the binary; `--version` prints the package.json version,
 *                                        which src/version.ts imports and the bundle inlines
 *   llm-key-proxy-<os>-<arch>.tar.gz    linux and darwin
 *   llm-key-proxy-<os>-<arch>.zip       windows
 *   SHA256SUMS                           `<hex>  <name>` for every binary and archive of this run,
 *                                        checked with `sha256sum -c SHA256SUMS`
 *
 * Each archive holds one folder, `llm-key-proxy-<os>-<arch>/`, with `llm-key-proxy[.exe]`,
 * `README.md` and `.env.example`. One folder, because unpacking should not scatter files into
 * the user's Downloads; and that folder is where the `.env` and `data/` belong, since a compiled
 * binary looks for its `.env` beside itself. The binary inside has the plain name so the
 * instructions read the same on every platform.
 */

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import packageJson from "../package.json" with { type: "json" };
import { tarGz, zip, type ArchiveEntry } from "./archive.ts";

const ROOT = resolve(import.meta.dir, "..");
const NAME = "llm-key-proxy";
const ENTRY = join(ROOT, "src/main.ts");
/** Files shipped beside the binary, read from the repository root. */
const EXTRA_FILES = ["README.md", ".env.example"];

const TARGETS = {
  "linux-x64": "bun-linux-x64",
  "linux-arm64": "bun-linux-arm64",
  "windows-x64": "bun-windows-x64",
  "darwin-x64": "bun-darwin-x64",
  "darwin-arm64": "bun-darwin-arm64",
} as const satisfies Record<string, Bun.Build.CompileTarget>;

type Target = keyof typeof TARGETS;

interface BuildOptions {
  targets: Target[];
  outdir: string;
}

interface Output {
  name: string;
  bytes: number;
  seconds: number;
}

async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const mtime = archiveTime();
  mkdirSync(options.outdir, { recursive: true });
  console.log(`Building ${NAME} ${packageJson.version} into ${options.outdir}`);
  const outputs: Output[] = [];
  for (const target of options.targets) {
    const binary = await compileBinary(target, options.outdir);
    outputs.push(binary);
    checkVersion(target, join(options.outdir, binary.name));
    outputs.push(writeArchive(target, join(options.outdir, binary.name), options.outdir, mtime));
  }
  writeChecksums(options.outdir, outputs);
  printTable(outputs);
  console.log(`\nChecksums: ${join(options.outdir, "SHA256SUMS")}`);
}

function parseOptions(argv: string[]): BuildOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string", multiple: true },
      outdir: { type: "string", default: "dist" },
    },
  });
  const targets = values.target ?? Object.keys(TARGETS);
  for (const target of targets) {
    if (!(target in TARGETS)) throw new Error(`unknown target "${target}"; known: ${Object.keys(TARGETS).join(", ")}`);
  }
  return { targets: targets as Target[], outdir: resolve(values.outdir) };
}

/** `SOURCE_DATE_EPOCH` (the reproducible-builds convention) when set, else now. */
function archiveTime(): Date {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (!epoch) return new Date();
  if (!/^\d+$/.test(epoch)) throw new Error(`SOURCE_DATE_EPOCH must be whole seconds since 1970, not "${epoch}"`);
  return new Date(Number(epoch) * 1000);
}

function binaryName(target: Target): string {
  return `${NAME}-${target}${target.startsWith("windows-") ? ".exe" : ""}`;
}

async function compileBinary(target: Target, outdir: string): Promise<Output> {
  const started = performance.now();
  const name = binaryName(target);
  const outfile = join(outdir, name);
  const result = await Bun.build({
    entrypoints: [ENTRY],
    minify: true,
    throw: false,
    compile: {
      target: TARGETS[target],
      outfile,
      // The proxy reads its own .env (beside itself, or the one --env-file names), and the
      // process environment overrides it. Bun's own loading of .env, .env.local … from the
      // working directory would slip other values in ahead of that file; a bunfig.toml in the
      // working directory could preload code into the binary.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
  });
  if (!result.success) {
    throw new Error(`compiling ${target} failed:\n${result.logs.map((log) => String(log)).join("\n")}`);
  }
  return { name, bytes: Bun.file(outfile).size, seconds: secondsSince(started) };
}

/** A binary for the machine doing the build is run once, so a broken build never gets archived. */
function checkVersion(target: Target, binary: string): void {
  const host = `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
  if (host !== target) return;
  const run = Bun.spawnSync([binary, "--version"], { stdout: "pipe", stderr: "pipe" });
  const printed = run.stdout.toString().trim();
  const expected = `${NAME} ${packageJson.version}`;
  if (run.exitCode !== 0 || printed !== expected) {
    throw new Error(`${binary} --version printed "${printed}" (exit ${run.exitCode}), expected "${expected}"`);
  }
}

function writeArchive(target: Target, binary: string, outdir: string, mtime: Date): Output {
  const started = performance.now();
  const folder = `${NAME}-${target}`;
  const windows = target.startsWith("windows-");
  const entries: ArchiveEntry[] = [
    { type: "directory", path: folder, mode: 0o755 },
    { type: "file", path: `${folder}/${NAME}${windows ? ".exe" : ""}`, mode: 0o755, data: readFileSync(binary) },
    ...EXTRA_FILES.map((file): ArchiveEntry => ({ type: "file", path: `${folder}/${file}`, mode: 0o644, data: readFileSync(join(ROOT, file)) })),
  ];
  const name = `${folder}${windows ? ".zip" : ".tar.gz"}`;
  const bytes = windows ? zip(entries, mtime) : tarGz(entries, mtime);
  writeFileSync(join(outdir, name), bytes);
  return { name, bytes: bytes.length, seconds: secondsSince(started) };
}

function writeChecksums(outdir: string, outputs: readonly Output[]): void {
  // Two spaces between hash and name: the text-mode line `sha256sum -c` reads.
  const lines = outputs.map((output) => `${sha256File(join(outdir, output.name))}  ${output.name}\n`);
  writeFileSync(join(outdir, "SHA256SUMS"), lines.join(""));
}

function sha256File(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

function printTable(outputs: readonly Output[]): void {
  const width = Math.max(...outputs.map((output) => output.name.length));
  console.log(`\n${"file".padEnd(width)}  ${"size".padStart(10)}  ${"time".padStart(6)}`);
  for (const output of outputs) {
    const size = `${(output.bytes / 1024 / 1024).toFixed(1)} MiB`;
    console.log(`${output.name.padEnd(width)}  ${size.padStart(10)}  ${`${output.seconds.toFixed(1)} s`.padStart(6)}`);
  }
}

function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`build: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
