/**
 * Failure classification, fed with the recorded provider error bodies under test/fixtures.
 * Where no recording exists (see "Known gaps" in test/fixtures/INDEX.md) a body is synthesized;
 * each such body names the providers.md section it follows. Statuses and headers are never part
 * of the recordings, so they come from the INDEX table and the same reference.
 */
import { describe, expect, test } from "bun:test";
import { classifyEmbeddedError, classifyHttpFailure, networkFailure } from "../../src/providers/classify-failure.ts";
import type { Failure } from "../../src/outcome.ts";
import { embeddedErrorOf } from "../../src/providers/attempts.ts";

const NOW = Date.parse("2025-08-21T12:40:00Z");

function fixture(path: string): Promise<string> {
  return Bun.file(new URL(`../fixtures/${path}`, import.meta.url)).text();
}

function http(status: number, body: string, headers: Record<string, string> = {}): Failure {
  return classifyHttpFailure({ status, body, headers: new Headers(headers), now: NOW });
}

async function recorded(status: number, path: string, headers: Record<string, string> = {}): Promise<Failure> {
  return http(status, await fixture(path), headers);
}

function embedded(payload: unknown, headers: Record<string, string> = {}): Failure {
  return classifyEmbeddedError(payload, new Headers(headers), NOW);
}

/** The JSON after `data: ` on the one event line that carries an error. */
function errorEvent(sse: string): unknown {
  const line = sse.split(/\r?\n/).find((l) => l.startsWith("data: ") && l.includes('"error"'));
  if (line === undefined) throw new Error("no error event in the recording");
  return JSON.parse(line.slice("data: ".length));
}

/** Recorded bodies: [fixture, HTTP status from INDEX.md, headers, expected fields, message start]. */
const RECORDED: [string, number, Record<string, string>, Omit<Failure, "message" | "status">, string][] = [
  ["openai/error-401-invalid-api-key.json", 401, {}, { class: "invalid_key", code: "invalid_api_key" }, "Incorrect API key provided: [redacted]. You can find"],
  ["openai/error-429-insufficient-quota.json", 429, {}, { class: "billing", code: "insufficient_quota" }, "You exceeded your current quota, please check your plan and billing details."],
  ["openai/error-404-model-not-found.json", 404, {}, { class: "request", code: "model_not_found" }, "The model `gpt-4.1-nano-wrong` does not exist or you do not have access to it."],
  ["openai/error-400-unsupported-parameter-max-tokens.json", 400, {}, { class: "request", code: "unsupported_parameter", param: "max_tokens" }, "Unsupported parameter: 'max_tokens'"],
  ["openai/error-400-unsupported-value-system-role.json", 400, {}, { class: "request", code: "unsupported_value", param: "messages[0].role" }, "Unsupported value: 'messages[0].role'"],
  ["openai/error-400-embeddings-max-tokens-per-request.json", 400, {}, { class: "request", code: "max_tokens_per_request" }, "Requested 1228288 tokens, max 300000 tokens per request"],
  ["groq/error-400-tool-use-failed.json", 400, {}, { class: "request", code: "tool_use_failed" }, "Tool call validation failed:"],
  ["groq/error-404-model-not-found.json", 404, {}, { class: "request", code: "model_not_found" }, "The model `non-existent` does not exist"],
  ["anthropic/error-400-invalid-request-effort.json", 400, {}, { class: "request", code: "invalid_request_error" }, "This model does not support effort level 'xhigh'."],
  ["anthropic/error-400-tool-result-without-tool-use.json", 400, {}, { class: "request", code: "invalid_request_error" }, "messages.2.content.0: unexpected `tool_use_id`"],
  ["anthropic/error-404-not-found-model.json", 404, {}, { class: "request", code: "not_found_error" }, "model: claude-sonet-4-5"],
  ["anthropic/error-529-overloaded.json", 529, { "retry-after": "7" }, { class: "transient", code: "overloaded_error", retryAfterMs: 7000 }, "Overloaded"],
  // Google answers a bad key with 400, not 401.
  ["google/error-400-api-key-invalid.json", 400, {}, { class: "invalid_key", code: "API_KEY_INVALID" }, "API key not valid. Please pass a valid API key."],
  ["google/error-400-api-key-invalid-on-stream-endpoint.json", 400, {}, { class: "invalid_key", code: "API_KEY_INVALID" }, "API key not valid."],
  ["google/error-400-batch-embed-over-100.json", 400, {}, { class: "request", code: "INVALID_ARGUMENT" }, "* BatchEmbedContentsRequest.requests: at most 100"],
  ["google/error-400-thinking-level-unsupported.json", 400, {}, { class: "request", code: "INVALID_ARGUMENT" }, "Thinking level MINIMAL is not supported"],
  ["google/error-403-service-disabled.json", 403, {}, { class: "invalid_key", code: "SERVICE_DISABLED" }, "Generative Language API has not been used in project 12345678"],
  ["google/error-404-stream-endpoint-debuginfo.json", 404, {}, { class: "request", code: "NOT_FOUND" }, "models/custom-gemini-2.0-flash is not found"],
  // RetryInfo "40s" wins over the message's "Please retry in 40.025771073s"; "limit: 10000" is not "limit: 0".
  ["google/error-429-paid-tier-quota-full.json", 429, {}, { class: "rate_limit", code: "RESOURCE_EXHAUSTED", retryAfterMs: 40_000 }, "You exceeded your current quota"],
  ["google/error-429-resource-exhausted-quotafailure-retryinfo.json", 429, {}, { class: "rate_limit", code: "RESOURCE_EXHAUSTED", retryAfterMs: 34_400 }, "You exceeded your current quota, please check your plan."],
  // quota_limit_value "0" is the structured form of "limit: 0": no quota at all in that region.
  ["google/error-429-rate-limit-exceeded-errorinfo-legacy.json", 429, {}, { class: "quota", code: "RATE_LIMIT_EXCEEDED" }, "Quota exceeded for quota metric"],
  ["google/error-503-unavailable-overloaded.json", 503, {}, { class: "transient", code: "UNAVAILABLE" }, "The model is overloaded. Please try again later."],
  ["openrouter/error-429-upstream-rate-limited.json", 429, { "retry-after": "12" }, { class: "rate_limit", code: "429", retryAfterMs: 12_000 }, "Provider returned error (Google): google/gemini-2.0-flash-exp:free is temporarily rate-limited upstream."],
  ["openrouter/error-429-wrapped-google-resource-exhausted.json", 429, {}, { class: "rate_limit", code: "RESOURCE_EXHAUSTED" }, "Resource has been exhausted (e.g. check quota)."],
];

describe("recorded error bodies", () => {
  test.each(RECORDED)("%s (HTTP %p)", async (path, status, headers, expected, messageStart) => {
    const { message, ...rest } = await recorded(status, path, headers);
    expect(rest).toEqual({ status, ...expected });
    expect(message).toStartWith(messageStart);
    expect(message).not.toMatch(/\s{2}|^\s|\s$/);
  });

  test("the key OpenAI echoes and Google's DebugInfo key never reach the message", async () => {
    expect((await recorded(401, "openai/error-401-invalid-api-key.json")).message).not.toContain("DEADBEEF");
    expect((await recorded(400, "google/error-400-api-key-invalid.json")).message).toBe("API key not valid. Please pass a valid API key.");
  });

  test("an array-wrapped Google body (as the OpenAI-compatible endpoint may send it) reads the same", async () => {
    const failure = http(400, `[${await fixture("google/error-400-api-key-invalid.json")}]`);
    expect(failure).toMatchObject({ class: "invalid_key", code: "API_KEY_INVALID" });
  });

  test("a Google RetryInfo over five minutes is a quota", async () => {
    const body = (await fixture("google/error-429-resource-exhausted-quotafailure-retryinfo.json")).replace('"34.4s"', '"3600s"');
    expect(http(429, body)).toMatchObject({ class: "quota", retryAfterMs: 3_600_000 });
  });

  test("OpenRouter metadata.raw holding a JSON body keeps the upstream's signals", async () => {
    // Synthesized: OpenRouter envelope per providers.md 5 (OpenRouter row, metadata.raw) around the recorded Google body.
    const raw = await fixture("google/error-429-resource-exhausted-quotafailure-retryinfo.json");
    const body = JSON.stringify({ error: { code: 429, message: "Provider returned error", metadata: { provider_name: "Google AI Studio", raw } } });
    expect(http(429, body)).toEqual({
      class: "rate_limit",
      status: 429,
      code: "RESOURCE_EXHAUSTED",
      message: "Provider returned error (Google AI Studio): You exceeded your current quota, please check your plan.",
      retryAfterMs: 34_400,
    });
  });
});

describe("errors inside a 200 response", () => {
  test("OpenRouter midstream error event", async () => {
    const payload = errorEvent(await fixture("openrouter/stream-midstream-error.sse.txt"));
    expect(embedded(payload)).toEqual({ class: "request", status: 400, code: "400", message: "Token limit reached" });
  });

  test("Anthropic midstream overloaded_error event", async () => {
    const payload = errorEvent(await fixture("anthropic/stream-midstream-overloaded-error.sse.txt"));
    expect(embedded(payload)).toEqual({ class: "transient", status: 529, code: "overloaded_error", message: "Overloaded" });
  });

  test("OpenAI Responses stream error event insufficient_quota", async () => {
    const lines = (await fixture("openai/responses-stream-error-insufficient-quota.chunks.txt")).split("\n");
    const payload: unknown = JSON.parse(lines.find((l) => l.startsWith('{"type":"error"')) ?? "null");
    expect(embedded(payload)).toMatchObject({ class: "billing", status: 429, code: "insufficient_quota" });
  });

  test("Vertex bare JSON error after stream chunks: CANCELLED 499 is transient", async () => {
    const sse = await fixture("google/vertex-stream-error-mid-stream.sse.txt");
    const payload: unknown = JSON.parse(sse.slice(sse.indexOf("\n{")));
    expect(embedded(payload)).toEqual({ class: "transient", status: 499, code: "CANCELLED", message: "The operation was cancelled." });
  });

  test("context overflow reported in a 200 body is the client's fault", () => {
    // Synthesized: llama.cpp wording per providers.md 7 (Ollama / LM Studio / vLLM row).
    const failure = embedded({ error: { message: "the request exceeds the available context size, try increasing it" } });
    expect(failure).toMatchObject({ class: "request", status: 200 });
  });

  test("an empty error object is transient with a clear message", () => {
    expect(embedded({ error: {} })).toEqual({
      class: "transient",
      status: 200,
      message: "upstream reported an error inside a 200 response with no error message",
    });
  });
});

/** Bodies with no recording (INDEX.md "Known gaps"); each row names the providers.md section its body follows. */
const SYNTHESIZED: [string, number, unknown, Record<string, string>, Partial<Failure>][] = [
  [
    "2.6 Google 429 PerDay quotaId is a quota; RetryInfo gives the wait",
    429,
    { error: { code: 429, message: "You exceeded your current quota.\nPlease retry in 47.434392449s.", status: "RESOURCE_EXHAUSTED", details: [
      { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier" }] },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "47s" },
    ] } },
    {},
    { class: "quota", code: "RESOURCE_EXHAUSTED", retryAfterMs: 47_000 },
  ],
  [
    "2.6 Google 429 'limit: 0' is a quota",
    429,
    { error: { code: 429, status: "RESOURCE_EXHAUSTED", message: "* Quota exceeded for metric: generate_content_free_tier_requests, limit: 0, model: gemini-2.5-pro" } },
    {},
    { class: "quota", code: "RESOURCE_EXHAUSTED" },
  ],
  [
    "1.5 OpenAI 429 rate_limit_exceeded: headers beat the message",
    429,
    { error: { message: "Rate limit reached for gpt-4o on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.", type: "requests", param: null, code: "rate_limit_exceeded" } },
    { "retry-after-ms": "1500" },
    { class: "rate_limit", code: "rate_limit_exceeded", retryAfterMs: 1500 },
  ],
  [
    "1.5 OpenAI 429 rate_limit_exceeded without headers: the message gives the wait",
    429,
    { error: { message: "Rate limit reached for gpt-4o on tokens per min (TPM). Please try again in 20ms.", type: "tokens", param: null, code: "rate_limit_exceeded" } },
    {},
    { class: "rate_limit", retryAfterMs: 20 },
  ],
  [
    "5 Groq 429 on tokens per day (TPD) is a quota",
    429,
    { error: { message: "Rate limit reached for model `llama-3.3-70b-versatile` on tokens per day (TPD): Limit 100000, Used 99000, Requested 2000. Please try again in 7m12.864s.", type: "tokens", code: "rate_limit_exceeded" } },
    {},
    { class: "quota", code: "rate_limit_exceeded", retryAfterMs: 432_864 },
  ],
  [
    "5 Cerebras 429 with the day window at zero is a quota (empty body)",
    429,
    "",
    { "x-ratelimit-remaining-requests-day": "0", "x-ratelimit-reset-requests-day": "11726.28", "x-ratelimit-reset-tokens-minute": "26.28" },
    { class: "quota", message: "upstream answered HTTP 429 with no error message", retryAfterMs: 11_726_280 },
  ],
  [
    "4.4 Anthropic 400 'credit balance is too low' is billing",
    400,
    { type: "error", error: { type: "invalid_request_error", message: "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits." } },
    {},
    { class: "billing", code: "invalid_request_error" },
  ],
  ["4.4 Anthropic 402 billing_error", 402, { type: "error", error: { type: "billing_error", message: "Billing issue" } }, {}, { class: "billing", code: "billing_error" }],
  ["4.4 Anthropic 401 authentication_error", 401, { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }, {}, { class: "invalid_key", message: "invalid x-api-key" }],
  ["4.4 Anthropic 403 permission_error", 403, { type: "error", error: { type: "permission_error", message: "Your API key does not have permission to use the specified resource." } }, {}, { class: "invalid_key", code: "permission_error" }],
  [
    "4.4/4.5 Anthropic 429 rate_limit_error honours retry-after",
    429,
    { type: "error", error: { type: "rate_limit_error", message: "This request would exceed the rate limit for your organization of 30,000 input tokens per minute." } },
    { "retry-after": "18", "anthropic-ratelimit-input-tokens-remaining": "0", "anthropic-ratelimit-input-tokens-reset": "2025-08-21T12:40:59Z" },
    { class: "rate_limit", code: "rate_limit_error", retryAfterMs: 18_000 },
  ],
  ["4.4 Anthropic 400 prompt is too long", 400, { type: "error", error: { type: "invalid_request_error", message: "prompt is too long: 208310 tokens > 200000 maximum" } }, {}, { class: "request" }],
  ["5 OpenRouter 402 insufficient credits", 402, { error: { code: 402, message: "Insufficient credits. Add more using https://openrouter.ai/credits" } }, {}, { class: "billing", code: "402" }],
  [
    "1.5 OpenAI 403 unsupported region is not the key's fault",
    403,
    { error: { code: "unsupported_country_region_territory", message: "Country, region, or territory not supported", param: null, type: "request_forbidden" } },
    {},
    { class: "request", code: "unsupported_country_region_territory" },
  ],
  [
    "5 OpenRouter 403 moderation is the request's fault",
    403,
    { error: { code: 403, message: "openai/gpt-4o requires moderation on OpenAI. Your input was flagged for \"violence\".", metadata: { reasons: ["violence"], flagged_input: "…", provider_name: "OpenAI", model_slug: "openai/gpt-4o" } } },
    {},
    { class: "request", code: "403" },
  ],
  ["5 Together 403 context overflow", 403, { error: { message: "Input token count + max_tokens must be less than the context length", type: "invalid_request_error" } }, {}, { class: "request" }],
  ["5 Mistral flat 429", 429, { object: "error", message: "Rate limit exceeded", type: "rate_limited", param: null, code: "1300" }, {}, { class: "rate_limit", code: "rate_limited", message: "Rate limit exceeded" }],
  ["5 Mistral older {message} 429", 429, { message: "Requests rate limit exceeded" }, {}, { class: "rate_limit", message: "Requests rate limit exceeded" }],
  ["5 NVIDIA problem+json 429", 429, { status: 429, title: "Too Many Requests" }, {}, { class: "rate_limit", code: "429", message: "Too Many Requests" }],
  ["5 problem+json with a URI type and a detail", 422, { type: "about:blank", status: 422, title: "Unprocessable Entity", detail: "Field 'messages' is required" }, {}, { class: "request", code: "422", message: "Field 'messages' is required" }],
  [
    "5 vLLM flat 400 context overflow",
    400,
    { object: "error", message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.", type: "BadRequestError", param: null, code: 400 },
    {},
    { class: "request", code: "BadRequestError" },
  ],
  ["5 {\"error\":\"string\"} body", 500, { error: "Internal error, please retry" }, {}, { class: "transient", message: "Internal error, please retry" }],
  ["1.5 x-should-retry: true overrides a 4xx", 400, { error: { message: "Try again", type: "invalid_request_error" } }, { "x-should-retry": "true" }, { class: "transient" }],
  ["7.1 transient 503 keeps the retry-after hint", 503, "", { "retry-after": "5" }, { class: "transient", retryAfterMs: 5000 }],
];

describe("synthesized bodies", () => {
  test.each(SYNTHESIZED)("%s", (_name, status, body, headers, expected) => {
    const failure = http(status, typeof body === "string" ? body : JSON.stringify(body), headers);
    expect(failure).toMatchObject({ status, ...expected });
  });
});

describe("statuses and odd bodies", () => {
  test.each([408, 409, 425, 498, 499, 500, 502, 504, 520, 524, 529, 301])("HTTP %p with no body is transient", (status) => {
    expect(http(status, "")).toEqual({ class: "transient", status, message: `upstream answered HTTP ${status} with no error message` });
  });

  test.each([400, 404, 405, 410, 413, 422])("HTTP %p with no body is the request's fault", (status) => {
    expect(http(status, "   ")).toMatchObject({ class: "request", status });
  });

  test("a Cloudflare HTML page gives its title", () => {
    const html = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body>\n</html>";
    expect(http(502, html)).toEqual({ class: "transient", status: 502, message: "502 Bad Gateway" });
  });

  test("plain text is kept, whitespace collapsed, capped at 500 characters", () => {
    const failure = http(500, `  upstream\n\n   exploded ${"x".repeat(600)}`);
    expect(failure.message).toStartWith("upstream exploded xxx");
    expect(failure.message).toHaveLength(500);
    expect(failure.message).toEndWith("…");
  });

  test("key-shaped tokens never reach the message", () => {
    const failure = http(401, JSON.stringify({ error: { message: "Key sk-proj-abcdefghijklmnop1234 was revoked" } }));
    expect(failure.message).toBe("Key [redacted] was revoked");
  });
});

describe("networkFailure", () => {
  test.each(["no response headers within 10 s", "connection reset"])("%p", (what) => {
    expect(networkFailure(what)).toEqual({ class: "transient", status: 0, message: `upstream request failed: ${what}` });
  });

  test("an empty description still reads as a sentence", () => {
    expect(networkFailure("  ")).toEqual({ class: "transient", status: 0, message: "upstream request failed: unknown network error" });
  });
});

describe("Amazon Bedrock: the error name is in x-amzn-ErrorType (or an exception frame's type)", () => {
  const named = (name: string) => ({ "x-amzn-errortype": `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/` });

  test("recorded: ValidationException is the request's fault, ExpiredTokenException a dead key", async () => {
    expect(await recorded(400, "bedrock/error-400-validation-exception.json", named("ValidationException"))).toMatchObject({
      class: "request",
      code: "ValidationException",
      message: "The provided model identifier is invalid.",
    });
    expect(await recorded(403, "bedrock/error-403-expired-token.json", named("ExpiredTokenException"))).toMatchObject({ class: "invalid_key", code: "ExpiredTokenException" });
  });

  // Synthesized: Bedrock's documented error names and statuses (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html, Errors), body {"message"} as recorded.
  test.each([
    [429, "ThrottlingException", "rate_limit"],
    [400, "ServiceQuotaExceededException", "quota"],
    [429, "ModelNotReadyException", "transient"],
    [503, "ServiceUnavailableException", "transient"],
    [500, "InternalServerException", "transient"],
    [408, "ModelTimeoutException", "transient"],
    [424, "ModelErrorException", "transient"],
    [403, "AccessDeniedException", "invalid_key"],
    [403, "UnrecognizedClientException", "invalid_key"],
    [404, "ResourceNotFoundException", "request"],
  ] as const)("HTTP %d %s → %s", (status, name, expected) => {
    expect(http(status, JSON.stringify({ message: `a ${name}` }), named(name))).toMatchObject({ class: expected, code: name, status });
  });

  test("a ConverseStream exception frame, as the stream converter reports it, classifies by its type", () => {
    expect(embedded({ error: { code: 429, type: "throttlingException", message: "Too many tokens" } })).toMatchObject({ class: "rate_limit", status: 429 });
    expect(embedded({ error: { code: 400, type: "serviceQuotaExceededException", message: "quota" } })).toMatchObject({ class: "quota" });
  });
});

describe("catalog hosts with their own error shapes (synthesized from each host's error-code page)", () => {
  test("Z.ai / Zhipu: business code 1113 on a 429 is an empty balance, 1302 a rate limit", () => {
    // docs.z.ai/api-reference/api-code; body as in zai-org/GLM-5#49.
    expect(http(429, JSON.stringify({ error: { code: "1113", message: "Insufficient balance or no resource package. Please recharge." } }))).toMatchObject({ class: "billing", code: "1113" });
    expect(http(429, JSON.stringify({ error: { code: "1302", message: "High concurrency usage of this API, please reduce concurrency" } }))).toMatchObject({ class: "rate_limit" });
  });

  test("MiniMax: base_resp business codes, on an HTTP 200 as MiniMax sends them, classify by code and carry the status they stand for", () => {
    // platform.minimax.io/docs/api-reference/errorcode (1000 unknown, 1001 timeout, 1002 rate limit, 1004 not authorized, 1008 balance, 1024 internal).
    const minimax = (code: number, message: string) => embedded({ id: "0", choices: null, base_resp: { status_code: code, status_msg: message } });
    expect(minimax(1002, "rate limit")).toMatchObject({ class: "rate_limit", status: 429, code: "1002", message: "rate limit" });
    expect(minimax(1004, "not authorized")).toMatchObject({ class: "invalid_key", status: 401 });
    expect(minimax(1008, "insufficient balance")).toMatchObject({ class: "billing", status: 402 });
    expect(minimax(1000, "unknown error")).toMatchObject({ class: "transient" });
    expect(minimax(1024, "internal error")).toMatchObject({ class: "transient" });
    expect(minimax(2013, "invalid params, tool call id is invalid")).toMatchObject({ class: "request", status: 400 });
    // The same numbers outside base_resp are another host's: MiniMax's meaning is not read into them.
    expect(http(400, JSON.stringify({ error: { code: "1008", message: "another host's business code" } }))).toMatchObject({ class: "request" });
  });

  test("a MiniMax 200 whose base_resp says success, or that has content, is an answer", () => {
    expect(embeddedErrorOf({ choices: [{ index: 0, message: { role: "assistant", content: "hi" } }], base_resp: { status_code: 0, status_msg: "" } }, new Headers())).toBeUndefined();
    expect(embeddedErrorOf({ choices: [], base_resp: { status_code: 1008, status_msg: "insufficient balance" } }, new Headers())).toMatchObject({ class: "billing" });
  });

  test("Novita and Jina: an empty balance is a 403 that is billing, not a dead key; Venice's is a 402", () => {
    expect(http(403, JSON.stringify({ code: 403, reason: "NOT_ENOUGH_BALANCE", message: "not enough balance", error: { code: "NOT_ENOUGH_BALANCE", message: "not enough balance" } }))).toMatchObject({ class: "billing" });
    expect(http(403, JSON.stringify({ detail: "[AUTHZ_INSUFFICIENT_BALANCE] insufficient balance", error: { code: "AUTHZ_INSUFFICIENT_BALANCE", message: "insufficient balance" } }))).toMatchObject({ class: "billing" });
    expect(http(402, JSON.stringify({ error: "Insufficient USD or Diem balance to complete request" }))).toMatchObject({ class: "billing" });
  });

  test("DashScope: Arrearage is billing, Throttling.RateQuota a rate limit", () => {
    // help.aliyun.com/en/model-studio/error-code
    expect(http(400, JSON.stringify({ error: { code: "Arrearage", type: "Arrearage", message: "Access denied, please make sure your account is in good standing." } }))).toMatchObject({ class: "billing" });
    expect(http(429, JSON.stringify({ error: { code: "Throttling.RateQuota", type: "Throttling.RateQuota", message: "Requests rate limit exceeded" } }))).toMatchObject({ class: "rate_limit" });
  });

  test("Cloudflare Workers AI: the v4 envelope is read; 3036 (daily allocation) is a quota, 3040 (out of capacity) transient", () => {
    // developers.cloudflare.com/workers-ai/platform/errors/
    const daily = http(429, JSON.stringify({ success: false, errors: [{ code: 3036, message: "Account limited: You have used up your daily free allocation of 10,000 neurons" }], messages: [] }));
    expect(daily).toMatchObject({ class: "quota", code: "3036", message: expect.stringContaining("daily free allocation") });
    expect(http(429, JSON.stringify({ success: false, errors: [{ code: 3040, message: "Out of capacity" }] }))).toMatchObject({ class: "transient", code: "3040" });
  });
});
