/**
 * Amazon Bedrock end to end: the real proxy in front of the scripted Bedrock mock
 * (test/support/mock-bedrock.ts), called with the real `openai` client. Two keys by default: a
 * Bedrock API key (bearer) and an IAM access-key pair, which signs with SigV4 — and the mock
 * recomputes every signature, so a signed request that passes really is signed right.
 *
 * - Converse: tool calls, finish reasons, usage with cache reads; ConverseStream (binary frames cut
 *   across reads): text with a usage chunk, tool-call arguments that join to JSON, reasoning;
 * - SigV4: signatures verify for the key's region (per-key regions too); a wrong secret is a 403
 *   that disables that key;
 * - AWS error names (`x-amzn-ErrorType`) and what the pool does with each: throttling cools and
 *   rotates, validation goes back to the client as a 400, access denied / unrecognized client /
 *   expired token disable, model-not-ready / service-unavailable rotate without blame, a service
 *   quota 400 rotates; an exception frame before content rotates unseen, one after content ends the
 *   stream with an error;
 * - the model list, Titan embeddings, and that the secret access key shows nowhere.
 */

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type OpenAI from "openai";
import type { KeyStanding } from "../../src/engine/types.ts";
import { maskKey } from "../../src/key-identity.ts";
import { bedrockKeyLabel } from "../../src/providers/bedrock/bedrock-auth.ts";
import { createLogger } from "../../src/logging/logger.ts";
import { readFixtureJson } from "../support/fixtures.ts";
import { providerStanding } from "../support/key-standing.ts";
import { FIXTURE, RECORDED_REASONING, RECORDED_STREAM_TOOL, RECORDED_TEXT, RECORDED_TEXT_USAGE, awsErrorMessage, startMockBedrock, textBeforeException, vectorFor, type AwsErrorName, type MockBedrock, type RecordedBedrockCall } from "../support/mock-bedrock.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { contentPieces, errorBody, FAST_ENV, stopRigAfterEach } from "./rig-helpers.ts";
import { errorEvents, finishReasons, parseClientStream, reasoningPieces } from "./gemini-helpers.ts";

const API_KEY = "ABSKQmVkcm9ja0FQSUtleS1tb2NrLXRlc3Qta2V5LTAwMDE=";
const AKID = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const PAIR = `${AKID}:${SECRET}`;

const NOVA = "us.amazon.nova-micro-v1:0";
const CLAUDE = "anthropic.claude-3-sonnet-20240229-v1:0";
const TITAN = "amazon.titan-embed-text-v2:0";
const MESSAGES = [{ role: "user" as const, content: "What is the capital of France?" }];
const FETCH_CONCEPT_TOOL = {
  type: "function" as const,
  function: { name: "fetch_concept", description: "Explain a concept", parameters: { type: "object", properties: { concept: { type: "string" } }, required: ["concept"] } },
};

interface Rig {
  mock: MockBedrock;
  proxy: ProxyHarness;
  client: OpenAI;
  lines: string[];
}

const keep = stopRigAfterEach<Rig>((rig) => [rig.mock]);

/**
 * The mock (knowing the pair's secret) and the proxy pointed at it. By default two keys, the API
 * key first (so it is tried first), then the pair, both in us-east-1 through `BEDROCK_API_BASE`;
 * `env` (given the mock's URL) replaces that whole configuration when it is a function.
 */
async function start(options: { keys?: string[]; env?: ((mockUrl: string) => Record<string, string>) | Record<string, string>; accessKeys?: Record<string, string> } = {}): Promise<Rig> {
  const mock = await startMockBedrock({ accessKeys: options.accessKeys ?? { [AKID]: SECRET } });
  const keys = options.keys ?? [API_KEY, PAIR];
  const lines: string[] = [];
  const providerEnv =
    typeof options.env === "function"
      ? options.env(mock.url)
      : { BEDROCK_API_BASE: mock.url, BEDROCK_REGION: "us-east-1", ...Object.fromEntries(keys.map((key, i) => [`BEDROCK_API_KEY_${i + 1}`, key])), ...options.env };
  const proxy = await startProxy({ env: { ...FAST_ENV, ...providerEnv }, log: createLogger({ level: "debug", color: false, write: (line) => lines.push(line) }) });
  return keep({ mock, proxy, client: proxy.openai({ timeoutMs: 10_000 }), lines });
}

const chatCalls = (mock: MockBedrock): RecordedBedrockCall[] => mock.calls.filter((call) => call.operation === "converse" || call.operation === "converse-stream");
const keysTried = (mock: MockBedrock): string[] => chatCalls(mock).map((call) => call.key);

/** A key's standing, found by its display form (a pair shows its access key id; a key with a region has an id of its own). */
function standingOf(proxy: ProxyHarness, secret: string): KeyStanding {
  const found = providerStanding(proxy, "bedrock").keys.filter((key) => key.masked.startsWith(bedrockKeyLabel(secret) ?? maskKey(secret)));
  expect(found).toHaveLength(1);
  return found[0]!;
}

async function statsKeys(proxy: ProxyHarness): Promise<any[]> {
  const stats = (await (await proxy.request("/v1/stats")).json()) as any;
  return stats.providers.find((p: any) => p.name === "bedrock").keys;
}

function postChat(proxy: ProxyHarness, body: Record<string, unknown> = {}): Promise<Response> {
  return proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: `bedrock/${NOVA}`, messages: MESSAGES, ...body }) });
}

describe("Converse and ConverseStream through the openai client", () => {
  test("non-stream tool call: tool_calls with Bedrock's id, finish_reason tool_calls, usage; the tool reached Converse as a toolSpec", async () => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "tool_use" });
    const completion = await client.chat.completions.create({ model: `bedrock/${CLAUDE}`, messages: MESSAGES, tools: [FETCH_CONCEPT_TOOL] });
    const recorded = readFixtureJson(FIXTURE.toolUse);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBe(recorded.output.message.content[0].text);
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0]! as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    expect(call.id).toBe("tooluse_iPA5tRLlQ5qSvfeYGeQVPg");
    expect(call.function.name).toBe("fetch_concept");
    expect(JSON.parse(call.function.arguments)).toEqual({ concept: "distributed tracing" });
    expect(completion.usage).toMatchObject({ prompt_tokens: 269, completion_tokens: 77, total_tokens: 346 });

    const [sent] = chatCalls(mock);
    expect(sent!.path).toBe(`/model/${encodeURIComponent(CLAUDE)}/converse`);
    expect(sent!.body.toolConfig.tools[0].toolSpec.name).toBe("fetch_concept");
    expect(sent!.body.messages[0]).toEqual({ role: "user", content: [{ text: MESSAGES[0]!.content }] });
  });

  test("non-stream cache read: prompt_tokens counts the cache hits, cached_tokens says how many", async () => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "cache_read" });
    const completion = await client.chat.completions.create({ model: `bedrock/${NOVA}`, messages: MESSAGES });
    expect(completion.choices[0]!.message.content).toBe("21");
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.usage).toMatchObject({ prompt_tokens: 2 + 1322, completion_tokens: 5, total_tokens: 1329, prompt_tokens_details: { cached_tokens: 1322 } });

    // The recorded content_filtered stop: OpenAI's content_filter, with the filter's text.
    mock.setDefault({ kind: "content_filtered" });
    const filtered = await client.chat.completions.create({ model: `bedrock/${NOVA}`, messages: MESSAGES });
    expect(filtered.choices[0]!.finish_reason).toBe("content_filter");
    expect(filtered.choices[0]!.message.content).toBe(readFixtureJson(FIXTURE.contentFiltered).output.message.content[0].text);
  });

  test("stream text: the recorded text arrives whole, then a usage chunk when include_usage asks for it", async () => {
    const { mock, proxy, client } = await start();
    const stream = await client.chat.completions.create({ model: `bedrock/${NOVA}`, messages: MESSAGES, stream: true, stream_options: { include_usage: true } });
    let text = "";
    const finishes: string[] = [];
    const usages: unknown[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usages.push(chunk.usage);
    }
    expect(text).toBe(RECORDED_TEXT);
    expect(finishes).toEqual(["stop"]);
    expect(usages).toEqual([expect.objectContaining({ prompt_tokens: RECORDED_TEXT_USAGE.inputTokens, completion_tokens: RECORDED_TEXT_USAGE.outputTokens, total_tokens: RECORDED_TEXT_USAGE.totalTokens })]);
    const [sent] = chatCalls(mock);
    expect(sent).toMatchObject({ operation: "converse-stream", path: `/model/${encodeURIComponent(NOVA)}/converse-stream` });
    expect(sent!.headers.accept).toBe("application/vnd.amazon.eventstream");

    // Without include_usage there is no usage chunk.
    const plain = parseClientStream(await (await postChat(proxy, { stream: true })).text());
    expect(plain.payloads.filter((payload) => payload.usage)).toEqual([]);
    expect(contentPieces(plain.payloads).join("")).toBe(RECORDED_TEXT);
  });

  test("stream tool use: one tool call whose argument fragments join to valid JSON; finish_reason tool_calls", async () => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "tool_use" });
    const stream = await client.chat.completions.create({ model: `bedrock/${CLAUDE}`, messages: MESSAGES, tools: [FETCH_CONCEPT_TOOL], stream: true });
    const calls = new Map<number, { id?: string; name?: string; arguments: string }>();
    let text = "";
    const finishes: string[] = [];
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      text += choice.delta.content ?? "";
      if (choice.finish_reason) finishes.push(choice.finish_reason);
      for (const delta of choice.delta.tool_calls ?? []) {
        const entry = calls.get(delta.index) ?? { arguments: "" };
        if (delta.id) entry.id = delta.id;
        if (delta.function?.name) entry.name = delta.function.name;
        entry.arguments += delta.function?.arguments ?? "";
        calls.set(delta.index, entry);
      }
    }
    expect([...calls.keys()]).toEqual([0]);
    const call = calls.get(0)!;
    expect(call).toMatchObject({ id: RECORDED_STREAM_TOOL.toolUseId, name: RECORDED_STREAM_TOOL.name });
    expect(JSON.parse(call.arguments)).toEqual({ concept: "distributed tracing" });
    expect(text).toBe("Okay, let me use the tool to fetch an expert explanation for the concept of distributed tracing.");
    expect(finishes).toEqual(["tool_calls"]);
  });

  test("reasoning stream: reasoning_content carries the thinking, content the answer", async () => {
    const { mock, proxy } = await start();
    mock.setDefault({ kind: "reasoning" });
    const { payloads } = parseClientStream(await (await postChat(proxy, { model: `bedrock/${CLAUDE}`, stream: true })).text());
    expect(reasoningPieces(payloads).join("")).toBe(RECORDED_REASONING.reasoning);
    expect(contentPieces(payloads).join("")).toBe(RECORDED_REASONING.text);
    expect(payloads.some((payload) => payload.choices?.[0]?.delta?.reasoning_signature === RECORDED_REASONING.signature)).toBe(true);
    expect(finishReasons(payloads)).toEqual(["stop"]);
  });
});

describe("SigV4", () => {
  test("the access-key pair's requests pass the mock's signature check, plain and stream, signed for the key's region", async () => {
    const { mock, client } = await start({ keys: [PAIR] });
    const completion = await client.chat.completions.create({ model: `bedrock/${NOVA}`, messages: MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(RECORDED_TEXT);
    let text = "";
    for await (const chunk of await client.chat.completions.create({ model: `bedrock/${NOVA}`, messages: MESSAGES, stream: true })) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe(RECORDED_TEXT);
    // An inference-profile ARN (colons and a slash) stays one path segment and still verifies.
    const arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6";
    await client.chat.completions.create({ model: `bedrock/${arn}`, messages: MESSAGES });
    const calls = chatCalls(mock);
    expect(calls.map((call) => [call.auth, call.signature, call.key, call.region, call.service])).toEqual([
      ["sigv4", "valid", AKID, "us-east-1", "bedrock"],
      ["sigv4", "valid", AKID, "us-east-1", "bedrock"],
      ["sigv4", "valid", AKID, "us-east-1", "bedrock"],
    ]);
    expect(calls[2]).toMatchObject({ modelId: arn, path: `/model/${encodeURIComponent(arn)}/converse` });
    // The body and the content type are signed, not only the host and the date.
    expect(calls[0]!.signedHeaders).toEqual(expect.arrayContaining(["content-type", "host", "x-amz-date"]));
    // A bearer header never goes out for a pair.
    expect(calls.every((call) => !call.headers.authorization!.startsWith("Bearer"))).toBe(true);
  });

  test("a pair with the wrong secret is refused 403 InvalidSignatureException: that key is disabled and the API key serves", async () => {
    const wrong = `${AKID}:${SECRET.replace("EXAMPLEKEY", "WRONGKEY00")}`;
    const { mock, proxy, client } = await start({ keys: [wrong, API_KEY] });
    const { data, response } = await client.chat.completions.create({ model: `bedrock/${NOVA}`, messages: MESSAGES }).withResponse();
    expect(data.choices[0]!.message.content).toBe(RECORDED_TEXT);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    expect(chatCalls(mock).map((call) => [call.key, call.signature])).toEqual([
      [AKID, "invalid"],
      [API_KEY, "valid"],
    ]);
    expect(standingOf(proxy, wrong).disabledUntil).toBeGreaterThan(Date.now());
    const [first, second] = await statsKeys(proxy);
    expect(first.state).toBe("disabled");
    expect(second.state).toBe("ok");
  });

  test("per-key regions: the same pair in us-east-1 and eu-west-1 is two keys, each signing for its own region", async () => {
    const { mock, proxy, client } = await start({
      env: (url) => ({
        BEDROCK_API_KEY_1: PAIR,
        BEDROCK_API_BASE_1: url,
        BEDROCK_REGION_1: "us-east-1",
        BEDROCK_API_KEY_2: PAIR,
        BEDROCK_API_BASE_2: url,
        BEDROCK_REGION_2: "eu-west-1",
      }),
    });
    for (let i = 0; i < 4; i++) await client.chat.completions.create({ model: `bedrock/${NOVA}`, messages: MESSAGES });
    const calls = chatCalls(mock);
    expect(calls.every((call) => call.signature === "valid" && call.key === AKID)).toBe(true);
    // Least recently used first: the two regions take turns.
    expect(calls.map((call) => call.region)).toEqual(["us-east-1", "eu-west-1", "us-east-1", "eu-west-1"]);
    const keys = await statsKeys(proxy);
    expect(keys).toHaveLength(2);
    expect(keys.map((key: any) => key.key).join(" ")).toContain("us-east-1");
    expect(keys.map((key: any) => key.key).join(" ")).toContain("eu-west-1");
  });
});

describe("AWS error names and the rotation they cause", () => {
  test("ThrottlingException (429) on the API key: it cools for that model, the pair serves; the next request skips the cooled key", async () => {
    const { mock, proxy, client } = await start();
    mock.script(API_KEY, { kind: "error", name: "ThrottlingException" });
    const { data, response } = await client.chat.completions.create({ model: `bedrock/${NOVA}`, messages: MESSAGES }).withResponse();
    expect(data.choices[0]!.message.content).toBe(RECORDED_TEXT);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    expect(keysTried(mock)).toEqual([API_KEY, AKID]);
    const cooled = standingOf(proxy, API_KEY);
    expect(cooled.coolingModels.map((cooling) => cooling.model)).toEqual([NOVA]);
    expect(cooled.coolingModels[0]!.until).toBeGreaterThan(Date.now());
    expect(cooled.disabledUntil).toBe(0);
    expect(standingOf(proxy, PAIR).coolingModels).toEqual([]);
    expect((await postChat(proxy)).status).toBe(200);
    expect(keysTried(mock)).toEqual([API_KEY, AKID, AKID]);
    expect((await statsKeys(proxy))[0].state).toBe("cooling");
  });

  test("ValidationException (400, recorded): the client gets a 400 with Bedrock's message after one call; no key is blamed", async () => {
    const { mock, proxy } = await start();
    mock.setDefault({ kind: "error", name: "ValidationException" });
    const response = await postChat(proxy);
    expect(response.status).toBe(400);
    const error = await errorBody(response);
    expect(error.message).toContain(awsErrorMessage("ValidationException"));
    expect(error.code).toBe("ValidationException");
    expect(keysTried(mock)).toEqual([API_KEY]);
    for (const secret of [API_KEY, PAIR]) expect(standingOf(proxy, secret)).toMatchObject({ disabledUntil: 0, coolingModels: [] });
  });

  test("ServiceQuotaExceededException is a 400 that is the key's quota: it rotates instead of going back to the client", async () => {
    const { mock, proxy } = await start();
    mock.script(API_KEY, { kind: "error", name: "ServiceQuotaExceededException" });
    const response = await postChat(proxy);
    expect(response.status).toBe(200);
    expect(keysTried(mock)).toEqual([API_KEY, AKID]);
    expect(standingOf(proxy, API_KEY).coolingModels.map((cooling) => cooling.model)).toEqual([NOVA]);
  });

  for (const name of ["AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"] as const satisfies readonly AwsErrorName[]) {
    test(`${name} (403) disables the key in /v1/stats; the other key serves`, async () => {
      const { mock, proxy } = await start();
      mock.script(AKID, { kind: "error", name });
      // The API key is tried first: use it once so that the pair's turn comes next.
      expect((await postChat(proxy)).status).toBe(200);
      const response = await postChat(proxy);
      expect(response.status).toBe(200);
      expect(response.headers.get("x-proxy-attempts")).toBe("2");
      expect(keysTried(mock)).toEqual([API_KEY, AKID, API_KEY]);
      expect(standingOf(proxy, PAIR).disabledUntil).toBeGreaterThan(Date.now());
      expect(standingOf(proxy, API_KEY).disabledUntil).toBe(0);
      const keys = await statsKeys(proxy);
      expect(keys.map((key: any) => key.state)).toEqual(["ok", "disabled"]);
      // Disabled, it is not tried again.
      await postChat(proxy);
      expect(keysTried(mock)).toEqual([API_KEY, AKID, API_KEY, API_KEY]);
    });
  }

  for (const name of ["ModelNotReadyException", "ServiceUnavailableException"] as const satisfies readonly AwsErrorName[]) {
    test(`${name} is transient: the other key serves at once, and the failing key is neither disabled nor cooled as rate-limited`, async () => {
      const { mock, proxy } = await start();
      mock.script(API_KEY, { kind: "error", name });
      const response = await postChat(proxy);
      expect(response.status).toBe(200);
      expect(keysTried(mock)).toEqual([API_KEY, AKID]);
      const failing = standingOf(proxy, API_KEY);
      expect(response.headers.get("x-proxy-attempts")).toBe("2");
      // A 429 by status, but not this key's limit: nothing cools, nothing is disabled.
      expect(failing.disabledUntil).toBe(0);
      expect(failing.coolingModels).toEqual([]);
    });
  }

  test("an exception frame before any content (modelStreamErrorException; throttlingException) rotates without the client noticing", async () => {
    const { mock, proxy } = await start();
    mock.script(API_KEY, [{ kind: "exception_before_content" }, { kind: "exception_before_content", exception: "throttlingException" }]);
    const first = await postChat(proxy, { stream: true });
    expect(first.headers.get("x-proxy-attempts")).toBe("2");
    const stream = parseClientStream(await first.text());
    expect(contentPieces(stream.payloads).join("")).toBe(RECORDED_TEXT);
    expect(errorEvents(stream.payloads)).toEqual([]);
    expect(keysTried(mock)).toEqual([API_KEY, AKID]);
    // A model stream error (originalStatusCode 500) is transient: the key is not cooled.
    expect(standingOf(proxy, API_KEY).coolingModels).toEqual([]);

    // The API key is least recently used again: its throttling frame cools it.
    const second = parseClientStream(await (await postChat(proxy, { stream: true })).text());
    expect(contentPieces(second.payloads).join("")).toBe(RECORDED_TEXT);
    expect(keysTried(mock)).toEqual([API_KEY, AKID, API_KEY, AKID]);
    expect(standingOf(proxy, API_KEY).coolingModels.map((cooling) => cooling.model)).toEqual([NOVA]);
  });

  test("an exception frame after content ends the stream: the content, one error event, [DONE]; no other key is tried", async () => {
    const { mock, proxy, client } = await start();
    mock.setDefault({ kind: "exception_after_content" });
    const response = await postChat(proxy, { stream: true });
    expect(response.status).toBe(200);
    const { payloads } = parseClientStream(await response.text());
    expect(contentPieces(payloads).join("")).toBe(textBeforeException());
    const errors = errorEvents(payloads);
    expect(errors).toHaveLength(1);
    expect(errors[0].error.message).toContain("The model stream failed.");
    expect(finishReasons(payloads)).toEqual([]);
    expect(keysTried(mock)).toEqual([API_KEY]);

    // The openai client surfaces it as an error, after the content it already gave.
    let text = "";
    const reading = (async () => {
      for await (const chunk of await client.chat.completions.create({ model: `bedrock/${NOVA}`, messages: MESSAGES, stream: true })) text += chunk.choices[0]?.delta?.content ?? "";
    })();
    await expect(reading).rejects.toThrow("The model stream failed.");
    expect(text).toBe(textBeforeException());
  });
});

describe("models, embeddings, secrets", () => {
  test("GET /v1/models lists the text models of foundation-models as bedrock/…, asked with a signed request", async () => {
    const { mock, proxy } = await start({ keys: [PAIR] });
    const models = (await (await proxy.request("/v1/models")).json()) as any;
    const ids = models.data.map((model: any) => model.id);
    expect(ids).toEqual(expect.arrayContaining([`bedrock/amazon.nova-micro-v1:0`, `bedrock/${CLAUDE}`]));
    expect(ids.every((id: string) => id.startsWith("bedrock/"))).toBe(true);
    // Asked for text models only: the embedding models are not chat models.
    expect(ids).not.toContain(`bedrock/${TITAN}`);
    const listCalls = mock.calls.filter((call) => call.operation === "foundation-models");
    expect(listCalls.length).toBeGreaterThan(0);
    expect(listCalls.every((call) => call.signature === "valid" && call.region === "us-east-1" && call.query === "?byOutputModality=TEXT")).toBe(true);
  });

  test("embeddings for Titan Text v2: one InvokeModel per input, vectors and token counts back in order", async () => {
    const { mock, client } = await start({ keys: [PAIR] });
    const inputs = ["The capital of France", "is Paris"];
    const result = await client.embeddings.create({ model: `bedrock/${TITAN}`, input: inputs, dimensions: 256 });
    expect(result.data.map((item) => item.index)).toEqual([0, 1]);
    // The openai client asks for base64 and decodes it back to floats (float32: compare closely).
    result.data.forEach((item, i) => {
      const expected = vectorFor(inputs[i]!, 256, true);
      expect(item.embedding).toHaveLength(256);
      item.embedding.forEach((value, j) => expect(value).toBeCloseTo(expected[j]!, 5));
    });
    expect(result.usage.prompt_tokens).toBe(inputs.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0));
    const invokes = mock.calls.filter((call) => call.operation === "invoke");
    expect(invokes.map((call) => [call.path, call.body, call.signature])).toEqual(
      inputs.map((inputText) => [`/model/${encodeURIComponent(TITAN)}/invoke`, { inputText, dimensions: 256 }, "valid"]),
    );
  });

  test("the secret access key and a session token never show in /v1/stats, error bodies, log lines or log files — not even when AWS echoes the token", async () => {
    const TOKEN_AKID = "ASIAIOSFODNN7EXAMPLE";
    const TOKEN_SECRET = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY";
    const TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN/+mock//session==";
    const tokenPair = `${TOKEN_AKID}:${TOKEN_SECRET}:${TOKEN}`;
    // A temporary pair whose secret is wrong: AWS's InvalidSignatureException quotes the canonical
    // request back, with the x-amz-security-token value in it.
    const BAD_AKID = "ASIAI44QH8DHBEXAMPLE";
    const BAD_TOKEN = "FwoGZXIvYXdzEXAMPLEBADSESSIONTOKEN+mock/other==";
    const badPair = `${BAD_AKID}:not-the-secret-EXAMPLEKEY0000000000000000:${BAD_TOKEN}`;
    const secrets = [SECRET, TOKEN_SECRET, TOKEN, BAD_TOKEN, "not-the-secret-EXAMPLEKEY0000000000000000", PAIR, tokenPair, badPair];
    const { mock, proxy, lines } = await start({
      keys: [PAIR, tokenPair, badPair],
      env: { REQUEST_LOGGING: "true" },
      accessKeys: { [AKID]: SECRET, [TOKEN_AKID]: TOKEN_SECRET, [BAD_AKID]: "the-real-secret-of-the-bad-pair" },
    });
    const visible: string[] = [];
    const record = async (response: Response) => visible.push(`${response.status} ${[...response.headers].join(" ")} ${await response.text()}`);

    // Each key in turn (least recently used first): the pair, the session pair (stream), the bad
    // pair (403, echoing its token; the pair then serves).
    await record(await postChat(proxy));
    await record(await postChat(proxy, { stream: true }));
    await record(await postChat(proxy));
    const calls = chatCalls(mock);
    expect(calls.map((call) => [call.key, call.signature])).toEqual([
      [AKID, "valid"],
      [TOKEN_AKID, "valid"],
      [BAD_AKID, "invalid"],
      [AKID, "valid"],
    ]);
    expect(calls[1]!.headers["x-amz-security-token"]).toBe(TOKEN);
    expect(calls[1]!.signedHeaders).toContain("x-amz-security-token");
    // A request error, an error after content, then every key refused.
    mock.setDefault({ kind: "error", name: "ValidationException" });
    await record(await postChat(proxy));
    mock.setDefault({ kind: "exception_after_content" });
    await record(await postChat(proxy, { stream: true }));
    mock.setDefault({ kind: "error", name: "UnrecognizedClientException" });
    await record(await postChat(proxy));
    await record(await postChat(proxy));
    expect(visible.at(-2)).toContain("all_keys_disabled");
    await record(await proxy.request("/v1/stats"));
    await record(await proxy.request("/v1/models"));

    await Bun.sleep(50); // the log files are written behind the answers
    const logFiles = listFiles(proxy.settings.logDir).map((file) => readFileSync(file, "utf8"));
    expect(lines.length).toBeGreaterThan(0);
    // AWS's echo reached the proxy, and was written down with the token masked.
    const echoed = logFiles.join("\n");
    expect(echoed).toContain("The Canonical String for this request should have been");
    expect(echoed).toContain(maskKey(BAD_TOKEN));
    for (const text of [...visible, ...lines, ...logFiles]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? listFiles(path) : [path];
    });
  } catch {
    return [];
  }
}
