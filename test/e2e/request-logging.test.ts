/**
 * `REQUEST_LOGGING=true` end to end: one folder per request with request.json,
 * streaming_chunks.jsonl (streams), final_response.json and metadata.json holding the decision
 * trace — and not one configured secret anywhere under the logs folder.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";

const KEYS = ["sk-logging-key-first-1111", "sk-logging-key-second-2222"];
let mock: MockUpstream;
let proxy: ProxyHarness;

beforeAll(async () => {
  mock = await startMockUpstream();
  proxy = await startProxy({ env: { OPENAI_API_KEY_1: KEYS[0]!, OPENAI_API_KEY_2: KEYS[1]!, OPENAI_API_BASE: mock.url, OPENAI_RESPONSES: "translate", REQUEST_LOGGING: "true" } });
});
afterAll(async () => {
  await proxy.stop();
  await mock.stop();
});

const detailedDir = () => join(proxy.settings.logDir, "detailed_logs");

function folderOf(requestId: string): string {
  const name = readdirSync(detailedDir()).find((entry) => entry.endsWith(`_${requestId}`));
  if (!name) throw new Error(`no log folder for ${requestId}`);
  expect(name).toMatch(/^\d{8}_\d{6}_req_/);
  return join(detailedDir(), name);
}

const readJson = (folder: string, file: string) => JSON.parse(readFileSync(join(folder, file), "utf8"));

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allFiles(path) : [path];
  });
}

async function settle(): Promise<void> {
  await Bun.sleep(300);
  await proxy.ctx.requestLog.flush();
}

test("a non-stream request rotated past a 429 is logged with its trace", async () => {
  mock.script(KEYS[0]!, { kind: "rate_limit", retryAfterSeconds: 60 });
  const response = await proxy.request("/v1/chat/completions", {
    method: "POST",
    headers: { "x-api-key": proxy.proxyKey },
    body: JSON.stringify({ model: "openai/gpt-4o", messages: [{ role: "user", content: "hello log" }] }),
  });
  expect(response.status).toBe(200);
  await settle();
  const folder = folderOf(response.headers.get("x-request-id")!);
  const request = readJson(folder, "request.json");
  expect(request.body.messages[0].content).toBe("hello log");
  expect(request.headers.authorization).toBe("[redacted]");
  expect(readJson(folder, "final_response.json").choices[0].message.content).toContain("mock");
  const metadata = readJson(folder, "metadata.json");
  expect(metadata).toMatchObject({ status: 200, provider: "openai", model: "gpt-4o", streamed: false });
  expect(metadata.usage).toMatchObject({ promptTokens: 10, completionTokens: 5 });
  expect(metadata.attempts.map((step: any) => [step.masked, step.outcome])).toEqual([["…1111", "rate_limit"], ["…2222", "ok"]]);
  expect(metadata.attempts[0].action).toContain("cooling until");
  expect(metadata.skipped).toEqual([expect.objectContaining({ key: "…1111", why: "cooling" })]);
  expect(typeof metadata.timings.totalMs).toBe("number");
});

test("a stream is logged chunk by chunk and assembled", async () => {
  mock.reset();
  const response = await proxy.request("/v1/chat/completions", {
    method: "POST",
    body: JSON.stringify({ model: "openai/gpt-4o-mini", stream: true, messages: [{ role: "user", content: "stream log" }] }),
  });
  const text = await response.text();
  expect(text).toContain("[DONE]");
  await settle();
  const folder = folderOf(response.headers.get("x-request-id")!);
  const lines = readFileSync(join(folder, "streaming_chunks.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line));
  expect(lines.length).toBeGreaterThanOrEqual(3);
  expect(typeof lines[0].t).toBe("number");
  const final = readJson(folder, "final_response.json");
  expect(JSON.stringify(final)).toContain("Hello from the mock upstream!");
  const metadata = readJson(folder, "metadata.json");
  expect(metadata).toMatchObject({ status: 200, streamed: true, model: "gpt-4o-mini" });
  expect(metadata.timings.firstByteMs).toBeGreaterThanOrEqual(0);
});

test("every route that reaches the keys is logged, with no list of routes to keep; a request refused before any key is not", async () => {
  const post = (path: string, body: string) => proxy.request(path, { method: "POST", headers: { "x-api-key": proxy.proxyKey, "content-type": "application/json" }, body });
  const messages = await post("/v1/messages", JSON.stringify({ model: "openai/gpt-4o", max_tokens: 16, messages: [{ role: "user", content: "logged as messages" }] }));
  const responses = await post("/v1/responses", JSON.stringify({ model: "openai/gpt-4o", input: "logged as responses", store: false }));
  const gemini = await post("/v1beta/models/openai/gpt-4o:generateContent", JSON.stringify({ contents: [{ role: "user", parts: [{ text: "logged as gemini" }] }] }));
  const refused = await post("/v1/chat/completions", "{not json");
  expect([messages.status, responses.status, gemini.status, refused.status]).toEqual([200, 200, 200, 400]);
  await settle();
  for (const [response, route] of [[messages, "/v1/messages"], [responses, "/v1/responses"], [gemini, "/v1beta/models/openai/gpt-4o:generateContent"]] as const) {
    const metadata = readJson(folderOf(response.headers.get("x-request-id")!), "metadata.json");
    expect(metadata).toMatchObject({ route, status: 200, provider: "openai", model: "gpt-4o" });
  }
  expect(() => folderOf(refused.headers.get("x-request-id")!)).toThrow("no log folder");
});

test("no configured secret appears anywhere under the logs folder", async () => {
  await settle();
  const files = allFiles(proxy.settings.logDir);
  expect(files.length).toBeGreaterThan(4);
  for (const file of files) {
    const content = readFileSync(file, "utf8");
    for (const secret of [...KEYS, proxy.proxyKey]) expect(content.includes(secret)).toBe(false);
  }
});
