/**
 * The library under Node (not Bun): its entry bundled for Node, then a plain `node` program uses
 * it against the mock upstream — rotation past a rate-limited key, a stream, and the clear error a
 * Node caller gets when asking for Bun's SQLite state. (Packing the npm tarball is a later step of
 * the library issue; this proves the module graph already runs there.)
 */

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startMockUpstream, DEFAULT_CONTENT, type MockUpstream } from "../support/mock-upstream.ts";

const ROOT = resolve(import.meta.dir, "../..");
let mock: MockUpstream | undefined;
afterAll(async () => {
  await mock?.stop();
});

test("a node program rotates past a rate-limited key and streams through the bundled library", async () => {
  const node = Bun.which("node");
  if (node === null) throw new Error("node is not on PATH: this test runs the library under Node (CI has Node 20).");
  const dir = mkdtempSync(join(tmpdir(), "lkp-node-"));
  const bundle = join(dir, "llm-key-proxy.mjs");
  const built = await Bun.build({ entrypoints: [join(ROOT, "src/library/index.ts")], target: "node", format: "esm" });
  expect(built.success).toBe(true);
  writeFileSync(bundle, await built.outputs[0]!.text());

  mock = await startMockUpstream();
  mock.script("sk-node-key-aaaa1111", { kind: "rate_limit", retryAfterSeconds: 30 });
  const program = join(dir, "use.mjs");
  writeFileSync(
    program,
    `import { createRotatingClient, RotationError } from ${JSON.stringify(bundle)};
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
  const proc = Bun.spawn([node, program], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(JSON.parse(out)).toEqual({
    answer: DEFAULT_CONTENT,
    streamed: DEFAULT_CONTENT,
    seen: ["rate_limit", "ok", "ok"],
    sqlite: 'createRotatingClient: state { kind: "sqlite" } needs Bun (bun:sqlite); on Node use { kind: "memory" }.',
    rejected: "request_rejected",
    runtime: "undefined",
  });
}, 30_000);
