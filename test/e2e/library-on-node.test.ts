/**
 * The library as users get it: `npm pack` (its prepack builds lib/), the tarball installed into a
 * fresh project with plain npm, then a plain `node` program (not Bun) imports "llm-key-proxy" and
 * uses it against the mock upstream — rotation past a rate-limited key, a stream, embeddings, the
 * Messages and Responses dialects, a RotationError of kind all_keys_failed, the clear error a Node
 * caller gets when asking for Bun's SQLite state — and `tsc` checks a consumer file against the
 * shipped declarations. The same installed package then runs under Bun with the SQLite state.
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

test("packed, installed with npm, run by node (rotation, a stream, embeddings, Messages, Responses, all_keys_failed) and by Bun (SQLite state), and the types", async () => {
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
  for (const key of ["sk-node-down-cccc3333", "sk-node-down-dddd4444"]) mock.script(key, { kind: "server_error", status: 503 });
  const program = join(project, "use.mjs");
  writeFileSync(
    program,
    `import { createRotatingClient, RotationError } from "llm-key-proxy";
const seen = [];
const client = createRotatingClient({
  providers: {
    mine: { keys: ["sk-node-key-aaaa1111", "sk-node-key-bbbb2222"], baseUrl: ${JSON.stringify(mock.url)} },
    down: { keys: ["sk-node-down-cccc3333", "sk-node-down-dddd4444"], baseUrl: ${JSON.stringify(mock.url)} },
  },
  onAttempt: (event) => seen.push(event.outcome),
});
const completion = await client.chat({ model: "mine/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
let streamed = "";
for await (const chunk of await client.chat({ model: "mine/gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true })) {
  streamed += chunk.choices?.[0]?.delta?.content ?? "";
}
const vectors = await client.embeddings({ model: "mine/text-embedding-3-small", input: ["a", "b"] });
const message = await client.messages({ model: "mine/gpt-4o-mini", max_tokens: 32, messages: [{ role: "user", content: "hi" }] });
let responseEvents = 0;
let responseText = "";
for await (const event of await client.responses({ model: "mine/gpt-4o-mini", input: "hi", stream: true })) {
  responseEvents += 1;
  if (event.type === "response.output_text.delta") responseText += event.delta;
}
const failed = await client.chat({ model: "down/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }).catch((error) => error);
let sqlite = "";
try { createRotatingClient({ providers: {}, state: { kind: "sqlite", path: "x.db" } }); } catch (error) { sqlite = error.message; }
const rejected = await client.chat({ model: "nowhere/x", messages: [] }).catch((error) => error);
await client.close();
console.log(JSON.stringify({
  answer: completion.choices[0].message.content,
  streamed,
  vectors: vectors.data.length,
  message: message.content[0].text,
  responseText,
  responseEvents: responseEvents > 3,
  failed: failed instanceof RotationError && [failed.kind, failed.status, failed.trace.length],
  seen: seen.slice(0, 3),
  sqlite,
  rejected: rejected instanceof RotationError && rejected.kind,
  runtime: typeof Bun,
}));
`,
  );
  const out = await run([node, program], project);
  expect(JSON.parse(out)).toEqual({
    answer: DEFAULT_CONTENT,
    streamed: DEFAULT_CONTENT,
    vectors: 2,
    message: DEFAULT_CONTENT,
    responseText: DEFAULT_CONTENT,
    responseEvents: true,
    failed: ["all_keys_failed", 502, 3],
    seen: ["rate_limit", "ok", "ok"],
    sqlite: 'createRotatingClient: state { kind: "sqlite" } needs Bun (bun:sqlite); on Node use { kind: "memory" }.',
    rejected: "request_rejected",
    runtime: "undefined",
  });

  // The same tarball under Bun, where the SQLite state is there: a cooldown outlives its client.
  mock.script("sk-bun-key-aaaa1111", { kind: "rate_limit", retryAfterSeconds: 60 });
  const bunProgram = join(project, "use-bun.mjs");
  writeFileSync(
    bunProgram,
    `import { createRotatingClient } from "llm-key-proxy";
const options = { providers: { mine: { keys: ["sk-bun-key-aaaa1111", "sk-bun-key-bbbb2222"], baseUrl: ${JSON.stringify(mock.url)} } }, state: { kind: "sqlite", path: "state/usage.db" } };
const first = createRotatingClient(options);
const message = await first.messages({ model: "mine/gpt-4o-mini", max_tokens: 32, messages: [{ role: "user", content: "hi" }] });
await first.close();
const second = createRotatingClient(options);
const standing = second.stats().mine;
await second.close();
console.log(JSON.stringify({ message: message.content[0].text, cooling: standing.cooling, healthy: standing.healthy, runtime: typeof Bun }));
`,
  );
  expect(JSON.parse(await run([process.execPath, bunProgram], project))).toEqual({ message: DEFAULT_CONTENT, cooling: 1, healthy: 1, runtime: "object" });

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
    const message = await client.messages({ model: "gemini/gemini-2.5-flash", max_tokens: 64, messages: [{ role: "user", content: "hi" }] });
    for await (const event of await client.messages({ model: "gemini/gemini-2.5-flash", max_tokens: 64, messages: [], stream: true })) void event.type;
    const response = await client.responses({ model: "gemini/gemini-2.5-flash", input: "hi" });
    for await (const event of await client.responses({ model: "gemini/gemini-2.5-flash", input: "hi", stream: true })) void event.type;
    return String(completion.choices.length) + message.stop_reason + response.status;
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
