/**
 * The library as users get it: `npm pack` (its prepack builds lib/), the tarball installed into a
 * fresh project with plain npm, then a plain `node` program (not Bun) imports "llm-key-proxy" and
 * uses it against the mock upstream — rotation past a rate-limited key, a stream, the clear error
 * a Node caller gets when asking for Bun's SQLite state — and `tsc` checks a consumer file against
 * the shipped declarations.
 */

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startMockUpstream, DEFAULT_CONTENT, type MockUpstream } from "../support/mock-upstream.ts";

const ROOT = resolve(import.meta.dir, "../..");
let mock: MockUpstream | undefined;
afterAll(async () => {
  await mock?.stop();
});

/** Runs a command to its end; its output is the error when it fails. */
async function run(argv: string[], cwd: string): Promise<string> {
  const proc = Bun.spawn(argv, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, npm_config_update_notifier: "false" } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}:\n${out}\n${err}`);
  return out;
}

test("packed, installed with npm and run by node: rotation past a rate-limited key, a stream, and the types", async () => {
  const node = Bun.which("node");
  const npm = Bun.which("npm");
  if (node === null || npm === null) throw new Error("node and npm must be on PATH: this test runs the library under Node (CI has Node 20).");
  const dir = mkdtempSync(join(tmpdir(), "lkp-node-"));
  const packed = (await run([npm, "pack", "--silent", "--pack-destination", dir], ROOT)).trim().split("\n").at(-1)!;
  const project = join(dir, "consumer");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", type: "module", private: true }));
  // The dependencies come from npm's cache when `npm ci` filled it (CI, a developer's checkout).
  await run([npm, "install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", join(dir, packed)], project);

  mock = await startMockUpstream();
  mock.script("sk-node-key-aaaa1111", { kind: "rate_limit", retryAfterSeconds: 30 });
  const program = join(project, "use.mjs");
  writeFileSync(
    program,
    `import { createRotatingClient, RotationError } from "llm-key-proxy";
const seen = [];
const client = createRotatingClient({
  providers: { mine: { keys: ["sk-node-key-aaaa1111", "sk-node-key-bbbb2222"], baseUrl: ${JSON.stringify(mock.url)} } },
  onAttempt: (event) => seen.push(event.outcome),
});
const completion = await client.chat({ model: "mine/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
let streamed = "";
for await (const chunk of await client.chat({ model: "mine/gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true })) {
  streamed += chunk.choices?.[0]?.delta?.content ?? "";
}
let sqlite = "";
try { createRotatingClient({ providers: {}, state: { kind: "sqlite", path: "x.db" } }); } catch (error) { sqlite = error.message; }
const rejected = await client.chat({ model: "nowhere/x", messages: [] }).catch((error) => error);
await client.close();
console.log(JSON.stringify({ answer: completion.choices[0].message.content, streamed, seen, sqlite, rejected: rejected instanceof RotationError && rejected.kind, runtime: typeof Bun }));
`,
  );
  const out = await run([node, program], project);
  expect(JSON.parse(out)).toEqual({
    answer: DEFAULT_CONTENT,
    streamed: DEFAULT_CONTENT,
    seen: ["rate_limit", "ok", "ok"],
    sqlite: 'createRotatingClient: state { kind: "sqlite" } needs Bun (bun:sqlite); on Node use { kind: "memory" }.',
    rejected: "request_rejected",
    runtime: "undefined",
  });

  // A consumer file type-checks against the shipped declarations, and a wrong use does not.
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, lib: ["ES2022", "DOM"] }, files: ["consumer.ts"] }),
  );
  const consumer = `import { createRotatingClient, RotationError, type AttemptEvent, type RotationErrorKind } from "llm-key-proxy";
const client = createRotatingClient({ providers: { gemini: { keys: ["AIza"] } }, onAttempt: (event: AttemptEvent) => void event.masked });
export async function ask(): Promise<string> {
  try {
    const completion = await client.chat({ model: "gemini/gemini-2.5-flash", messages: [{ role: "user", content: "hi" }] });
    for await (const chunk of await client.chat({ model: "gemini/gemini-2.5-flash", messages: [], stream: true })) void chunk;
    return String(completion.choices.length);
  } catch (error) {
    if (error instanceof RotationError) { const kind: RotationErrorKind = error.kind; return kind; }
    throw error;
  }
}
`;
  const tsc = [node, join(ROOT, "node_modules/typescript/bin/tsc"), "-p", project];
  writeFileSync(join(project, "consumer.ts"), consumer);
  await run(tsc, project);
  writeFileSync(join(project, "consumer.ts"), `${consumer}export const wrong: number = createRotatingClient;\n`);
  await expect(run(tsc, project)).rejects.toThrow("is not assignable to type 'number'");
}, 120_000);
