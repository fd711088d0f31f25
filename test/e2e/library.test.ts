/**
 * The library face, used as a program would use it: `createRotatingClient` over the scripted mock
 * upstreams, no server anywhere. It must behave as the proxy does, because it is the same engine:
 * rotation past a rate-limited key with the decision trace as events, streams as async iterables,
 * embeddings, translation to another wire family, and one RotationError with a kind to branch on.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRotatingClient, providersFromEnv, RotationError, type AttemptEvent, type RotatingClient } from "../../src/library/index.ts";
import { DEFAULT_TEXT, startMockGemini, type MockGemini } from "../support/mock-gemini.ts";
import { DEFAULT_CONTENT, startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";

const KEY_A = "sk-library-key-aaaa1111";
const KEY_B = "sk-library-key-bbbb2222";
const MESSAGES = [{ role: "user" as const, content: "Say hello." }];

const running: { mock?: MockUpstream; gemini?: MockGemini; client?: RotatingClient }[] = [];
afterEach(async () => {
  for (const { mock, gemini, client } of running.splice(0)) {
    await client?.close();
    await mock?.stop();
    await gemini?.stop();
  }
});

async function openaiClient(extra: { onAttempt?: (event: AttemptEvent) => void; globalTimeoutMs?: number } = {}) {
  const mock = await startMockUpstream();
  const client = createRotatingClient({ providers: { mine: { keys: [KEY_A, KEY_B], baseUrl: mock.url } }, ...extra });
  running.push({ mock, client });
  return { mock, client };
}

describe("createRotatingClient", () => {
  test("a rate-limited key is rotated past, cooled, and the decision trace arrives as events", async () => {
    const events: AttemptEvent[] = [];
    const { mock, client } = await openaiClient({ onAttempt: (event) => events.push(event) });
    mock.script(KEY_A, { kind: "rate_limit", retryAfterSeconds: 30 });

    const completion = await client.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES });
    expect((completion.choices[0] as { message: { content: string } }).message.content).toBe(DEFAULT_CONTENT);
    expect(mock.calls.map((call) => call.key)).toEqual([KEY_A, KEY_B]);
    expect(events.map(({ attempt, masked, outcome, status }) => [attempt, masked, outcome, status])).toEqual([
      [1, "…1111", "rate_limit", 429],
      [2, "…2222", "ok", 200],
    ]);
    expect(events[0]!.action).toMatch(/^cooling until /);
    expect(events.map((event) => event.class)).toEqual(["rate_limit", undefined]);
    expect(JSON.stringify(events)).not.toContain(KEY_A);

    const stats = client.stats().mine!;
    expect(stats).toMatchObject({ healthy: 1, cooling: 1 });
    expect(stats.keys[1]!.usage).toMatchObject({ requests: 1, successes: 1, promptTokens: 10, completionTokens: 5 });
    expect(await client.resetKeys({ provider: "mine" })).toBe(2);
    expect(client.stats().mine).toMatchObject({ healthy: 2, cooling: 0 });
  });

  test("stream: true is an async iterable of chunks, and its usage is counted", async () => {
    const { client } = await openaiClient();
    const stream = await client.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES, stream: true });
    let text = "";
    for await (const chunk of stream) text += ((chunk.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content ?? "");
    expect(text).toBe(DEFAULT_CONTENT);
    const keys = client.stats().mine!.keys;
    expect(keys.reduce((sum, key) => sum + key.usage.successes, 0)).toBe(1);
    expect(keys.every((key) => key.inFlight === 0)).toBe(true);
  });

  test("toReadableStream gives one JSON chunk per line", async () => {
    const { client } = await openaiClient();
    const stream = await client.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES, stream: true });
    const lines = (await new Response(stream.toReadableStream()).text()).trim().split("\n").map((line) => JSON.parse(line));
    expect(lines.map((chunk) => chunk.choices?.[0]?.delta?.content ?? "").join("")).toBe(DEFAULT_CONTENT);
  });

  test("embeddings go to the provider's embeddings endpoint over the same keys", async () => {
    const { mock, client } = await openaiClient();
    const result = await client.embeddings({ model: "mine/text-embedding-3-small", input: ["a", "b"] });
    expect(result.data.length).toBeGreaterThan(0);
    expect(mock.calls[0]!.path).toBe("/v1/embeddings");
  });

  test("every key failing throws one RotationError of kind all_keys_failed, with the trace and no key in it", async () => {
    const { mock, client } = await openaiClient();
    for (const key of [KEY_A, KEY_B]) mock.script(key, { kind: "server_error", status: 503 });
    const error = await client.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RotationError);
    const rotation = error as RotationError;
    expect([rotation.kind, rotation.status, rotation.code]).toEqual(["all_keys_failed", 502, "all_keys_failed"]);
    expect(rotation.trace.map((step) => step.outcome)).toEqual(["transient", "transient", "transient"]);
    expect(rotation.message).toContain("HTTP 503");
    expect(JSON.stringify({ ...rotation, message: rotation.message })).not.toContain(KEY_A);
  });

  test("a request that is the caller's fault is request_rejected before any key is used", async () => {
    const { mock, client } = await openaiClient();
    for (const [body, code] of [
      [{ model: "nowhere/x", messages: MESSAGES }, "unknown_provider"],
      [{ model: "gpt-4o", messages: MESSAGES }, "model_without_provider"],
    ] as const) {
      const error = (await client.chat(body).catch((caught: unknown) => caught)) as RotationError;
      expect([error.kind, error.code]).toEqual(["request_rejected", code]);
    }
    const bad = (await client.chat({ model: "mine/m", messages: "not a list" } as never).catch((caught: unknown) => caught)) as RotationError;
    expect([bad.kind, bad.status, bad.param]).toEqual(["request_rejected", 400, "messages"]);
    expect(mock.calls).toEqual([]);
  });

  test("a Gemini provider is spoken to in its own wire format and answers in OpenAI's", async () => {
    const gemini = await startMockGemini();
    const client = createRotatingClient({ providers: { gemini: { keys: ["AIzaSyLibraryKey000000000001"], baseUrl: gemini.url } } });
    running.push({ gemini, client });
    const completion = await client.chat({ model: "gemini/gemini-2.5-flash", messages: MESSAGES });
    expect((completion.choices[0] as { message: { content: string } }).message.content).toBe(DEFAULT_TEXT);
    expect(gemini.calls[0]!.path).toContain(":generateContent");
  });

  test("listModels gives provider/model ids from the live lists; countTokens uses the provider's count where it has one", async () => {
    const { client } = await openaiClient();
    const models = await client.listModels();
    expect(models.length).toBeGreaterThan(0);
    expect(models.every((model) => model.id.startsWith("mine/") && model.provider === "mine")).toBe(true);
    // An OpenAI-compatible host has no count endpoint: the local tokenizer's estimate, said so.
    const estimate = await client.countTokens({ model: "mine/gpt-4o-mini", messages: MESSAGES });
    expect(estimate.method).toBe("estimate");
    expect(estimate.tokens).toBeGreaterThan(3);

    const gemini = await startMockGemini();
    const counting = createRotatingClient({ providers: { gemini: { keys: ["AIzaSyLibraryKey000000000002"], baseUrl: gemini.url } } });
    running.push({ gemini, client: counting });
    const exact = await counting.countTokens({ model: "gemini/gemini-2.5-flash", messages: MESSAGES });
    expect(exact.method).toBe("provider");
    expect(gemini.calls.some((call) => call.path.endsWith(":countTokens"))).toBe(true);
    expect((await counting.listModels()).some((model) => model.id === "gemini/gemini-2.5-flash")).toBe(true);
  });

  test("an aborted call is kind aborted", async () => {
    const { mock, client } = await openaiClient();
    mock.script(KEY_A, { kind: "hang" });
    mock.script(KEY_B, { kind: "hang" });
    const leave = new AbortController();
    const pending = client.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES }, { signal: leave.signal }).catch((caught: unknown) => caught);
    setTimeout(() => leave.abort(), 50);
    expect(((await pending) as RotationError).kind).toBe("aborted");
  });

  test("SQLite state (Bun) remembers a cooldown across clients, as the proxy does across restarts", async () => {
    const mock = await startMockUpstream();
    const path = join(mkdtempSync(join(tmpdir(), "lkp-library-")), "state.db");
    const options = { providers: { mine: { keys: [KEY_A, KEY_B], baseUrl: mock.url } }, state: { kind: "sqlite" as const, path } };
    mock.script(KEY_A, { kind: "rate_limit", retryAfterSeconds: 60 });
    const first = createRotatingClient(options);
    await first.chat({ model: "mine/gpt-4o-mini", messages: MESSAGES });
    await first.close();
    const second = createRotatingClient(options);
    running.push({ mock, client: second });
    expect(second.stats().mine).toMatchObject({ cooling: 1, healthy: 1 });
    expect(second.stats().mine!.keys[1]!.usage.successes).toBe(1);
  });

  test("options are checked at once, naming the one that is wrong", () => {
    expect(() => createRotatingClient({ providers: { mine: { keys: [] } } })).toThrow("providers.mine.keys: needs at least one key");
    expect(() => createRotatingClient({ providers: { nobody: { keys: ["k"] } } })).toThrow('"nobody" is not a known provider; give its baseUrl');
    expect(() => createRotatingClient({ providers: {}, dailyResetUtc: "25:00" })).toThrow("dailyResetUtc");
  });
});

describe("providersFromEnv", () => {
  test("reads the proxy's own variables", () => {
    const providers = providersFromEnv({
      GEMINI_API_KEY_1: "AIzaSyEnvKey00000000000001",
      GEMINI_API_KEY_2: "AIzaSyEnvKey00000000000002",
      MINE_API_KEY: "k1",
      MINE_API_BASE: "http://127.0.0.1:9/v1",
      MAX_CONCURRENT_REQUESTS_PER_KEY_GEMINI: "2",
    });
    expect(providers).toEqual({
      gemini: { keys: ["AIzaSyEnvKey00000000000001", "AIzaSyEnvKey00000000000002"], maxConcurrentPerKey: 2 },
      mine: { keys: ["k1"], baseUrl: "http://127.0.0.1:9/v1" },
    });
  });
});
