#!/usr/bin/env bun
/**
 * The library's npm build (`prepack`): `lib/index.js`, the entry `src/library/index.ts` bundled
 * for Node as an ES module with the package's dependencies left as imports, and `lib/types/`,
 * its declarations. The bundle must not reach Bun: the build fails if it imports `bun:*`.
 *
 *   bun build/library.ts [--outdir lib]
 */

import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import packageJson from "../package.json" with { type: "json" };

const ROOT = resolve(import.meta.dir, "..");
const { values } = parseArgs({ options: { outdir: { type: "string", default: "lib" } } });
const outdir = resolve(ROOT, values.outdir!);

rmSync(outdir, { recursive: true, force: true });
const built = await Bun.build({
  entrypoints: [join(ROOT, "src/library/index.ts")],
  outdir,
  naming: "index.js",
  target: "node",
  format: "esm",
  external: Object.keys(packageJson.dependencies),
});
if (!built.success) {
  for (const log of built.logs) console.error(log);
  process.exit(1);
}
const bundle = await Bun.file(join(outdir, "index.js")).text();
const bunImport = /\bfrom\s*["']bun:|import\(["']bun:/.exec(bundle);
if (bunImport) {
  console.error(`lib/index.js imports Bun (${bunImport[0]}): the library must run on Node.`);
  process.exit(1);
}

const tsc = Bun.spawnSync([process.execPath, join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.library.json"), "--outDir", join(outdir, "types")], {
  stdout: "inherit",
  stderr: "inherit",
});
if (tsc.exitCode !== 0) process.exit(tsc.exitCode ?? 1);
console.log(`Built ${join(values.outdir!, "index.js")} (${(bundle.length / 1024).toFixed(0)} KiB) and ${join(values.outdir!, "types")}/.`);
