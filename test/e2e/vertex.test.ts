/**
 * Google Vertex AI end to end: the real proxy in front of the Vertex mock (test/support/
 * mock-vertex.ts: a token endpoint that verifies every signed assertion, Vertex's URLs and body
 * rules, with the Gemini and Anthropic mocks behind it), called with the real `openai` client.
 *
 * - service-account key files: a JWT exchanged once for a token that later calls reuse; the key's
 *   project (its own by default) and location in the URL; express-mode API keys without a project;
 * - Gemini on Vertex: chat, stream with usage, tool calls, the native Gemini front, token counts in
 *   Vertex's flat form, embeddings through `:predict`;
 * - Claude on Vertex: `:rawPredict` / `:streamRawPredict` with `anthropic_version` in the body and
 *   the model in the URL, tool use, the Messages API passed through, `count-tokens`;
 * - signals: RESOURCE_EXHAUSTED cools the model on every key of that project (and location) and the
 *   request moves to another project; 401 / 403 and a refused token disable the key; 503 and a
 *   token endpoint that is down rotate without blame;
 * - the private key, the access tokens and the API key show nowhere.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type OpenAI from "openai";
import type { KeyStanding } from "../../src/engine/types.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { maskKey } from "../../src/key-identity.ts";
import { DEFAULT_TEXT as GEMINI_TEXT } from "../support/mock-gemini.ts";
import { DEFAULT_TEXT as CLAUDE_TEXT } from "../support/mock-anthropic.ts";
import { providerStanding } from "../support/key-standing.ts";
import { startMockVertex, type MockVertex, type RecordedVertexCall } from "../support/mock-vertex.ts";
import type { TestServiceAccount } from "../support/service-accounts.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { contentPieces, FAST_ENV, stopRigAfterEach } from "./rig-helpers.ts";

const FLASH = "gemini-2.5-flash";
const CLAUDE = "claude-sonnet-4-5@20250929";
const EXPRESS_KEY = "AQ.Ab8RN6Lmock-express-key-000000000000001";
const MESSAGES = [{ role: "user" as const, content: "What is the capital of France?" }];
const WEATHER_TOOL = {
  type: "function" as const,
  function: { name: "weather", description: "Weather at a place", parameters: { type: "object", properties: { location: { type: "string" } }, required: ["location"] } },
};

let vertex: MockVertex;
let dir: string;
/** alpha and beta share project proj-a; gamma is proj-b's. */
let alpha: TestServiceAccount;
let beta: TestServiceAccount;
let gamma: TestServiceAccount;
const files: Record<string, string> = {};

beforeAll(async () => {
  vertex = await startMockVertex();
  vertex.addApiKey(EXPRESS_KEY);
  dir = mkdtempSync(join(tmpdir(), "lkp-vertex-"));
  alpha = await vertex.createAccount("alpha", "proj-a");
  beta = await vertex.createAccount("beta", "proj-a");
  gamma = await vertex.createAccount("gamma", "proj-b");
  for (const account of [alpha, beta, gamma]) {
    files[account.email] = join(dir, `${account.email.split("@")[0]}.json`);
    writeFileSync(files[account.email]!, account.json, { mode: 0o600 });
  }
});

afterAll(async () => {
  await vertex.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Rig {
  proxy: ProxyHarness;
  client: OpenAI;
  lines: string[];
}

const keep = stopRigAfterEach<Rig>(() => []);

/** The proxy with these keys (file paths or API keys) in order, all at the mock, location us-central1 unless `env` says otherwise. */
async function start(keys: string[], env: Record<string, string> = {}): Promise<Rig> {
  vertex.reset();
  const lines: string[] = [];
  const proxy = await startProxy({
    env: { ...FAST_ENV, VERTEX_API_BASE: vertex.url, VERTEX_LOCATION: "us-central1", ...Object.fromEntries(keys.map((key, i) => [`VERTEX_API_KEY_${i + 1}`, key])), ...env },
    log: createLogger({ level: "debug", color: false, write: (line) => lines.push(line) }),
  });
  return keep({ proxy, client: proxy.openai({ timeoutMs: 10_000 }), lines });
}

const modelCalls = (): RecordedVertexCall[] => vertex.calls;
const identities = (): string[] => modelCalls().map((call) => call.identity);

function standingOf(proxy: ProxyHarness, shownAs: string): KeyStanding {
  const found = providerStanding(proxy, "vertex").keys.filter((key) => key.masked.startsWith(shownAs));
  expect(found).toHaveLength(1);
  return found[0]!;
}

const coolingFor = (standing: KeyStanding, model: string) => standing.coolingModels.find((cooling) => cooling.model === model);

describe("service-account keys and express-mode keys", () => {
  test("a key file: one verified token exchange, then Gemini at the key's project and location with the token; later calls reuse the token", async () => {
    const { client, proxy } = await start([files[alpha.email]!]);
    const first = await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });
    expect(first.choices[0]!.message.content).toBe(GEMINI_TEXT);
    await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });

    expect(vertex.tokenExchanges).toEqual([{ email: alpha.email, granted: true, scope: "https://www.googleapis.com/auth/cloud-platform" }]);
    expect(modelCalls()).toHaveLength(2);
    for (const call of modelCalls()) {
      expect(call).toMatchObject({ identity: alpha.email, auth: "token", project: "proj-a", location: "us-central1", publisher: "google", model: FLASH, method: "generateContent" });
      expect(call.headers["x-goog-api-key"]).toBeUndefined();
    }
    expect(modelCalls()[0]!.headers.authorization).toBe(modelCalls()[1]!.headers.authorization);
    // The key is shown by its service account, never by the end of its JSON.
    expect(standingOf(proxy, alpha.email).masked).toBe(`${alpha.email} (us-central1)`);
  });

  test("VERTEX_PROJECT_<N> and VERTEX_LOCATION_<N> override the account's project and the shared location for that key", async () => {
    const { client } = await start([files[alpha.email]!], { VERTEX_PROJECT_1: "billing-project", VERTEX_LOCATION_1: "europe-west4" });
    await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });
    expect(modelCalls()[0]).toMatchObject({ project: "billing-project", location: "europe-west4" });
  });

  test("an express-mode API key calls the project-less path with x-goog-api-key", async () => {
    const { client } = await start([EXPRESS_KEY]);
    const completion = await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(GEMINI_TEXT);
    const [call] = modelCalls();
    expect(call).toMatchObject({ identity: EXPRESS_KEY, auth: "api_key", publisher: "google", model: FLASH });
    expect(call!.project).toBeUndefined();
    expect(call!.headers["x-goog-api-key"]).toBe(EXPRESS_KEY);
    expect(vertex.tokenExchanges).toHaveLength(0);
  });

  test("a Claude model with an express-mode key alone is a 400 that says to set VERTEX_PROJECT; nothing is sent", async () => {
    const { proxy } = await start([EXPRESS_KEY]);
    const response = await proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: `vertex/${CLAUDE}`, messages: MESSAGES }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error.message).toContain("VERTEX_PROJECT");
    expect(modelCalls()).toHaveLength(0);
  });

  test("a key file that does not exist stops the start with the variable and the path named", async () => {
    const missing = join(dir, "nope.json");
    await expect(startProxy({ env: { ...FAST_ENV, VERTEX_API_KEY_1: missing } })).rejects.toThrow(`VERTEX_API_KEY_1 names the key file ${missing}, which cannot be read (ENOENT).`);
  });
});

describe("Gemini on Vertex", () => {
  test("stream: the text in pieces, one finish, and the usage chunk the client asked for", async () => {
    const { client } = await start([files[alpha.email]!]);
    const stream = await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(contentPieces(chunks).join("")).toBe(GEMINI_TEXT);
    expect(chunks.filter((chunk) => chunk.choices[0]?.finish_reason === "stop")).toHaveLength(1);
    expect(chunks.at(-1)!.usage?.total_tokens).toBeGreaterThan(0);
    expect(modelCalls()[0]).toMatchObject({ method: "streamGenerateContent", query: "?alt=sse" });
  });

  test("a tool call comes back as tool_calls, and the tool reached Vertex as a function declaration", async () => {
    const { client } = await start([files[alpha.email]!]);
    vertex.gemini.script(alpha.email, { kind: "tool_call" });
    const completion = await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES, tools: [WEATHER_TOOL] });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const call = choice.message.tool_calls![0]! as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe("weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ location: "San Francisco" });
    expect(modelCalls()[0]!.body.tools[0].functionDeclarations[0].name).toBe("weather");
  });

  test("the Gemini-native front passes a request through to the same method on Vertex", async () => {
    const { proxy } = await start([files[alpha.email]!]);
    const body = { contents: [{ role: "user", parts: [{ text: "Hi" }] }] };
    const response = await proxy.request(`/v1beta/models/vertex/${FLASH}:generateContent`, { method: "POST", body: JSON.stringify(body) });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as any;
    expect(answer.candidates[0].content.parts[0].text).toBe(GEMINI_TEXT);
    expect(modelCalls()[0]).toMatchObject({ method: "generateContent", body });
  });

  test("token counting asks Vertex's countTokens with the contents at the top, as Vertex takes them", async () => {
    const { proxy } = await start([files[alpha.email]!]);
    const response = await proxy.request("/v1/messages/count_tokens", { method: "POST", body: JSON.stringify({ model: `vertex/${FLASH}`, messages: MESSAGES }) });
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).input_tokens).toBeGreaterThan(0);
    const [call] = modelCalls();
    expect(call).toMatchObject({ method: "countTokens" });
    expect(call!.answeredByFront).toBeUndefined();
    expect(call!.body.contents[0].role).toBe("user");
  });

  test("embeddings go through :predict; usage is Vertex's own token count; gemini-embedding takes one text per call", async () => {
    const { client } = await start([files[alpha.email]!]);
    const inputs = ["alpha", "beta gamma", "delta epsilon zeta"];
    const list = await client.embeddings.create({ model: "vertex/text-embedding-005", input: inputs, dimensions: 64 });
    expect(list.data.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(list.data.every((item) => item.embedding.length === 64)).toBe(true);
    expect(list.data[0]!.embedding).not.toEqual(list.data[1]!.embedding);
    const [call] = modelCalls();
    expect(call).toMatchObject({ method: "predict", model: "text-embedding-005" });
    expect(call!.body).toEqual({ instances: inputs.map((content) => ({ content })), parameters: { outputDimensionality: 64 } });
    expect(list.usage.prompt_tokens).toBeGreaterThan(0);

    vertex.reset();
    const single = await client.embeddings.create({ model: "vertex/gemini-embedding-001", input: ["one", "two"] });
    expect(single.data).toHaveLength(2);
    expect(modelCalls().map((c) => c.body.instances.length)).toEqual([1, 1]);
  });

  test("/v1/models lists Vertex's Google and Anthropic models", async () => {
    const { proxy } = await start([files[alpha.email]!]);
    const ids = ((await (await proxy.request("/v1/models")).json()) as any).data.map((model: any) => model.id);
    expect(ids).toContain(`vertex/${FLASH}`);
    expect(ids).toContain("vertex/claude-sonnet-4-5");
  });
});

describe("Claude on Vertex", () => {
  test("non-stream: rawPredict on the anthropic publisher, model in the URL, anthropic_version in the body", async () => {
    const { client } = await start([files[alpha.email]!]);
    const completion = await client.chat.completions.create({ model: `vertex/${CLAUDE}`, messages: MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(CLAUDE_TEXT);
    const [call] = modelCalls();
    expect(call).toMatchObject({ publisher: "anthropic", model: CLAUDE, method: "rawPredict", project: "proj-a" });
    expect(call!.answeredByFront).toBeUndefined();
    expect(call!.body.anthropic_version).toBe("vertex-2023-10-16");
    expect(call!.body.model).toBeUndefined();
    expect(vertex.anthropic.calls[0]!.body.model).toBe(CLAUDE);
  });

  test("stream: streamRawPredict, the text in pieces and one finish", async () => {
    const { client } = await start([files[alpha.email]!]);
    const stream = await client.chat.completions.create({ model: `vertex/${CLAUDE}`, messages: MESSAGES, stream: true });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(contentPieces(chunks).join("")).toBe(CLAUDE_TEXT);
    expect(chunks.filter((chunk) => chunk.choices[0]?.finish_reason === "stop")).toHaveLength(1);
    expect(modelCalls()[0]).toMatchObject({ method: "streamRawPredict" });
  });

  test("tool use comes back as tool_calls", async () => {
    const { client } = await start([files[alpha.email]!]);
    vertex.anthropic.script(alpha.email, { kind: "tool_use" });
    const completion = await client.chat.completions.create({ model: `vertex/${CLAUDE}`, messages: MESSAGES, tools: [WEATHER_TOOL] });
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
    expect(completion.choices[0]!.message.tool_calls).toHaveLength(1);
    expect(modelCalls()[0]!.body.tools[0].name).toBe("weather");
  });

  test("the Messages API passes through (stream and count_tokens) with Vertex's body rules", async () => {
    const { proxy } = await start([files[alpha.email]!]);
    const body = { model: `vertex/${CLAUDE}`, max_tokens: 64, messages: MESSAGES };
    const message = (await (await proxy.request("/v1/messages", { method: "POST", body: JSON.stringify(body) })).json()) as any;
    expect(message.content[0].text).toBe(CLAUDE_TEXT);
    expect(message.type).toBe("message");

    const streamed = await proxy.request("/v1/messages", { method: "POST", body: JSON.stringify({ ...body, stream: true }) });
    const text = await streamed.text();
    expect(text).toContain("event: message_stop");

    const count = await proxy.request("/v1/messages/count_tokens", { method: "POST", body: JSON.stringify({ model: `vertex/${CLAUDE}`, messages: MESSAGES }) });
    expect(((await count.json()) as any).input_tokens).toBeGreaterThan(0);
    expect(modelCalls().map((call) => [call.model, call.method, call.answeredByFront])).toEqual([
      [CLAUDE, "rawPredict", undefined],
      [CLAUDE, "streamRawPredict", undefined],
      ["count-tokens", "rawPredict", undefined],
    ]);
    expect(modelCalls()[2]!.body.model).toBe(CLAUDE);
  });
});

describe("Vertex's signals and what the pool does", () => {
  test("RESOURCE_EXHAUSTED on one key cools the model on every key of its project; the request moves to the other project", async () => {
    const { client, proxy } = await start([files[alpha.email]!, files[beta.email]!, files[gamma.email]!]);
    vertex.fail(alpha.email, "quota");
    const completion = await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(GEMINI_TEXT);
    // beta shares alpha's project: it is not tried, it is cooling with it.
    expect(identities()).toEqual([alpha.email, gamma.email]);
    const [a, b, c] = [standingOf(proxy, alpha.email), standingOf(proxy, beta.email), standingOf(proxy, gamma.email)];
    expect(coolingFor(a, FLASH)).toBeDefined();
    expect(coolingFor(b, FLASH)?.until).toBe(coolingFor(a, FLASH)!.until);
    expect(coolingFor(b, FLASH)?.reason).toContain("sharing its quota");
    expect(coolingFor(c, FLASH)).toBeUndefined();
    // Another model of the same project is not touched.
    expect(coolingFor(b, "gemini-2.5-pro")).toBeUndefined();

    vertex.reset();
    await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });
    expect(identities()).toEqual([gamma.email]);
  });

  test("on a Claude model too: Vertex's quota refusal cools the project's keys for Claude, and Claude's own overload (529) rotates without blame", async () => {
    const { client, proxy } = await start([files[alpha.email]!, files[beta.email]!, files[gamma.email]!]);
    vertex.fail(alpha.email, "quota");
    const first = await client.chat.completions.create({ model: `vertex/${CLAUDE}`, messages: MESSAGES });
    expect(first.choices[0]!.message.content).toBe(CLAUDE_TEXT);
    expect(identities()).toEqual([alpha.email, gamma.email]);
    expect(coolingFor(standingOf(proxy, beta.email), CLAUDE)).toBeDefined();

    vertex.reset();
    vertex.anthropic.script(gamma.email, [{ kind: "overloaded" }, { kind: "text" }]);
    const second = await client.chat.completions.create({ model: `vertex/${CLAUDE}`, messages: MESSAGES });
    expect(second.choices[0]!.message.content).toBe(CLAUDE_TEXT);
    // gamma was the only key not cooling: the overload is retried on it, and it stays unblamed.
    expect(identities()).toEqual([gamma.email, gamma.email]);
    expect(standingOf(proxy, gamma.email).disabledUntil).toBe(0);
    expect(coolingFor(standingOf(proxy, gamma.email), CLAUDE)).toBeUndefined();
  });

  test("keys of one project in two locations draw on two quotas: only the location that refused cools", async () => {
    const { client, proxy } = await start([files[alpha.email]!, files[beta.email]!], { VERTEX_LOCATION_2: "europe-west4" });
    vertex.fail(alpha.email, "dynamic_quota");
    await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });
    expect(identities()).toEqual([alpha.email, beta.email]);
    expect(coolingFor(standingOf(proxy, beta.email), FLASH)).toBeUndefined();
  });

  test("401 UNAUTHENTICATED and 403 PERMISSION_DENIED disable the key; the next key answers", async () => {
    for (const failure of ["unauthenticated", "permission_denied"] as const) {
      const { client, proxy } = await start([files[alpha.email]!, files[gamma.email]!]);
      vertex.fail(alpha.email, failure);
      const completion = await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });
      expect(completion.choices[0]!.message.content).toBe(GEMINI_TEXT);
      expect(identities()).toEqual([alpha.email, gamma.email]);
      expect(standingOf(proxy, alpha.email).disabledUntil).toBeGreaterThan(Date.now());
      await proxy.stop();
    }
  });

  test("503 UNAVAILABLE rotates without blaming the key", async () => {
    const { client, proxy } = await start([files[alpha.email]!, files[gamma.email]!]);
    vertex.fail(alpha.email, "unavailable");
    await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });
    expect(identities()).toEqual([alpha.email, gamma.email]);
    const a = standingOf(proxy, alpha.email);
    expect(a.disabledUntil).toBe(0);
    expect(a.coolingModels).toHaveLength(0);
  });

  test("a token the identity provider refuses disables that key with the account named; the other key serves", async () => {
    const { client, proxy } = await start([files[alpha.email]!, files[gamma.email]!]);
    vertex.refuseTokens(alpha.email, "invalid_grant");
    const completion = await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(GEMINI_TEXT);
    expect(identities()).toEqual([gamma.email]);
    const a = standingOf(proxy, alpha.email);
    expect(a.disabledUntil).toBeGreaterThan(Date.now());
    expect(a.disabledReason).toContain("key rejected as invalid");
  });

  test("a token endpoint that is down rotates without disabling the key", async () => {
    const { client, proxy } = await start([files[alpha.email]!, files[gamma.email]!]);
    vertex.refuseTokens(alpha.email, "unavailable");
    await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });
    expect(identities()).toEqual([gamma.email]);
    expect(standingOf(proxy, alpha.email).disabledUntil).toBe(0);
  });
});

describe("secrets", () => {
  test("the private key, the access tokens and the API key appear in no stats, provider list, log line or error body", async () => {
    const { client, proxy, lines } = await start([files[alpha.email]!, EXPRESS_KEY]);
    vertex.fail(alpha.email, "permission_denied");
    await client.chat.completions.create({ model: `vertex/${FLASH}`, messages: MESSAGES });
    const failed = await proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: `vertex/${CLAUDE}`, messages: MESSAGES }) });
    const seen = [
      await failed.text(),
      await (await proxy.request("/v1/stats")).text(),
      await (await proxy.request("/v1/providers")).text(),
      await (await proxy.request("/metrics")).text(),
      ...lines,
    ].join("\n");
    const keyBody = alpha.privatePem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
    for (let at = 0; at + 40 <= keyBody.length; at += 40) expect(seen).not.toContain(keyBody.slice(at, at + 40));
    expect(seen).not.toContain(EXPRESS_KEY);
    expect(seen).not.toContain("ya29.");
    expect(seen).toContain(maskKey(EXPRESS_KEY));
  });
});
