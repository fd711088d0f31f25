/**
 * The module graph of `src/` and `setup/` has no cycles, type-only imports included: a cycle hides
 * which module is the lower layer, and the library core must depend on nothing above it.
 */

import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../../..");

function sourceFiles(dir: string, found: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, found);
    else if (path.endsWith(".ts")) found.push(path);
  }
  return found;
}

/** Relative imports and re-exports of each file, as absolute paths. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/gms)].map((match) => resolve(dirname(file), match[1]!));
    graph.set(file, targets.filter((target) => known.has(target)));
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[] {
  const found = new Set<string>();
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string): void => {
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const at = path.indexOf(next);
      if (at !== -1) found.add([...path.slice(at), next].map((f) => relative(ROOT, f)).join(" → "));
      else if (!done.has(next)) visit(next);
    }
    path.pop();
    done.add(file);
  };
  for (const file of graph.keys()) if (!done.has(file)) visit(file);
  return [...found];
}

test("no import cycles in src/ and setup/", () => {
  const files = [...sourceFiles(join(ROOT, "src")), ...sourceFiles(join(ROOT, "setup"))];
  expect(files.length).toBeGreaterThan(100);
  expect(cycles(importGraph(files))).toEqual([]);
});

test("the check sees a cycle when there is one", () => {
  const graph = new Map([
    [join(ROOT, "a.ts"), [join(ROOT, "b.ts")]],
    [join(ROOT, "b.ts"), [join(ROOT, "a.ts")]],
  ]);
  expect(cycles(graph)).toEqual(["a.ts → b.ts → a.ts"]);
});
