/**
 * The results as markdown: the machine and core layout, one table row per measurement with its
 * target and verdict, and the raw numbers behind them. Written to bench/results/<date>.md (a
 * second run on the same day replaces the file) and printed.
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { ROOT } from "./processes.ts";

export interface Row {
  /** Item number of the issue (1–8) and a letter for sub-rows. */
  id: string;
  what: string;
  /** The measured figure, formatted. */
  measured: string;
  /** What it is compared with, formatted (or "—"). */
  against: string;
  /** The judged quantity (ratio, difference or absolute), formatted. */
  judged: string;
  target: string;
  /** undefined: informational, no target. */
  pass?: boolean;
}

export interface Report {
  date: string;
  machine: string[];
  layout: string[];
  rows: Row[];
  /** Raw numbers and notes, one markdown line each. */
  details: string[];
  durationSeconds: number;
  /** The command line that produced it (default `npm run bench`). */
  command?: string;
}

function firstLine(cmd: string[]): string {
  try {
    const result = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
    return (result.stdout.toString() || result.stderr.toString()).split("\n")[0]!.trim();
  } catch {
    return "unknown";
  }
}

/** CPU, cores, memory, kernel, runtime and tool versions. */
export function describeMachine(): string[] {
  const cpu = cpus()[0]?.model ?? "unknown";
  const packageJson = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  return [
    `CPU: ${cpu}, ${cpus().length} logical cores (${firstLine(["nproc"])} usable), ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM`,
    `Kernel: ${firstLine(["uname", "-srm"])}`,
    `systemd-detect-virt: ${firstLine(["systemd-detect-virt"])}`,
    `Bun ${Bun.version}, ${firstLine(["wrk", "-v"]).replace(/\s+Copyright.*$/, "")}, llm-key-proxy ${packageJson.version}`,
    sourceVersion(),
  ];
}

/** The commit measured, and whether src/ had uncommitted changes. */
export function sourceVersion(): string {
  return `Source: commit ${firstLine(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])}${srcIsDirty() ? " with uncommitted changes in src/" : ""}`;
}

/** Whether src/ differs from the commit (the numbers then belong to the working tree). */
function srcIsDirty(): boolean {
  const result = Bun.spawnSync(["git", "-C", ROOT, "status", "--porcelain", "--", "src"], { stdout: "pipe", stderr: "ignore" });
  return result.exitCode === 0 && result.stdout.toString().trim().length > 0;
}

function verdict(pass: boolean | undefined): string {
  if (pass === undefined) return "info";
  return pass ? "**pass**" : "**MISS**";
}

export function renderTable(rows: readonly Row[]): string {
  const lines = ["| # | Measurement | Measured | Against | Judged | Target | Result |", "|---|---|---:|---:|---:|---|---|"];
  for (const row of rows) lines.push(`| ${row.id} | ${row.what} | ${row.measured} | ${row.against} | ${row.judged} | ${row.target} | ${verdict(row.pass)} |`);
  return lines.join("\n");
}

export function renderReport(report: Report): string {
  const passed = report.rows.filter((row) => row.pass === true).length;
  const judged = report.rows.filter((row) => row.pass !== undefined).length;
  return [
    `# llm-key-proxy benchmark — ${report.date}`,
    "",
    `Produced by \`${report.command ?? "npm run bench"}\` (bench/run.ts). All traffic on loopback, one machine, one run: compare ratios, not absolute numbers, across machines.`,
    "",
    "## Machine",
    "",
    ...report.machine.map((line) => `- ${line}`),
    "",
    "## Core layout",
    "",
    ...report.layout.map((line) => `- ${line}`),
    "",
    `## Results (${passed} of ${judged} targets met; suite took ${report.durationSeconds.toFixed(0)} s)`,
    "",
    renderTable(report.rows),
    "",
    "## Details",
    "",
    ...report.details.map((line) => `- ${line}`),
    "",
  ].join("\n");
}

/** Writes bench/results/<date>.md (or <date>-<name>.md) and returns its path. */
export function writeReport(report: Report, name?: string): string {
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${report.date}${name ? `-${name}` : ""}.md`);
  writeFileSync(path, renderReport(report));
  return path;
}

/** Number formatting shared by the rows. */
export const fmt = {
  ms: (value: number): string => `${value.toFixed(3)} ms`,
  rps: (value: number): string => `${Math.round(value).toLocaleString("en")} req/s`,
  perSecond: (value: number, unit: string): string => `${Math.round(value).toLocaleString("en")} ${unit}/s`,
  mb: (value: number): string => `${value.toFixed(1)} MB`,
  pct: (value: number): string => `${(value * 100).toFixed(0)}%`,
  times: (value: number): string => `${value.toFixed(3)}×`,
};
