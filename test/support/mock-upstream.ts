/**
 * A scripted, OpenAI-compatible mock upstream for the proxy's end-to-end tests.
 *
 * It runs inside the test process (`Bun.serve` on 127.0.0.1, random port) and answers
 * `POST /v1/chat/completions` (stream and non-stream), `POST /v1/embeddings` and `GET /v1/models`.
 * Each API key can be given a script of behaviours (success, 429s, 401s, 5xx, hangs, resets,
 * mid-stream errors, malformed bodies …) so tests can drive rotation, cooling and failover.
 *
 * Every wire shape comes from the recorded fixtures in test/fixtures (see INDEX.md): success
 * bodies are the recorded responses with id/model/content/usage replaced, stream events keep the
 * recorded framing and fields (including `obfuscation`), and error bodies are served byte for byte.
 * The few bodies with no recording (INDEX.md "Known gaps") are built from the documented OpenAI
 * error envelope (providers.md 1.5): the transient 429 `rate_limit_exceeded`, the 5xx
 * `server_error` / `server_is_overloaded` bodies and the unknown-route 404. Each is marked where
 * it is built.
 *
 * Every request is recorded (key, path, parsed body, whether the client gave up), and the number
 * of requests still being served is observable so tests can assert that the proxy does not leak
 * upstream connections.
 */
import { fixtureStatus, readFixtureJson, readFixtureText, readSseJson } from "./fixtures.ts";
import { baseState, bearerToken, brokenStreamPieces, clientGone, connectionReset, estimateTokens, framedResponse, hang, nextBehavior, rawResponse, serveCall, serveMock, sleep, splitContent, type BaseState, type CommonBehavior, type FramedOptions, type Lifecycle, type MockHandle } from "./mock-core.ts";

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

export type Behavior =
  | {
      kind: "success";
      content?: string;
      /** Wait this long before sending anything (status line included). */
      delayMs?: number;
      /** Answer with the two recorded parallel tool calls instead of text. */
      toolCalls?: boolean;
      /** How many content chunks a stream splits `content` into (default 3). */
      chunks?: number;
      /** Pause between stream events. */
      chunkDelayMs?: number;
      usage?: { prompt: number; completion: number };
    }
  | {
      kind: "rate_limit";
      /** Sent as `retry-after` (seconds). */
      retryAfterSeconds?: number;
      /** Sent as `retry-after-ms`. */
      retryAfterMs?: number;
      /** Sent as `x-ratelimit-reset-requests` (Go-duration string, e.g. "2s"). */
      resetRequests?: string;
      /** No wait hint at all: no headers and no "Please try again in …" in the message. */
      noHint?: boolean;
    }
  | { kind: "insufficient_quota" }
  | { kind: "invalid_key" }
  | { kind: "server_error"; status?: 500 | 502 | 503 }
  | {
      kind: "bad_request";
      /** Path under test/fixtures; its status comes from the `error-NNN-` file name (else 400). */
      fixture?: string;
    }
  | { kind: "not_found" }
  | { kind: "reset_mid_stream"; afterChunks: number }
  | { kind: "error_mid_stream"; afterChunks: number }
  | { kind: "error_event_first" }
  | { kind: "malformed_json" }
  | CommonBehavior;

export interface RecordedCall {
  /** Bearer token ("" when the request had none). */
  key: string;
  /** Full request path, e.g. "/v1/chat/completions". */
  path: string;
  method: string;
  /** Parsed JSON body, or null when there was none or it was not JSON. */
  body: any;
  /** Arrival time (Date.now()). */
  at: number;
  /** The client went away (or the mock was stopped) before the answer was complete. */
  aborted: boolean;
}

/** Base URL http://127.0.0.1:PORT/v1; unscripted keys get `success`. */
export type MockUpstream = MockHandle<Behavior, RecordedCall>;

export interface MockUpstreamOptions {
  /** Model ids listed by GET /v1/models (default: the ids in the Cerebras recording). */
  models?: string[];
  /** A local server that ignores auth (Ollama, vLLM): a request with no key is served, not refused 401. */
  keyless?: boolean;
}

/** Reply text when a success behaviour names none. */
export const DEFAULT_CONTENT = "Hello from the mock upstream!";
/** Token counts reported when a success behaviour names none. */
export const DEFAULT_USAGE = { prompt: 10, completion: 5 } as const;
/** Content chunks per streamed reply when a success behaviour names none. */
export const DEFAULT_CHUNKS = 3;

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const state: MockState = { ...baseState(SUCCESS), models: options.models, keyless: options.keyless === true };
  return serveMock(state, { name: "mock upstream", basePath: "/v1", fetch: (request) => handleRequest(state, request) });
}

// ---------------------------------------------------------------------------------------------
// State and scripts
// ---------------------------------------------------------------------------------------------

type SuccessBehavior = Extract<Behavior, { kind: "success" }>;
type RateLimitBehavior = Extract<Behavior, { kind: "rate_limit" }>;

const SUCCESS: SuccessBehavior = { kind: "success" };

interface MockState extends BaseState<Behavior, RecordedCall> {
  models: string[] | undefined;
  keyless: boolean;
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

type Route = "chat" | "embeddings" | "models";

/** What a response builder needs to know about the request being answered. */
interface Exchange {
  route: Route;
  body: any;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  id: string;
  created: number;
  lifecycle: Lifecycle;
}

async function handleRequest(state: MockState, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const call: RecordedCall = {
    key: bearerToken(request) ?? "",
    path: url.pathname,
    method: request.method,
    body: null,
    at: Date.now(),
    aborted: false,
  };
  return serveCall(state, call, request, (_rawBody, lifecycle) => respond(state, call, lifecycle));
}

async function respond(state: MockState, call: RecordedCall, lifecycle: Lifecycle): Promise<Response> {
  // OpenAI checks the key before it looks at the route.
  if (call.key === "" && !state.keyless) return fixtureResponse(FIXTURE.invalidKey, 401);
  const route = routeOf(call.method, call.path);
  if (!route) return invalidUrl(call.method, call.path);
  const exchange = describeExchange(state, route, call.body, lifecycle);
  return answer(state, nextBehavior(state, call.key), exchange);
}

function routeOf(method: string, path: string): Route | undefined {
  if (method === "POST" && path === "/v1/chat/completions") return "chat";
  if (method === "POST" && path === "/v1/embeddings") return "embeddings";
  if (method === "GET" && path === "/v1/models") return "models";
  return undefined;
}

function describeExchange(state: MockState, route: Route, body: any, lifecycle: Lifecycle): Exchange {
  state.sequence += 1;
  const stream = route === "chat" && body?.stream === true;
  return {
    route,
    body,
    model: typeof body?.model === "string" ? body.model : "gpt-4o-mini",
    stream,
    includeUsage: stream && body?.stream_options?.include_usage === true,
    id: `chatcmpl-mock${String(state.sequence).padStart(6, "0")}`,
    created: Math.floor(Date.now() / 1000),
    lifecycle,
  };
}

// ---------------------------------------------------------------------------------------------
// Behaviours
// ---------------------------------------------------------------------------------------------

async function answer(state: MockState, behavior: Behavior, exchange: Exchange): Promise<Response> {
  switch (behavior.kind) {
    case "success":
      await sleep(behavior.delayMs ?? 0, exchange.lifecycle.signal);
      return success(state, behavior, exchange);
    case "slow":
      await sleep(behavior.firstByteMs, exchange.lifecycle.signal);
      return success(state, SUCCESS, exchange);
    case "rate_limit":
      return rateLimited(behavior, exchange);
    case "insufficient_quota":
      return fixtureResponse(FIXTURE.insufficientQuota, 429);
    case "invalid_key":
      return fixtureResponse(FIXTURE.invalidKey, 401);
    case "server_error":
      return serverError(behavior.status ?? 500);
    case "bad_request":
      return badRequest(behavior.fixture ?? FIXTURE.badRequest);
    case "not_found":
      return modelNotFound(exchange.model);
    case "hang":
      return hang(exchange.lifecycle.signal);
    case "reset_mid_stream":
      return exchange.stream
        ? sseResponse(textStreamPrefix(exchange, behavior.afterChunks), { ending: "reset" }, exchange.lifecycle)
        : connectionReset();
    case "error_mid_stream":
      return exchange.stream
        ? sseResponse([...textStreamPrefix(exchange, behavior.afterChunks), sseData(midStreamError(exchange)), SSE_DONE], {}, exchange.lifecycle)
        : errorIn200(midStreamError(exchange));
    case "error_event_first":
      return exchange.stream
        ? sseResponse([sseData(readFixtureJson(FIXTURE.streamRateLimit)), SSE_DONE], {}, exchange.lifecycle)
        : errorIn200(readFixtureJson(FIXTURE.streamRateLimit));
    case "malformed_json":
      return exchange.stream ? malformedStream(exchange) : malformedJson(state, exchange);
    case "raw":
      return rawResponse(behavior);
  }
}

function success(state: MockState, behavior: SuccessBehavior, exchange: Exchange): Response {
  if (exchange.lifecycle.signal.aborted) return clientGone();
  if (exchange.stream) {
    const events = behavior.toolCalls ? toolCallStream(behavior, exchange) : textStream(behavior, exchange);
    return sseResponse(events, { chunkDelayMs: behavior.chunkDelayMs }, exchange.lifecycle);
  }
  return jsonResponse(200, successBody(state, behavior, exchange));
}

/** The non-stream 200 body for any route, pretty-printed as the recordings are. */
function successBody(state: MockState, behavior: SuccessBehavior, exchange: Exchange): string {
  switch (exchange.route) {
    case "chat":
      return JSON.stringify(behavior.toolCalls ? toolCallCompletion(behavior, exchange) : textCompletion(behavior, exchange), null, 2);
    case "embeddings":
      return JSON.stringify(embeddingList(behavior, exchange), null, 2);
    case "models":
      return JSON.stringify(modelList(state.models), null, 2);
  }
}

// ---------------------------------------------------------------------------------------------
// Error responses
// ---------------------------------------------------------------------------------------------

const FIXTURE = {
  chatText: "openai/chat-text.json",
  chatToolCalls: "openai/chat-parallel-tool-calls.json",
  streamText: "openai/chat-stream-text.sse.txt",
  streamToolCalls: "openai/chat-stream-parallel-tool-calls.sse.txt",
  streamMidError: "openrouter/stream-midstream-error.sse.txt",
  streamRateLimit: "openrouter/error-429-upstream-rate-limited.json",
  embeddingsBatch: "openai/embeddings-batch-2-trimmed.json",
  embeddingsSingle: "openai/embeddings-single.json",
  models: "cerebras/models-list.json",
  insufficientQuota: "openai/error-429-insufficient-quota.json",
  invalidKey: "openai/error-401-invalid-api-key.json",
  badRequest: "openai/error-400-unsupported-parameter-max-tokens.json",
  modelNotFound: "openai/error-404-model-not-found.json",
} as const;

const JSON_HEADERS = { "content-type": "application/json" } as const;

function jsonResponse(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** A recorded body, byte for byte. */
function fixtureResponse(fixture: string, status: number): Response {
  return jsonResponse(status, readFixtureText(fixture));
}

function badRequest(fixture: string): Response {
  return fixtureResponse(fixture, fixtureStatus(fixture, 400));
}

/** The recorded 404, naming the model that was asked for (only the name changes). */
function modelNotFound(model: string): Response {
  const body = readFixtureText(FIXTURE.modelNotFound).replace("gpt-4.1-nano-wrong", model);
  return jsonResponse(404, body);
}

/**
 * Transient 429. No recording exists (INDEX.md "Known gaps"), so this is the documented OpenAI
 * envelope with the documented `rate_limit_exceeded` wording (providers.md 1.5 / Groq row),
 * 4-space indented like the recorded OpenAI error bodies.
 */
function rateLimited(behavior: RateLimitBehavior, exchange: Exchange): Response {
  const headers = rateLimitHeaders(behavior);
  const wait = behavior.noHint ? undefined : rateLimitWait(behavior);
  const hint = wait === undefined ? "" : ` Please try again in ${wait}.`;
  const message =
    `Rate limit reached for ${exchange.model} in organization org-mock on requests per min (RPM): ` +
    `Limit 3, Used 3, Requested 1.${hint} Visit https://platform.openai.com/account/rate-limits to learn more.`;
  const body = { error: { message, type: "requests", param: null, code: "rate_limit_exceeded" } };
  return jsonResponse(429, JSON.stringify(body, null, 4), headers);
}

/** With no hint option at all the mock still says `retry-after: 1`, as real 429s usually do. */
function rateLimitHeaders(behavior: RateLimitBehavior): Record<string, string> {
  if (behavior.noHint) return {};
  const headers: Record<string, string> = {};
  if (behavior.retryAfterSeconds !== undefined) headers["retry-after"] = String(behavior.retryAfterSeconds);
  if (behavior.retryAfterMs !== undefined) headers["retry-after-ms"] = String(behavior.retryAfterMs);
  if (behavior.resetRequests !== undefined) {
    headers["x-ratelimit-limit-requests"] = "3";
    headers["x-ratelimit-remaining-requests"] = "0";
    headers["x-ratelimit-reset-requests"] = behavior.resetRequests;
  }
  if (Object.keys(headers).length === 0) headers["retry-after"] = "1";
  return headers;
}

function rateLimitWait(behavior: RateLimitBehavior): string {
  if (behavior.retryAfterMs !== undefined) return `${behavior.retryAfterMs}ms`;
  if (behavior.retryAfterSeconds !== undefined) return `${behavior.retryAfterSeconds}s`;
  return behavior.resetRequests ?? "1s";
}

/**
 * 5xx bodies. No recording exists; these follow providers.md 1.5 (500 `server_error`, 503
 * `service_unavailable_error` / `server_is_overloaded`, wording as OpenAI sends it). Real 502s
 * are often a Cloudflare HTML page; use the `raw` behaviour to model that.
 */
function serverError(status: 500 | 502 | 503): Response {
  const error =
    status === 503
      ? { message: "Our servers are currently overloaded. Please try again later.", type: "service_unavailable_error", param: null, code: "server_is_overloaded" }
      : status === 502
        ? { message: "Bad gateway.", type: "server_error", param: null, code: null }
        : { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", param: null, code: null };
  return jsonResponse(status, JSON.stringify({ error }, null, 4));
}

/** OpenAI's answer for an unknown route; not recorded, kept to the standard envelope. */
function invalidUrl(method: string, path: string): Response {
  const error = { message: `Invalid URL (${method} ${path})`, type: "invalid_request_error", param: null, code: null };
  return jsonResponse(404, JSON.stringify({ error }, null, 4));
}

/**
 * Non-stream form of the in-stream error behaviours: HTTP 200 whose JSON body carries the error,
 * which is how OpenRouter reports failures that happen after it has started processing.
 */
function errorIn200(body: unknown): Response {
  return jsonResponse(200, JSON.stringify(body));
}

function malformedJson(state: MockState, exchange: Exchange): Response {
  const body = successBody(state, SUCCESS, exchange);
  return jsonResponse(200, body.slice(0, Math.floor(body.length / 2)));
}

// ---------------------------------------------------------------------------------------------
// Non-stream bodies (recorded templates, values replaced)
// ---------------------------------------------------------------------------------------------

export interface Usage {
  prompt: number;
  completion: number;
}

function usageOf(behavior: { usage?: Usage }): Usage {
  return behavior.usage ?? DEFAULT_USAGE;
}

/** Overwrite the token counts of a recorded usage object, keeping its detail fields. */
export function withUsage(recorded: any, usage: Usage): any {
  recorded.prompt_tokens = usage.prompt;
  recorded.completion_tokens = usage.completion;
  recorded.total_tokens = usage.prompt + usage.completion;
  return recorded;
}

function stamp(body: any, exchange: Exchange): any {
  body.id = exchange.id;
  body.created = exchange.created;
  body.model = exchange.model;
  return body;
}

function textCompletion(behavior: SuccessBehavior, exchange: Exchange): any {
  const body = stamp(readFixtureJson(FIXTURE.chatText), exchange);
  body.choices[0].message.content = behavior.content ?? DEFAULT_CONTENT;
  withUsage(body.usage, usageOf(behavior));
  return body;
}

function toolCallCompletion(behavior: SuccessBehavior, exchange: Exchange): any {
  const body = stamp(readFixtureJson(FIXTURE.chatToolCalls), exchange);
  withUsage(body.usage, usageOf(behavior));
  return body;
}

/** One embedding per input, in the recorded list shape; `base64` encoding is honoured. */
function embeddingList(behavior: SuccessBehavior, exchange: Exchange): any {
  const inputs = embeddingInputs(exchange.body?.input);
  // A single string gets the single-input recording (full 1536-dim vector), like the real API.
  const single = typeof exchange.body?.input === "string";
  const body = readFixtureJson(single ? FIXTURE.embeddingsSingle : FIXTURE.embeddingsBatch);
  const recorded: any[] = body.data;
  const base64 = exchange.body?.encoding_format === "base64";
  body.data = inputs.map((_, index) => {
    const item = structuredClone(recorded[index % recorded.length]);
    item.index = index;
    if (base64) item.embedding = floatsToBase64(item.embedding);
    return item;
  });
  body.model = exchange.model;
  const prompt = behavior.usage?.prompt ?? inputs.reduce((sum, input) => sum + inputTokens(input), 0);
  body.usage.prompt_tokens = prompt;
  body.usage.total_tokens = prompt;
  return body;
}

/** `input` may be a string, strings, token ids, or arrays of token ids. */
function embeddingInputs(input: unknown): (string | number[])[] {
  if (typeof input === "string") return [input];
  if (!Array.isArray(input)) return [];
  if (input.every((x) => typeof x === "number")) return [input as number[]];
  return input as (string | number[])[];
}

/** Token ids count one each; text is estimated like every mock's. */
function inputTokens(input: string | number[]): number {
  return Array.isArray(input) ? input.length : estimateTokens(input);
}

function floatsToBase64(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString("base64");
}

function modelList(models: string[] | undefined): any {
  const body = readFixtureJson(FIXTURE.models);
  if (models) {
    const template = body.data[0];
    body.data = models.map((id) => ({ ...template, id }));
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// Streams (recorded chunk templates, values replaced)
// ---------------------------------------------------------------------------------------------

const SSE_DONE = "data: [DONE]\n\n";
const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" } as const;

function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

function sseResponse(frames: string[], options: FramedOptions, lifecycle: Lifecycle): Response {
  return framedResponse(frames, SSE_HEADERS, options, lifecycle);
}

/** The recorded text-stream chunks this mock reuses: role opener, one content delta, the stop. */
function textStreamTemplates(): { role: any; content: any; finish: any } {
  const chunks = readSseJson(FIXTURE.streamText);
  return { role: chunks[0], content: chunks[1], finish: chunks[chunks.length - 1] };
}

/**
 * Place `usage` as OpenAI does: with `include_usage` every chunk carries `usage: null` (just before
 * `choices`, as in the tool-call recording); without it the field is absent (the text recording).
 */
function placeUsageField(chunk: any, includeUsage: boolean): any {
  if (!includeUsage) {
    delete chunk.usage;
    return chunk;
  }
  if ("usage" in chunk) return chunk;
  const placed: any = {};
  for (const [key, value] of Object.entries(chunk)) {
    if (key === "choices") placed.usage = null;
    placed[key] = value;
  }
  return placed;
}

function streamChunk(template: any, exchange: Exchange, fingerprint: unknown): any {
  const chunk = stamp(structuredClone(template), exchange);
  chunk.system_fingerprint = fingerprint;
  return placeUsageField(chunk, exchange.includeUsage);
}

/** The closing `choices: []` usage chunk, from the tool-call recording. */
function usageChunk(exchange: Exchange, fingerprint: unknown, usage: Usage): any {
  const chunks = readSseJson(FIXTURE.streamToolCalls);
  const chunk = stamp(chunks[chunks.length - 1], exchange);
  chunk.system_fingerprint = fingerprint;
  withUsage(chunk.usage, usage);
  return chunk;
}

function textStream(behavior: SuccessBehavior, exchange: Exchange): string[] {
  const templates = textStreamTemplates();
  const fingerprint = templates.role.system_fingerprint;
  const pieces = splitContent(behavior.content ?? DEFAULT_CONTENT, behavior.chunks ?? DEFAULT_CHUNKS);
  const frames = [sseData(streamChunk(templates.role, exchange, fingerprint))];
  for (const piece of pieces) frames.push(sseData(contentChunk(templates.content, piece, exchange, fingerprint)));
  frames.push(sseData(streamChunk(templates.finish, exchange, fingerprint)));
  if (exchange.includeUsage) frames.push(sseData(usageChunk(exchange, fingerprint, usageOf(behavior))));
  frames.push(SSE_DONE);
  return frames;
}

function contentChunk(template: any, piece: string, exchange: Exchange, fingerprint: unknown): any {
  const chunk = streamChunk(template, exchange, fingerprint);
  chunk.choices[0].delta.content = piece;
  return chunk;
}

/** The role opener plus `afterChunks` non-empty content deltas, for the behaviours that break a stream part-way. */
function textStreamPrefix(exchange: Exchange, afterChunks: number): string[] {
  const templates = textStreamTemplates();
  const fingerprint = templates.role.system_fingerprint;
  const { pieces } = brokenStreamPieces(DEFAULT_CONTENT, afterChunks, DEFAULT_CHUNKS);
  return [
    sseData(streamChunk(templates.role, exchange, fingerprint)),
    ...pieces.map((piece) => sseData(contentChunk(templates.content, piece, exchange, fingerprint))),
  ];
}

/** The recorded tool-call stream, replayed with this exchange's id/model/created. */
function toolCallStream(behavior: SuccessBehavior, exchange: Exchange): string[] {
  const chunks = readSseJson(FIXTURE.streamToolCalls);
  const usageTemplate = chunks.pop();
  const fingerprint = usageTemplate.system_fingerprint;
  const frames = chunks.map((chunk) => sseData(streamChunk(chunk, exchange, fingerprint)));
  if (exchange.includeUsage) frames.push(sseData(usageChunk(exchange, fingerprint, usageOf(behavior))));
  frames.push(SSE_DONE);
  return frames;
}

/** The recorded OpenRouter in-stream error chunk (top-level `error` beside `choices`). */
function midStreamError(exchange: Exchange): any {
  const recorded = readSseJson(FIXTURE.streamMidError).find((chunk) => chunk.error !== undefined);
  return stamp(recorded, exchange);
}

/** A stream whose first event is a `data:` line that is not JSON (a chunk cut in half). */
function malformedStream(exchange: Exchange): Response {
  const templates = textStreamTemplates();
  const json = JSON.stringify(streamChunk(templates.role, exchange, templates.role.system_fingerprint));
  return sseResponse([`data: ${json.slice(0, Math.floor(json.length / 2))}\n\n`, SSE_DONE], {}, exchange.lifecycle);
}
