/**
 * The library runs on Node as well as Bun: nothing its entry module reaches by static import uses
 * `bun:*`, `Bun.*`, Hono, @clack or the server. (SQLite state is loaded on demand, Bun only.)
 */

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../../..");
const ENTRY = resolve(ROOT, "src/library/index.ts");

function reachable(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    const text = readFileSync(file, "utf8");
    seen.set(file, text);
    for (const match of text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
      const spec = match[1]!;
      if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
    }
  };
  visit(entry);
  return seen;
}

test("the library's module graph holds no Bun, Hono, @clack or server module", () => {
  const graph = reachable(ENTRY);
  expect(graph.size).toBeGreaterThan(20);
  const offenders: string[] = [];
  for (const [file, text] of graph) {
    const where = relative(ROOT, file);
    if (where.startsWith("src/server/") || where.startsWith("setup/")) offenders.push(`${where}: a server or setup module`);
    for (const match of text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
      if (/^(bun:|bun$|hono|@clack\/)/.test(match[1]!)) offenders.push(`${where}: imports ${match[1]}`);
    }
    // Bun's globals, outside comments and the one guarded, on-demand SQLite loader.
    const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    if (/\bBun\.[A-Za-z]/.test(code)) offenders.push(`${where}: uses Bun.*`);
  }
  expect(offenders).toEqual([]);
});
