/**
 * The Gemini-native front end to end: the real proxy in front of the scripted Gemini mock (native
 * pass-through), the OpenAI-compatible mock and the Anthropic mock (translated), driven with the
 * real `@google/genai` client (which calls `/v1/models/…`) and with plain fetch to `/v1beta/…`
 * (as Gemini CLI calls it, with the recorded Gemini CLI request), keyed with `x-goog-api-key` or
 * `?key=`. Every test checks what the client sees and what reached the upstream.
 */

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FinishReason, GoogleGenAI, Type, type Tool } from "@google/genai";
import { readFixtureJson, parseSse } from "../support/fixtures.ts";
import { startMockAnthropic, type MockAnthropic } from "../support/mock-anthropic.ts";
import { startMockGemini, DEFAULT_TEXT, type MockGemini } from "../support/mock-gemini.ts";
import { startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { generateCalls } from "./gemini-helpers.ts";
import { FAST_ENV, numberedKeys, stopRigAfterEach } from "./rig-helpers.ts";

const GEMINI_KEYS = ["gemini-test-key-0001", "gemini-test-key-0002"] as const;
const OPENAI_KEY = "openai-test-key-0001";
const ANTHROPIC_KEY = "anthropic-test-key-0001";
const FLASH = "gemini-2.5-flash";
const GPT = "openai/gpt-4o-mini";
const CLAUDE = "anthropic/claude-sonnet-4-5-20250929";

interface Rig {
  proxy: ProxyHarness;
  gemini: MockGemini;
  openai: MockUpstream;
  anthropic: MockAnthropic;
  sdk: GoogleGenAI;
}

const keep = stopRigAfterEach<Rig>((rig) => [rig.gemini, rig.openai, rig.anthropic]);
async function start(): Promise<Rig> {
  const [gemini, openai, anthropic] = await Promise.all([startMockGemini(), startMockUpstream(), startMockAnthropic()]);
  const env = {
    GEMINI_API_BASE: gemini.url,
    OPENAI_API_KEY: OPENAI_KEY,
    OPENAI_API_BASE: openai.url,
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    ANTHROPIC_API_BASE: anthropic.url,
    ...FAST_ENV,
    ...numberedKeys("GEMINI_API_KEY", GEMINI_KEYS),
  };
  const proxy = await startProxy({ env });
  const sdk = new GoogleGenAI({ apiKey: proxy.proxyKey, httpOptions: { baseUrl: proxy.url } });
  return keep({ proxy, gemini, openai, anthropic, sdk });
}

/** Plain fetch as Gemini CLI sends it: `/v1beta`, the key in `x-goog-api-key` (or `?key=` when `queryKey`). */
function postGemini(rig: Rig, path: string, body: unknown, options: { queryKey?: boolean; key?: string | null } = {}): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const key = options.key === undefined ? rig.proxy.proxyKey : options.key;
  let url = `${rig.proxy.url}${path}`;
  if (key !== null && options.queryKey) url += `${url.includes("?") ? "&" : "?"}key=${key}`;
  else if (key !== null) headers["x-goog-api-key"] = key;
  return fetch(url, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });
}

const HELLO = { contents: [{ role: "user", parts: [{ text: "Say hello." }] }] };

async function streamPayloads(response: Response): Promise<any[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  return parseSse(await response.text()).map((event) => JSON.parse(event.data));
}

const textOf = (payloads: any[]): string =>
  payloads.flatMap((payload) => payload.candidates?.flatMap((c: any) => c.content?.parts?.map((p: any) => (p.thought ? "" : (p.text ?? ""))) ?? []) ?? []).join("");

async function googleError(response: Response, status: number, name: string): Promise<string> {
  expect(response.status).toBe(status);
  const body: any = await response.json();
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toMatchObject({ code: status, status: name });
  return body.error.message;
}

describe("gemini/ models pass through natively", () => {
  test("@google/genai generateContent: the body reaches Google as sent, with a provider key in the header", async () => {
    const rig = await start();
    const reply = await rig.sdk.models.generateContent({ model: FLASH, contents: "Say hello.", config: { systemInstruction: "Be brief.", temperature: 0.2 } });
    expect(reply.text).toBe(DEFAULT_TEXT);
    expect(reply.usageMetadata?.totalTokenCount).toBeGreaterThan(0);
    const [call] = generateCalls(rig.gemini);
    expect(call!.path).toBe(`/v1beta/models/${FLASH}:generateContent`);
    expect(GEMINI_KEYS as readonly string[]).toContain(call!.key);
    expect(call!.keyInUrl).toBe(false);
    expect(call!.body).toMatchObject({ contents: [{ role: "user", parts: [{ text: "Say hello." }] }], systemInstruction: { parts: [{ text: "Be brief." }] }, generationConfig: { temperature: 0.2 } });
  });

  test("@google/genai generateContentStream: every event relayed, the text whole", async () => {
    const rig = await start();
    let text = "";
    for await (const chunk of await rig.sdk.models.generateContentStream({ model: FLASH, contents: "Say hello." })) text += chunk.text ?? "";
    expect(text).toBe(DEFAULT_TEXT);
    expect(generateCalls(rig.gemini)[0]!.query).toBe("?alt=sse");
  });

  test("the recorded Gemini CLI request on /v1beta streams through untouched", async () => {
    const rig = await start();
    const recorded = readFixtureJson("clients/gemini-cli-request.json");
    const payloads = await streamPayloads(await postGemini(rig, recorded.path, recorded.body));
    expect(textOf(payloads)).toBe(DEFAULT_TEXT);
    expect(payloads.at(-1).candidates[0].finishReason).toBe("STOP");
    expect(generateCalls(rig.gemini)[0]!.body).toEqual(recorded.body);
  });

  test("a 429 on the first key rotates to the second invisibly, for a whole answer and a stream", async () => {
    const rig = await start();
    rig.gemini.script(GEMINI_KEYS[0]!, [{ kind: "rate_limit_minute" }]);
    const reply = await postGemini(rig, `/v1beta/models/${FLASH}:generateContent`, HELLO);
    expect(reply.status).toBe(200);
    expect(reply.headers.get("x-proxy-attempts")).toBe("2");
    expect(((await reply.json()) as any).candidates[0].content.parts[0].text).toBe(DEFAULT_TEXT);
    expect(generateCalls(rig.gemini).map((call) => call.key)).toEqual([GEMINI_KEYS[0], GEMINI_KEYS[1]]);
    // Cooling is per model: the first key is tried again for another one, and rotates again.
    const payloads = await streamPayloads(await postGemini(rig, "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse", HELLO));
    expect(textOf(payloads)).toBe(DEFAULT_TEXT);
    expect(generateCalls(rig.gemini).slice(2).map((call) => call.key)).toEqual([GEMINI_KEYS[0], GEMINI_KEYS[1]]);
  });

  test("an empty candidate rotates; a failure after the first event ends the stream with one Google-shaped error", async () => {
    const rig = await start();
    rig.gemini.script(GEMINI_KEYS[0]!, [{ kind: "empty" }]);
    const reply = await postGemini(rig, `/v1beta/models/${FLASH}:generateContent`, HELLO);
    expect(reply.status).toBe(200);
    expect(((await reply.json()) as any).candidates[0].content.parts[0].text).toBe(DEFAULT_TEXT);
    // Transient: the next key at once.
    expect(generateCalls(rig.gemini).map((call) => call.key)).toEqual([GEMINI_KEYS[0], GEMINI_KEYS[1]]);
    rig.gemini.setDefault({ kind: "error_mid_stream", afterChunks: 1, framing: "sse" });
    const payloads = await streamPayloads(await postGemini(rig, `/v1beta/models/${FLASH}:streamGenerateContent?alt=sse`, HELLO));
    const errors = payloads.filter((payload) => payload.error);
    expect(errors).toHaveLength(1);
    expect(payloads.at(-1)).toBe(errors[0]);
    expect(Object.keys(errors[0].error).sort()).toEqual(["code", "message", "status"]);
  });

  test("countTokens and embedContent (the SDK sends batchEmbedContents; plain :embedContent too)", async () => {
    const rig = await start();
    const counted = await rig.sdk.models.countTokens({ model: FLASH, contents: "one two three" });
    expect(counted.totalTokens).toBeGreaterThan(0);
    const embedded = await rig.sdk.models.embedContent({ model: "gemini-embedding-001", contents: ["alpha", "beta"], config: { outputDimensionality: 8 } });
    expect(embedded.embeddings?.map((e) => e.values?.length)).toEqual([8, 8]);
    const batch = rig.gemini.calls.find((call) => call.path.endsWith(":batchEmbedContents"))!;
    expect(batch.body.requests.map((r: any) => r.model)).toEqual(["models/gemini-embedding-001", "models/gemini-embedding-001"]);
    const single = await postGemini(rig, "/v1beta/models/gemini-embedding-001:embedContent", { content: { parts: [{ text: "x" }] }, outputDimensionality: 4 }, { queryKey: true });
    expect(((await single.json()) as any).embedding.values).toHaveLength(4);
  });
});

describe("other providers translate through the canonical form", () => {
  for (const [label, model] of [
    ["OpenAI-compatible", GPT],
    ["Anthropic", CLAUDE],
  ] as const) {
    test(`${label}: generateContent and generateContentStream with @google/genai`, async () => {
      const rig = await start();
      const reply = await rig.sdk.models.generateContent({ model, contents: "Say hello.", config: { systemInstruction: "Be brief.", maxOutputTokens: 50 } });
      expect(reply.text?.length).toBeGreaterThan(0);
      expect(reply.candidates?.[0]?.finishReason).toBe(FinishReason.STOP);
      expect(reply.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
      expect(reply.modelVersion).toBe(model);
      let streamed = "";
      let last: any;
      for await (const chunk of await rig.sdk.models.generateContentStream({ model, contents: "Say hello." })) {
        streamed += chunk.text ?? "";
        last = chunk;
      }
      expect(streamed).toBe(reply.text!);
      expect(last.candidates[0].finishReason).toBe("STOP");
      expect(last.usageMetadata.totalTokenCount).toBeGreaterThan(0);
      const upstream = model === GPT ? rig.openai.calls.at(-1)!.body : rig.anthropic.calls.at(-1)!.body;
      expect(upstream.model).toBe(model.slice(model.indexOf("/") + 1));
    });
  }

  test("function call round trip: functionCall out with its id, functionResponse back as the matching tool message", async () => {
    const rig = await start();
    rig.openai.setDefault({ kind: "success", toolCalls: true });
    // One declaration in plain JSON Schema, one in Google's schema form, as SDK users write them.
    const tools: Tool[] = [
      {
        functionDeclarations: [
          { name: "delete_file", parametersJsonSchema: { type: "object", properties: { path: { type: "string" } } } },
          { name: "create_file", parameters: { type: Type.OBJECT, properties: { path: { type: Type.STRING } } } },
        ],
      },
    ];
    const first = await rig.sdk.models.generateContent({ model: GPT, contents: "Tidy up.", config: { tools } });
    const calls = first.functionCalls ?? [];
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.id).toStartWith("call_");
    expect(rig.openai.calls.at(-1)!.body.tools.map((t: any) => t.function.parameters.type)).toEqual(["object", "object"]);
    rig.openai.setDefault({ kind: "success", content: "Done." });
    const second = await rig.sdk.models.generateContent({
      model: GPT,
      contents: [
        { role: "user", parts: [{ text: "Tidy up." }] },
        first.candidates![0]!.content!,
        { role: "user", parts: calls.map((call) => ({ functionResponse: { id: call.id, name: call.name!, response: { output: "ok" } } })) },
      ],
      config: { tools },
    });
    expect(second.text).toBe("Done.");
    const messages = rig.openai.calls.at(-1)!.body.messages;
    const assistant = messages.find((m: any) => m.role === "assistant");
    expect(assistant.tool_calls.map((c: any) => c.id)).toEqual(calls.map((c) => c.id));
    expect(messages.filter((m: any) => m.role === "tool")).toEqual(calls.map((c) => ({ role: "tool", tool_call_id: c.id, content: '{"output":"ok"}' })));
  });

  test("the recorded Gemini CLI request streams from an OpenAI-compatible provider", async () => {
    const rig = await start();
    const recorded = readFixtureJson("clients/gemini-cli-request.json");
    const payloads = await streamPayloads(await postGemini(rig, `/v1beta/models/${GPT}:streamGenerateContent?alt=sse`, recorded.body));
    expect(textOf(payloads).length).toBeGreaterThan(0);
    const upstream = rig.openai.calls.at(-1)!.body;
    expect(upstream.messages[0].role).toBe("system");
    expect(upstream.tools).toHaveLength(recorded.body.tools[0].functionDeclarations.length);
    // top_k is Gemini's and Anthropic's only: a strict OpenAI host never sees it.
    expect(upstream.top_k).toBeUndefined();
  });

  test("countTokens (local estimate) and embedContent through OpenAI embeddings", async () => {
    const rig = await start();
    const counted = await rig.sdk.models.countTokens({ model: GPT, contents: "one two three" });
    expect(counted.totalTokens).toBeGreaterThan(0);
    const embedded = await rig.sdk.models.embedContent({ model: "openai/text-embedding-3-small", contents: ["alpha", "beta"] });
    expect(embedded.embeddings).toHaveLength(2);
    expect(rig.openai.calls.at(-1)!.body.input).toEqual(["alpha", "beta"]);
  });
});

describe("auth, errors and the model list", () => {
  test("401 without a key and with a wrong one, Google-shaped; ?key= works here and nowhere else", async () => {
    const rig = await start();
    await googleError(await postGemini(rig, `/v1beta/models/${FLASH}:generateContent`, HELLO, { key: null }), 401, "UNAUTHENTICATED");
    await googleError(await postGemini(rig, `/v1/models/${FLASH}:generateContent`, HELLO, { key: "wrong" }), 401, "UNAUTHENTICATED");
    expect((await postGemini(rig, `/v1beta/models/${FLASH}:generateContent`, HELLO, { queryKey: true })).status).toBe(200);
    const chat = await fetch(`${rig.proxy.url}/v1/chat/completions?key=${rig.proxy.proxyKey}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(chat.status).toBe(401);
    expect(Object.keys(((await chat.json()) as any).error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(generateCalls(rig.gemini)).toHaveLength(1);
  });

  test("a ?key= request leaves the proxy key out of failures.log", async () => {
    const rig = await start();
    rig.gemini.script(GEMINI_KEYS[0]!, [{ kind: "rate_limit_minute" }]);
    expect((await postGemini(rig, `/v1beta/models/${FLASH}:generateContent`, HELLO, { queryKey: true })).status).toBe(200);
    await rig.proxy.ctx.stop();
    const text = readFileSync(join(rig.proxy.settings.logDir, "failures.log"), "utf8");
    expect(text).toContain('"class":"rate_limit"');
    for (const secret of [...GEMINI_KEYS, rig.proxy.proxyKey]) expect(text).not.toContain(secret);
  });

  test("404 for an unknown provider or method, 400 for malformed JSON or a body without contents", async () => {
    const rig = await start();
    expect(await googleError(await postGemini(rig, "/v1beta/models/nope/x:generateContent", HELLO), 404, "NOT_FOUND")).toContain("nope");
    await googleError(await postGemini(rig, `/v1beta/models/${FLASH}:frobnicate`, HELLO), 404, "NOT_FOUND");
    await googleError(await postGemini(rig, `/v1beta/models/${FLASH}:generateContent`, "{not json"), 400, "INVALID_ARGUMENT");
    expect(await googleError(await postGemini(rig, `/v1beta/models/${GPT}:generateContent`, { contents: "x" }), 400, "INVALID_ARGUMENT")).toContain("contents");
    expect(rig.gemini.calls).toHaveLength(0);
    expect(rig.openai.calls).toHaveLength(0);
  });

  test("an upstream rate limit on every key is a 429 RESOURCE_EXHAUSTED with Retry-After", async () => {
    const rig = await start();
    rig.gemini.setDefault({ kind: "rate_limit_minute", retryDelay: "40s" });
    const response = await postGemini(rig, `/v1beta/models/${FLASH}:generateContent`, HELLO);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    await googleError(response, 429, "RESOURCE_EXHAUSTED");
  });

  test("GET /v1/models is OpenAI-shaped with Bearer and Gemini-shaped with x-goog-api-key; /v1beta/models with ?key=", async () => {
    const rig = await start();
    const openai: any = await (await rig.proxy.request("/v1/models")).json();
    expect(openai.object).toBe("list");
    expect(openai.data.map((m: any) => m.id)).toContain(`gemini/${FLASH}`);
    const google: any = await (await fetch(`${rig.proxy.url}/v1/models`, { headers: { "x-goog-api-key": rig.proxy.proxyKey } })).json();
    const names = google.models.map((m: any) => m.name);
    expect(names).toContain(`models/${FLASH}`);
    expect(names.some((name: string) => name.startsWith("models/openai/"))).toBe(true);
    expect(google.models.find((m: any) => m.name === `models/${FLASH}`).supportedGenerationMethods).toContain("generateContent");
    const beta: any = await (await fetch(`${rig.proxy.url}/v1beta/models?key=${rig.proxy.proxyKey}`)).json();
    expect(beta.models.map((m: any) => m.name)).toEqual(names);
    const listed: string[] = [];
    for await (const model of await rig.sdk.models.list()) listed.push(model.name!);
    expect(listed).toEqual(names);
    const one: any = await (await fetch(`${rig.proxy.url}/v1beta/models/${FLASH}`, { headers: { "x-goog-api-key": rig.proxy.proxyKey } })).json();
    expect(one.name).toBe(`models/${FLASH}`);
  });
});
