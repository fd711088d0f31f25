/**
 * Reads a `.cpuprofile` written by `bun --cpu-prof` and says where the samples went, three ways:
 * by function (self), by the deepest frame in src/ (so native and library time is charged to the
 * line of ours that caused it), and inclusive per src/ function. Counts samples, not the profile's
 * time deltas: a delta also covers time the thread spent descheduled, which on a shared core would
 * charge the scheduler's choices to whatever ran last.
 */

import { readFileSync } from "node:fs";
import { ROOT } from "./processes.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

interface Frame {
  name: string;
  location: string;
  inSrc: boolean;
}

function frameOf(node: ProfileNode): Frame {
  const { functionName, url, lineNumber } = node.callFrame;
  const path = url.replace(/^file:\/\//, "").replace(`${ROOT}/`, "");
  return {
    name: functionName || "(anonymous)",
    location: path ? `${path}:${lineNumber + 1}` : "[native]",
    inSrc: path.startsWith("src/"),
  };
}

function topRows(counts: Map<string, number>, total: number, limit: number): string[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, count]) => `| ${((count / total) * 100).toFixed(1)}% | ${count} | ${key} |`);
}

const bump = (counts: Map<string, number>, key: string): void => {
  counts.set(key, (counts.get(key) ?? 0) + 1);
};

/** Markdown tables of the top `limit` entries of each view. */
export function summarizeProfile(path: string, limit = 25): string {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const bySrcLine = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const total = profile.samples.length;
  for (const id of profile.samples) {
    const leaf = frameOf(byId.get(id)!);
    bump(self, `\`${leaf.name}\` | ${leaf.location}`);
    let charged = false;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = frameOf(byId.get(at)!);
      if (!frame.inSrc) continue;
      const key = `\`${frame.name}\` | ${frame.location}`;
      if (!charged) {
        bump(bySrcLine, `${key} | ${leaf.location === frame.location ? "itself" : `\`${leaf.name}\``}`);
        charged = true;
      }
      // Inclusive per function, counted once per sample even when it recurses.
      const fn = `\`${frame.name}\` | ${frame.location.replace(/:\d+$/, "")}`;
      if (!seen.has(fn)) inclusive.set(fn, (inclusive.get(fn) ?? 0) + 1);
      seen.add(fn);
    }
    if (!charged) bump(bySrcLine, `(no src/ frame: runtime, Hono or the event loop) | — | \`${leaf.name}\` ${leaf.location}`);
  }

  return [
    `${total} samples of the main JS thread.`,
    "",
    "Self time by function:",
    "",
    "| share | samples | function | location |",
    "|---:|---:|---|---|",
    ...topRows(self, total, limit),
    "",
    "Self time charged to the deepest src/ frame on the stack (the leaf it was running in the last column):",
    "",
    "| share | samples | src/ function | line | leaf |",
    "|---:|---:|---|---|---|",
    ...topRows(bySrcLine, total, limit),
    "",
    "Inclusive time per src/ function (share of samples with it on the stack):",
    "",
    "| share | samples | function | file |",
    "|---:|---:|---|---|",
    ...topRows(inclusive, total, limit),
  ].join("\n");
}

if (import.meta.main) {
  const path = process.argv[2];
  if (!path) throw new Error("usage: bun bench/cpu-profile.ts <file.cpuprofile> [rows]");
  console.log(summarizeProfile(path, Number(process.argv[3] ?? 25)));
}
