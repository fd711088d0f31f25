/**
 * A scripted mock of the Anthropic API for the Anthropic provider's tests.
 *
 * It runs inside the test process (`Bun.serve` on 127.0.0.1, random port) and speaks the native
 * wire format (providers.md 4.1–4.6): `POST /v1/messages` (JSON, or SSE with `stream: true`),
 * `POST /v1/messages/count_tokens`, and the paginated `GET /v1/models` (plus `GET /v1/models/{id}`).
 * Each API key can be given a script of behaviours (answers, thinking, tool use, 429s, 529s,
 * invalid keys, empty credit balances, refusals, hangs, resets, broken streams …) so tests can drive
 * rotation, cooling and failover exactly as they do with mock-upstream.ts and mock-gemini.ts.
 *
 * Wire shapes come from the recorded fixtures in test/fixtures/anthropic (see INDEX.md): message
 * bodies follow anthropic/text.json, streams follow anthropic/stream-text.sse.txt and friends
 * (`event: <name>\ndata: <json>\n\n`, a `ping` right after the first content_block_start, an empty
 * thinking_delta before the signature_delta, an empty input_json_delta first, spaces padded before
 * the last `}` of each data line as Anthropic serves them), and recorded error bodies are served as
 * recorded. Bodies with no recording (INDEX.md "Known gaps") are built from providers.md 4.4/4.5
 * and the real messages quoted in public issues, and are marked where they are built: 401
 * authentication_error, 429 rate_limit_error and its headers, the credit-balance 400, the request
 * validation 400s, the model list and the unknown-route 404.
 *
 * The key is read from `x-api-key` or, failing that, `Authorization: Bearer`; which one was used is
 * recorded. `anthropic-version` is required, as the real API requires it.
 *
 * Every request is recorded (key, auth header, version, path, parsed body, whether the client gave
 * up), and the number of requests still being served is observable so tests can assert that the
 * proxy does not leak upstream connections.
 */
import { fixtureStatus, readChunkLines, readFixtureJson, readFixtureText, readSseJson, readChunksJson } from "./fixtures.ts";
import { baseState, bearerToken, brokenStreamPieces, clientGone, connectionReset, estimateTokens, framedResponse, hang, mockMisuse, nextBehavior, pageSize, rawResponse, serveCall, serveMock, sleep, splitContent, splitFrames, type BaseState, type CommonBehavior, type FramedOptions, type Lifecycle, type MockHandle } from "./mock-core.ts";

export { estimateTokens } from "./mock-core.ts";

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** Token counts a success should report instead of the mock's estimates. */
export interface AnthropicUsageOverride {
  /** `input_tokens` (which, as on the real API, excludes cache reads and writes). */
  input?: number;
  output?: number;
  cacheRead?: number;
  /** `cache_creation_input_tokens`, reported as 5-minute ephemeral writes. */
  cacheCreation?: number;
}

export interface ToolCallSpec {
  name: string;
  input: Record<string, unknown>;
}

export type TextStopReason = "end_turn" | "max_tokens" | "stop_sequence" | "model_context_window_exceeded";

export type AnthropicBehavior =
  | {
      kind: "text";
      text?: string;
      /** How many text_delta events a stream splits the text into (default 3). */
      chunks?: number;
      /** Pause between stream events. */
      chunkDelayMs?: number;
      /** Default end_turn; stop_sequence reports the request's first `stop_sequences` entry. */
      stopReason?: TextStopReason;
      usage?: AnthropicUsageOverride;
    }
  | {
      kind: "thinking";
      thinking?: string;
      /** Default: the recorded signature of anthropic/stream-thinking.sse.txt. */
      signature?: string;
      text?: string;
      /** thinking_delta and text_delta events each (default 3). */
      chunks?: number;
      chunkDelayMs?: number;
      usage?: AnthropicUsageOverride;
    }
  | {
      kind: "tool_use";
      /** Default: the recorded `searchDocs({query:"alpha"})` call (tool-use-input-json-delta.chunks.txt). */
      calls?: ToolCallSpec[];
      /** A signed thinking block before the calls, as with extended thinking. */
      withThinking?: boolean;
      chunkDelayMs?: number;
      usage?: AnthropicUsageOverride;
    }
  | {
      kind: "fixture";
      /**
       * Path under test/fixtures. `.json` is served as-is (status from an `error-NNN-` name, else
       * 200; a 200 message on a stream request is streamed the way the mock streams its own
       * messages); `.sse.txt` is replayed byte for byte, one flush per event; `.chunks.txt` lines
       * are framed as `event: <type>\ndata: <line>\n\n`. Stream recordings need a stream request.
       */
      file: string;
      chunkDelayMs?: number;
    }
  | { kind: "rate_limit"; retryAfterSeconds?: number }
  | { kind: "overloaded" }
  | { kind: "invalid_key" }
  | { kind: "credit_balance" }
  | {
      kind: "bad_request";
      /** Path under test/fixtures; its status comes from the `error-NNN-` file name (else 400). */
      fixture?: string;
    }
  | { kind: "error_mid_stream"; afterChunks?: number }
  | { kind: "error_first_event" }
  | { kind: "refusal" }
  | { kind: "reset_mid_stream"; afterChunks: number }
  | CommonBehavior;

export interface RecordedAnthropicCall {
  /** The key from `x-api-key`, else from `Authorization: Bearer` ("" when the request had neither). */
  key: string;
  /** Which header the key came from (null when there was none). */
  authHeader: "x-api-key" | "authorization" | null;
  /** The `anthropic-version` header (null when missing). */
  anthropicVersion: string | null;
  /** The `anthropic-beta` header (null when missing), so tests can check what the proxy forwards. */
  anthropicBeta: string | null;
  /** Request path without the query, e.g. "/v1/messages". */
  path: string;
  /** The raw query string including "?" ("" when none), e.g. "?limit=2&after_id=…". */
  query: string;
  method: string;
  /** Parsed JSON body, or null when there was none or it was not JSON. */
  body: any;
  /** A `POST /v1/messages` with `"stream": true`. */
  stream: boolean;
  /** Arrival time (Date.now()). */
  at: number;
  /** The client went away (or the mock was stopped) before the answer was complete. */
  aborted: boolean;
}

/** A `GET /v1/models` entry; a missing display name or date is derived from the id. */
export interface AnthropicModelEntry {
  id: string;
  display_name?: string;
  /** RFC 3339, e.g. "2025-09-29T00:00:00Z". */
  created_at?: string;
}

export interface MockAnthropicOptions {
  /** Listed by GET /v1/models, newest first as the real API lists them (default DEFAULT_MODELS). */
  models?: AnthropicModelEntry[];
  /** Most entries per list page (default DEFAULT_PAGE_SIZE); a smaller `limit` query wins. */
  pageSize?: number;
  /** When set, any other key gets the 401 "invalid x-api-key" (without consuming a script). */
  knownKeys?: string[];
  /** Pad data lines before their last `}` as Anthropic does (default true). */
  padding?: boolean;
}

/** Base URL http://127.0.0.1:PORT/v1; unscripted keys get `text`. */
export type MockAnthropic = MockHandle<AnthropicBehavior, RecordedAnthropicCall>;

const FIXTURE = {
  text: "anthropic/text.json",
  streamText: "anthropic/stream-text.sse.txt",
  streamThinking: "anthropic/stream-thinking.sse.txt",
  toolUse: "anthropic/tool-use-input-json-delta.chunks.txt",
  refusal: "anthropic/refusal-stop-details.chunks.txt",
  streamMidError: "anthropic/stream-midstream-overloaded-error.sse.txt",
  overloaded: "anthropic/error-529-overloaded.json",
  badRequest: "anthropic/error-400-tool-result-without-tool-use.json",
  notFoundModel: "anthropic/error-404-not-found-model.json",
} as const;

/** Reply text when a behaviour names none. */
export const DEFAULT_TEXT = "Hello from the mock Anthropic!";
/** Thinking text when a thinking behaviour names none. */
export const DEFAULT_THINKING = "The user wants a short greeting. I should answer briefly and politely.";
/** text_delta (and thinking_delta) events per streamed block when a behaviour names none. */
export const DEFAULT_CHUNKS = 3;
/** Entries per model-list page: small, so tests prove the proxy follows `has_more` / `last_id`. */
export const DEFAULT_PAGE_SIZE = 2;
/** `retry-after` of a rate_limit behaviour that names none. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;
/** The `anthropic-ratelimit-requests-limit` a 429 reports. */
export const RATE_LIMIT_REQUESTS_PER_MINUTE = 50;
/** The out-of-credit message, as quoted in anthropics/claude-code#4684 (providers.md 4.4). */
export const CREDIT_BALANCE_MESSAGE =
  "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.";
/** The recorded signature of the thinking block in anthropic/stream-thinking.sse.txt. */
export const DEFAULT_SIGNATURE: string = readSseJson(FIXTURE.streamThinking).find((e) => e.delta?.type === "signature_delta")!.delta.signature;
/** The recorded call in anthropic/tool-use-input-json-delta.chunks.txt. */
export const DEFAULT_CALLS: readonly ToolCallSpec[] = [recordedToolCall()];
/**
 * Listed by default, newest first. No model list was recorded (INDEX.md "Known gaps"); these are
 * the ids the recordings were made with plus Opus 4.1, with Anthropic's display names and dates.
 */
export const DEFAULT_MODELS: readonly Required<AnthropicModelEntry>[] = [
  { id: "claude-haiku-4-5-20251001", display_name: "Claude Haiku 4.5", created_at: "2025-10-01T00:00:00Z" },
  { id: "claude-sonnet-4-5-20250929", display_name: "Claude Sonnet 4.5", created_at: "2025-09-29T00:00:00Z" },
  { id: "claude-opus-4-1-20250805", display_name: "Claude Opus 4.1", created_at: "2025-08-05T00:00:00Z" },
  { id: "claude-sonnet-4-20250514", display_name: "Claude Sonnet 4", created_at: "2025-05-14T00:00:00Z" },
  { id: "claude-3-haiku-20240307", display_name: "Claude Haiku 3", created_at: "2024-03-07T00:00:00Z" },
];

/**
 * The mock's `input_tokens` for a messages or count_tokens body: estimateTokens over every text the
 * request carries, joined with "\n" — the system prompt, text and thinking blocks, tool_use blocks
 * (name + JSON input), tool_result contents and tool definitions (as JSON). Images and documents
 * are not counted. count_tokens and the usage of /messages use the same number, as they agree on
 * the real API.
 */
export function estimateInputTokens(body: any): number {
  const texts: string[] = [];
  if (typeof body?.system === "string") texts.push(body.system);
  else collectBlockTexts(body?.system, texts);
  if (Array.isArray(body?.messages)) {
    for (const message of body.messages) {
      if (typeof message?.content === "string") texts.push(message.content);
      else collectBlockTexts(message?.content, texts);
    }
  }
  if (Array.isArray(body?.tools)) for (const tool of body.tools) texts.push(JSON.stringify(tool));
  return estimateTokens(texts.join("\n"));
}

function collectBlockTexts(blocks: unknown, texts: string[]): void {
  if (!Array.isArray(blocks)) return;
  for (const block of blocks) {
    if (typeof block?.text === "string") texts.push(block.text);
    else if (typeof block?.thinking === "string") texts.push(block.thinking);
    else if (block?.type === "tool_use") texts.push(`${block.name}${JSON.stringify(block.input ?? {})}`);
    else if (block?.type === "tool_result") {
      if (typeof block.content === "string") texts.push(block.content);
      else collectBlockTexts(block.content, texts);
    }
  }
}

export async function startMockAnthropic(options: MockAnthropicOptions = {}): Promise<MockAnthropic> {
  const state: MockState = {
    ...baseState(TEXT),
    models: listedModels(options.models),
    pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
    knownKeys: options.knownKeys ? new Set(options.knownKeys) : undefined,
    padding: options.padding ?? true,
  };
  return serveMock(state, { name: "mock anthropic", basePath: "/v1", fetch: (request) => handleRequest(state, request) });
}

// ---------------------------------------------------------------------------------------------
// State and scripts
// ---------------------------------------------------------------------------------------------

type TextBehavior = Extract<AnthropicBehavior, { kind: "text" }>;
type ThinkingBehavior = Extract<AnthropicBehavior, { kind: "thinking" }>;
type ToolUseBehavior = Extract<AnthropicBehavior, { kind: "tool_use" }>;

const TEXT: TextBehavior = { kind: "text" };

interface MockState extends BaseState<AnthropicBehavior, RecordedAnthropicCall> {
  models: Required<AnthropicModelEntry>[];
  pageSize: number;
  knownKeys: Set<string> | undefined;
  padding: boolean;
}

// ---------------------------------------------------------------------------------------------
// Routing, auth and validation
// ---------------------------------------------------------------------------------------------

type Route = { kind: "messages" } | { kind: "count_tokens" } | { kind: "models" } | { kind: "model"; id: string };

/** What a response builder needs to know about the request being answered. */
interface Exchange {
  route: Route;
  body: any;
  /** The requested model, echoed in every message. */
  model: string;
  stream: boolean;
  params: URLSearchParams;
  /** Distinct per response: `msg_…`, `toolu_…` and `req_…` ids are derived from it. */
  serial: string;
  requestId: string;
  lifecycle: Lifecycle;
}

async function handleRequest(state: MockState, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const route = routeOf(request.method, url.pathname);
  const auth = keyOf(request);
  const call: RecordedAnthropicCall = {
    key: auth.key,
    authHeader: auth.header,
    anthropicVersion: request.headers.get("anthropic-version"),
    anthropicBeta: request.headers.get("anthropic-beta"),
    path: url.pathname,
    query: url.search,
    method: request.method,
    body: null,
    stream: false,
    at: Date.now(),
    aborted: false,
  };
  return serveCall(state, call, request, (rawBody, lifecycle) => {
    call.stream = route?.kind === "messages" && call.body?.stream === true;
    return respond(state, call, route, rawBody, url.searchParams, lifecycle);
  });
}

function routeOf(method: string, path: string): Route | undefined {
  if (method === "POST" && path === "/v1/messages") return { kind: "messages" };
  if (method === "POST" && path === "/v1/messages/count_tokens") return { kind: "count_tokens" };
  if (method === "GET" && path === "/v1/models") return { kind: "models" };
  const model = /^\/v1\/models\/([^/]+)$/.exec(path);
  if (method === "GET" && model) return { kind: "model", id: decodeURIComponent(model[1]!) };
  return undefined;
}

/** `x-api-key` wins over `Authorization: Bearer` when both are sent; anything else is no key. */
function keyOf(request: Request): { key: string; header: RecordedAnthropicCall["authHeader"] } {
  const apiKey = request.headers.get("x-api-key");
  if (apiKey) return { key: apiKey, header: "x-api-key" };
  const bearer = bearerToken(request);
  if (bearer) return { key: bearer, header: "authorization" };
  return { key: "", header: null };
}

/**
 * Checks run in this order, none consuming a script: route (an unknown URL is a 404 even without a
 * key, as a browser visit to api.anthropic.com/v1/ shows), key, anthropic-version, body. Only
 * then does the key's script decide the answer.
 */
async function respond(
  state: MockState,
  call: RecordedAnthropicCall,
  route: Route | undefined,
  rawBody: string,
  params: URLSearchParams,
  lifecycle: Lifecycle,
): Promise<Response> {
  state.sequence += 1;
  const serial = String(state.sequence).padStart(12, "0");
  const requestId = `req_011CMock${serial}`;
  if (!route) return notFoundRoute(requestId);
  if (call.key === "") return authenticationError("x-api-key header is required", requestId);
  if (state.knownKeys && !state.knownKeys.has(call.key)) return authenticationError("invalid x-api-key", requestId);
  if (call.anthropicVersion === null) return invalidRequest("anthropic-version: header is required", requestId);
  const invalid = validateBody(route, rawBody, call.body);
  if (invalid) return invalidRequest(invalid, requestId);
  const exchange: Exchange = {
    route,
    body: call.body,
    model: typeof call.body?.model === "string" ? call.body.model : "",
    stream: call.stream,
    params,
    serial,
    requestId,
    lifecycle,
  };
  return answer(state, nextBehavior(state, call.key), exchange);
}

/**
 * The request-shape 400s. "max_tokens: Field required" is the real message (quoted in
 * tickernelz/opencode-mem#50); the other fields follow the same `<field>: <problem>` pattern.
 */
function validateBody(route: Route, rawBody: string, body: any): string | undefined {
  if (route.kind !== "messages" && route.kind !== "count_tokens") return undefined;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return rawBody.trim() === "" ? "mock anthropic: request body is required" : "mock anthropic: request body is not a JSON object";
  }
  if (typeof body.model !== "string") return "model: Field required";
  if (!Array.isArray(body.messages)) return "messages: Field required";
  if (route.kind === "messages") {
    if (body.max_tokens === undefined) return "max_tokens: Field required";
    if (!Number.isInteger(body.max_tokens) || body.max_tokens < 0) return "max_tokens: Input should be a valid integer";
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Behaviours
// ---------------------------------------------------------------------------------------------

async function answer(state: MockState, behavior: AnthropicBehavior, exchange: Exchange): Promise<Response> {
  switch (behavior.kind) {
    case "text":
    case "thinking":
    case "tool_use":
    case "refusal":
      return success(state, behavior, exchange);
    case "slow":
      await sleep(behavior.firstByteMs, exchange.lifecycle.signal);
      return success(state, TEXT, exchange);
    case "fixture":
      return replayFixture(state, behavior.file, behavior.chunkDelayMs, exchange);
    case "rate_limit":
      return rateLimited(behavior.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS, exchange.requestId);
    case "overloaded":
      return overloaded(exchange.requestId);
    case "invalid_key":
      return authenticationError("invalid x-api-key", exchange.requestId);
    case "credit_balance":
      return invalidRequest(CREDIT_BALANCE_MESSAGE, exchange.requestId);
    case "bad_request": {
      const fixture = behavior.fixture ?? FIXTURE.badRequest;
      return jsonResponse(fixtureStatus(fixture, 400), readFixtureText(fixture), exchange.requestId);
    }
    case "error_mid_stream":
      return exchange.stream
        ? sseResponse([...textPrefixFrames(state, exchange, behavior.afterChunks ?? 1), recordedErrorFrame()], {}, exchange)
        : overloaded(exchange.requestId);
    case "error_first_event":
      return exchange.stream ? sseResponse([recordedErrorFrame()], {}, exchange) : overloaded(exchange.requestId);
    case "hang":
      return hang(exchange.lifecycle.signal);
    case "reset_mid_stream":
      return exchange.stream
        ? sseResponse(textPrefixFrames(state, exchange, behavior.afterChunks), { ending: "reset" }, exchange)
        : connectionReset();
    case "raw":
      return rawResponse(behavior);
  }
}

/**
 * The 200 answer of the route. Message behaviours only shape /v1/messages; on count_tokens and the
 * model routes any of them means "answer normally".
 */
function success(
  state: MockState,
  behavior: TextBehavior | ThinkingBehavior | ToolUseBehavior | { kind: "refusal" },
  exchange: Exchange,
): Response {
  if (exchange.lifecycle.signal.aborted) return clientGone();
  if (exchange.route.kind !== "messages") return nonMessageAnswer(state, exchange);
  const plan = planMessage(behavior, exchange);
  if (!exchange.stream) return jsonResponse(200, JSON.stringify(plan.message), exchange.requestId);
  const chunkDelayMs = behavior.kind === "refusal" ? undefined : behavior.chunkDelayMs;
  return sseResponse(messageFrames(state, plan.message, plan.chunks), { chunkDelayMs }, exchange);
}

function nonMessageAnswer(state: MockState, exchange: Exchange): Response {
  switch (exchange.route.kind) {
    case "count_tokens":
      return jsonResponse(200, JSON.stringify({ input_tokens: estimateInputTokens(exchange.body) }), exchange.requestId);
    case "models":
      return modelPage(state, exchange);
    case "model":
      return singleModel(state, exchange.route.id, exchange.requestId);
    case "messages":
      throw new Error("unreachable: messages are answered by success()");
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------

/** Anthropic serves compact JSON and tags every response with `request-id`. */
function jsonResponse(status: number, body: string, requestId: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "application/json", "request-id": requestId, ...headers } });
}


// ---------------------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------------------

/** Anthropic's error envelope (providers.md 4.4), with the request id last as the API sends it. */
function errorBody(type: string, message: string, requestId: string): string {
  return JSON.stringify({ type: "error", error: { type, message }, request_id: requestId });
}

/**
 * 401. No recording exists (INDEX.md "Known gaps"); the body follows providers.md 4.4 with the real
 * messages: "invalid x-api-key" for a bad key (quoted in many issues, e.g.
 * ITSpecialist111/ai_automation_suggester#153) and "x-api-key header is required" for none
 * (n8n-io/n8n#37930). A bad Bearer token gets the same body.
 */
function authenticationError(message: string, requestId: string): Response {
  return jsonResponse(401, errorBody("authentication_error", message, requestId), requestId);
}

/**
 * 400 invalid_request_error with a built message: the missing-version, validation and
 * credit-balance errors. Not recorded; envelope per providers.md 4.4, messages as quoted there and
 * in PipedreamHQ/pipedream#9697 ("anthropic-version: header is required").
 */
function invalidRequest(message: string, requestId: string): Response {
  return jsonResponse(400, errorBody("invalid_request_error", message, requestId), requestId);
}

/** The recorded 529 body (a vercel/ai test literal, INDEX.md), byte for byte. */
function overloaded(requestId: string): Response {
  return jsonResponse(529, readFixtureText(FIXTURE.overloaded), requestId);
}

/**
 * 429. No recording exists (INDEX.md "Known gaps"). The message is the real one (bhouston/mycoder#62,
 * stackblitz/bolt.new#8589) with a request-per-minute limit, and the headers follow providers.md
 * 4.5: `retry-after` in seconds and `anthropic-ratelimit-requests-*` with an RFC 3339 reset,
 * whole seconds as in the tidyllm capture quoted there.
 */
function rateLimited(retryAfterSeconds: number, requestId: string): Response {
  const message =
    `This request would exceed the rate limit for your organization (00000000-0000-4000-8000-000000000000) of ` +
    `${RATE_LIMIT_REQUESTS_PER_MINUTE} requests per minute. For details, refer to: https://docs.anthropic.com/en/api/rate-limits. ` +
    `You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, ` +
    `or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options ` +
    `for a rate limit increase.`;
  const headers = {
    "retry-after": String(retryAfterSeconds),
    "anthropic-ratelimit-requests-limit": String(RATE_LIMIT_REQUESTS_PER_MINUTE),
    "anthropic-ratelimit-requests-remaining": "0",
    "anthropic-ratelimit-requests-reset": rfc3339Seconds(Date.now() + retryAfterSeconds * 1000),
  };
  return jsonResponse(429, errorBody("rate_limit_error", message, requestId), requestId, headers);
}

/** "2025-08-21T12:40:59Z": rounded up to the whole second, so the reset is never early. */
function rfc3339Seconds(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** An unknown URL. Not recorded: the standard envelope with not_found_error "Not Found". */
function notFoundRoute(requestId: string): Response {
  return jsonResponse(404, errorBody("not_found_error", "Not Found", requestId), requestId);
}

/** The recorded 404 for an unknown model, naming the model asked for (only the name changes). */
function modelNotFound(id: string, requestId: string): Response {
  const body = readFixtureJson(FIXTURE.notFoundModel);
  body.error.message = `model: ${id}`;
  body.request_id = requestId;
  return jsonResponse(404, JSON.stringify(body), requestId);
}

// ---------------------------------------------------------------------------------------------
// Messages (the shape of anthropic/text.json, values replaced)
// ---------------------------------------------------------------------------------------------

interface Tokens {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

interface MessagePlan {
  message: any;
  /** Delta events per text/thinking block when streamed. */
  chunks: number;
}

function planMessage(
  behavior: TextBehavior | ThinkingBehavior | ToolUseBehavior | { kind: "refusal" },
  exchange: Exchange,
): MessagePlan {
  switch (behavior.kind) {
    case "text": {
      const text = behavior.text ?? DEFAULT_TEXT;
      const stopReason = behavior.stopReason ?? "end_turn";
      const stopSequence = stopReason === "stop_sequence" ? (exchange.body.stop_sequences?.[0] ?? null) : null;
      const tokens = tokensFor(exchange, behavior.usage, estimateTokens(text));
      const message = buildMessage(exchange, [{ type: "text", text }], stopReason, tokens, { stopSequence });
      return { message, chunks: behavior.chunks ?? DEFAULT_CHUNKS };
    }
    case "thinking": {
      const thinking = thinkingBlock(behavior.thinking, behavior.signature);
      const text = behavior.text ?? DEFAULT_TEXT;
      const tokens = tokensFor(exchange, behavior.usage, estimateTokens(thinking.thinking) + estimateTokens(text));
      const message = buildMessage(exchange, [thinking, { type: "text", text }], "end_turn", tokens);
      return { message, chunks: behavior.chunks ?? DEFAULT_CHUNKS };
    }
    case "tool_use":
      return { message: toolUseMessage(behavior, exchange), chunks: DEFAULT_CHUNKS };
    case "refusal":
      return { message: refusalMessage(exchange), chunks: DEFAULT_CHUNKS };
  }
}

function thinkingBlock(thinking: string | undefined, signature: string | undefined): { type: "thinking"; thinking: string; signature: string } {
  return { type: "thinking", thinking: thinking ?? DEFAULT_THINKING, signature: signature ?? DEFAULT_SIGNATURE };
}

function toolUseMessage(behavior: ToolUseBehavior, exchange: Exchange): any {
  const calls = behavior.calls ?? DEFAULT_CALLS;
  const blocks: any[] = calls.map((call, index) => ({
    type: "tool_use",
    id: `toolu_01Mock${exchange.serial}${String(index).padStart(2, "0")}`,
    name: call.name,
    input: call.input,
  }));
  let output = calls.reduce((sum, call) => sum + estimateTokens(call.name + pythonJson(call.input)), 0);
  if (behavior.withThinking) {
    const thinking = thinkingBlock(undefined, undefined);
    blocks.unshift(thinking);
    output += estimateTokens(thinking.thinking);
  }
  return buildMessage(exchange, blocks, "tool_use", tokensFor(exchange, behavior.usage, output));
}

/** No content, stop_reason refusal and the recorded stop_details and output tokens. */
function refusalMessage(exchange: Exchange): any {
  const events = readChunksJson(FIXTURE.refusal);
  const delta = events.find((e) => e.type === "message_delta");
  const tokens = tokensFor(exchange, { output: delta.usage.output_tokens }, 0);
  return buildMessage(exchange, [], "refusal", tokens, { stopDetails: delta.delta.stop_details });
}

function tokensFor(exchange: Exchange, override: AnthropicUsageOverride | undefined, output: number): Tokens {
  return {
    input: override?.input ?? estimateInputTokens(exchange.body),
    output: override?.output ?? output,
    cacheRead: override?.cacheRead ?? 0,
    cacheCreation: override?.cacheCreation ?? 0,
  };
}

/**
 * A message in the recorded key order (text.json, and stream-text.sse.txt's message_start for
 * `stop_details`, which current responses carry and older recordings predate).
 */
function buildMessage(
  exchange: Exchange,
  content: any[],
  stopReason: string,
  tokens: Tokens,
  extra: { stopSequence?: string | null; stopDetails?: unknown } = {},
): any {
  return {
    model: exchange.model,
    id: `msg_011CMock${exchange.serial}`,
    type: "message",
    role: "assistant",
    content,
    stop_reason: stopReason,
    stop_sequence: extra.stopSequence ?? null,
    stop_details: extra.stopDetails ?? null,
    usage: fullUsage(tokens, tokens.output),
  };
}

/** The recorded usage object (text.json): cache fields, cache_creation split, tier and geo. */
function fullUsage(tokens: Tokens, output: number): any {
  const usage = readFixtureJson(FIXTURE.text).usage;
  usage.input_tokens = tokens.input;
  usage.cache_creation_input_tokens = tokens.cacheCreation;
  usage.cache_read_input_tokens = tokens.cacheRead;
  usage.cache_creation.ephemeral_5m_input_tokens = tokens.cacheCreation;
  usage.cache_creation.ephemeral_1h_input_tokens = 0;
  usage.output_tokens = output;
  return usage;
}

/** The usage a message's (final) tokens came from, read back from a built or recorded message. */
function tokensOf(usage: any): Tokens {
  return {
    input: usage?.input_tokens ?? 0,
    output: usage?.output_tokens ?? 0,
    cacheRead: usage?.cache_read_input_tokens ?? 0,
    cacheCreation: usage?.cache_creation_input_tokens ?? 0,
  };
}

/**
 * Tool input as the model writes it: Python-style separators (`{"query": "alpha"}`), as the
 * input_json_delta fragments in the recordings show.
 */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${pythonJson(item)}`).join(", ")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function recordedToolCall(): ToolCallSpec {
  const events = readChunksJson(FIXTURE.toolUse);
  const start = events.find((e) => e.type === "content_block_start");
  const json = events.filter((e) => e.delta?.type === "input_json_delta").map((e) => e.delta.partial_json).join("");
  return { name: start.content_block.name, input: JSON.parse(json) };
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" } as const;
/** The recorded ping frame, byte for byte (stream-text.sse.txt: note the space after the colon). */
const PING_FRAME = splitFrames(readFixtureText(FIXTURE.streamText)).find((f) => f.startsWith("event: ping"))!;
/** Spaces before the closing `}`; varied like the recordings, cycled so output is deterministic. */
const PADDING = [1, 15, 4, 0, 7, 12, 3, 9, 0, 5];
/** Pieces a tool's JSON input is streamed in, after the recorded leading empty fragment. */
const TOOL_JSON_FRAGMENTS = 2;

/** Writes `event: <name>\ndata: <json>\n\n` frames, padded as Anthropic pads them. */
type Framer = (payload: { type: string; [field: string]: unknown }) => string;

function framer(state: MockState): Framer {
  let count = 0;
  return (payload) => {
    const json = JSON.stringify(payload);
    const pad = state.padding ? " ".repeat(PADDING[count++ % PADDING.length]!) : "";
    return `event: ${payload.type}\ndata: ${json.slice(0, -1)}${pad}}\n\n`;
  };
}

/**
 * The whole stream of a message, in the recorded order: message_start (content empty, stop fields
 * null, output_tokens 1), each block (start, deltas, stop) with a ping after the first block's
 * start — or straight after message_start when there is no block, as in the refusal recording —
 * then message_delta (stop fields, cumulative usage) and message_stop.
 */
function messageFrames(state: MockState, message: any, chunks: number): string[] {
  const frame = framer(state);
  const frames = [frame({ type: "message_start", message: startMessage(message) })];
  const blocks: any[] = Array.isArray(message.content) ? message.content : [];
  if (blocks.length === 0) frames.push(PING_FRAME);
  blocks.forEach((block, index) => {
    frames.push(frame({ type: "content_block_start", index, content_block: startBlock(block) }));
    if (index === 0) frames.push(PING_FRAME);
    for (const delta of blockDeltas(block, chunks)) frames.push(frame({ type: "content_block_delta", index, delta }));
    frames.push(frame({ type: "content_block_stop", index }));
  });
  frames.push(frame({ type: "message_delta", delta: stopDelta(message), usage: deltaUsage(tokensOf(message.usage)) }));
  frames.push(frame({ type: "message_stop" }));
  return frames;
}

function startMessage(message: any): any {
  const start = { ...message, content: [], stop_reason: null, stop_sequence: null };
  if ("stop_details" in message) start.stop_details = null;
  start.usage = fullUsage(tokensOf(message.usage), 1);
  return start;
}

function stopDelta(message: any): any {
  return { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence ?? null, stop_details: message.stop_details ?? null };
}

/** message_delta usage as recorded (stream-text.sse.txt): no cache_creation split, no tier. */
function deltaUsage(tokens: Tokens): any {
  return {
    input_tokens: tokens.input,
    cache_creation_input_tokens: tokens.cacheCreation,
    cache_read_input_tokens: tokens.cacheRead,
    output_tokens: tokens.output,
  };
}

/** A block as content_block_start announces it: empty text/thinking, `input: {}` plus `caller`. */
function startBlock(block: any): any {
  switch (block.type) {
    case "text":
      return { type: "text", text: "" };
    case "thinking":
      return { type: "thinking", thinking: "", signature: "" };
    case "tool_use":
      return { type: "tool_use", id: block.id, name: block.name, input: {}, caller: block.caller ?? { type: "direct" } };
    default:
      return block; // redacted_thinking and server blocks arrive whole
  }
}

/**
 * Deltas of one block. Thinking ends with an empty thinking_delta and then the signature_delta,
 * and tool input starts with an empty input_json_delta (an empty input sends only that one), as
 * in stream-thinking.sse.txt and stream-tool-use.sse.txt.
 */
function blockDeltas(block: any, chunks: number): any[] {
  switch (block.type) {
    case "text":
      return deltaPieces(block.text, chunks).map((text) => ({ type: "text_delta", text }));
    case "thinking":
      return [
        ...deltaPieces(block.thinking, chunks).map((thinking) => ({ type: "thinking_delta", thinking })),
        { type: "thinking_delta", thinking: "" },
        { type: "signature_delta", signature: block.signature },
      ];
    case "tool_use": {
      const input = block.input ?? {};
      const pieces = Object.keys(input).length === 0 ? [] : splitContent(pythonJson(input), TOOL_JSON_FRAGMENTS);
      return ["", ...pieces].map((partial_json) => ({ type: "input_json_delta", partial_json }));
    }
    default:
      return [];
  }
}

/** The delta pieces of a text or thinking block: an empty block streams none. */
function deltaPieces(text: string, count: number): string[] {
  return text === "" ? [] : splitContent(text, count);
}

/**
 * The opening of a text stream cut short: message_start, the text block's start, the ping and
 * `afterChunks` non-empty text deltas.
 */
function textPrefixFrames(state: MockState, exchange: Exchange, afterChunks: number): string[] {
  const { text, pieces } = brokenStreamPieces(DEFAULT_TEXT, afterChunks, DEFAULT_CHUNKS);
  const message = buildMessage(exchange, [{ type: "text", text }], "end_turn", tokensFor(exchange, undefined, estimateTokens(text)));
  const frame = framer(state);
  return [
    frame({ type: "message_start", message: startMessage(message) }),
    frame({ type: "content_block_start", index: 0, content_block: startBlock(message.content[0]) }),
    PING_FRAME,
    ...pieces.map((text) => frame({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })),
  ];
}

/** The recorded in-stream overloaded error (`event: error` + data), byte for byte. */
function recordedErrorFrame(): string {
  return splitFrames(readFixtureText(FIXTURE.streamMidError)).find((f) => f.startsWith("event: error"))!;
}

function sseResponse(frames: string[], options: FramedOptions, exchange: Exchange): Response {
  return framedResponse(frames, { ...SSE_HEADERS, "request-id": exchange.requestId }, options, exchange.lifecycle);
}

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

function replayFixture(state: MockState, file: string, chunkDelayMs: number | undefined, exchange: Exchange): Response {
  const isJson = file.endsWith(".json");
  const status = isJson ? fixtureStatus(file, 200) : 200;
  // Errors keep their recorded status and plain JSON body on every route and on stream requests,
  // as the real API answers before a stream starts.
  if (status !== 200) return jsonResponse(status, readFixtureText(file), exchange.requestId);
  if (exchange.route.kind !== "messages") return nonMessageAnswer(state, exchange);
  if (isJson) {
    if (!exchange.stream) return jsonResponse(200, readFixtureText(file), exchange.requestId);
    return sseResponse(messageFrames(state, readFixtureJson(file), DEFAULT_CHUNKS), { chunkDelayMs }, exchange);
  }
  if (!exchange.stream) return mockMisuse("mock anthropic", `fixture ${file} is a stream recording but the request was not streaming`);
  if (file.endsWith(".sse.txt")) return sseResponse(splitFrames(readFixtureText(file)), { chunkDelayMs }, exchange);
  if (file.endsWith(".chunks.txt")) {
    const lines = readChunkLines(file);
    const frames = lines.map((line) => `event: ${JSON.parse(line).type}\ndata: ${line}\n\n`);
    return sseResponse(frames, { chunkDelayMs }, exchange);
  }
  return mockMisuse("mock anthropic", `fixture ${file} is neither .json, .sse.txt nor .chunks.txt`);
}

// ---------------------------------------------------------------------------------------------
// GET /v1/models (not recorded: shape per providers.md 4.6 / [ASDK] models.ts, pagination.ts)
// ---------------------------------------------------------------------------------------------

function listedModels(entries: AnthropicModelEntry[] | undefined): Required<AnthropicModelEntry>[] {
  if (!entries) return DEFAULT_MODELS.map((m) => ({ ...m }));
  return entries.map((entry) => ({
    id: entry.id,
    display_name: entry.display_name ?? entry.id,
    created_at: entry.created_at ?? "2025-01-01T00:00:00Z",
  }));
}

function modelObject(entry: Required<AnthropicModelEntry>): Record<string, unknown> {
  return { type: "model", id: entry.id, display_name: entry.display_name, created_at: entry.created_at };
}

/**
 * One page. `after_id` pages forward, `before_id` backward; the mock never serves more than its
 * page size even when `limit` asks for more (a page may be short under the list contract), so
 * the proxy must follow `has_more` / `last_id`. An id the list does not hold is a 400, so a proxy
 * that invents cursors fails loudly (not recorded; standard envelope).
 */
function modelPage(state: MockState, exchange: Exchange): Response {
  const params = exchange.params;
  const size = pageSize(params.get("limit"), state.pageSize);
  const afterId = params.get("after_id");
  const beforeId = params.get("before_id");
  const cursor = afterId ?? beforeId;
  const position = cursor === null ? -1 : state.models.findIndex((m) => m.id === cursor);
  if (cursor !== null && position === -1) {
    return invalidRequest(`${afterId !== null ? "after_id" : "before_id"}: unknown model id ${cursor}`, exchange.requestId);
  }
  let start: number;
  let end: number;
  let hasMore: boolean;
  if (afterId === null && beforeId !== null) {
    end = position;
    start = Math.max(0, end - size);
    hasMore = start > 0;
  } else {
    start = afterId === null ? 0 : position + 1;
    end = Math.min(state.models.length, start + size);
    hasMore = end < state.models.length;
  }
  const data = state.models.slice(start, end).map(modelObject);
  const body = { data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
  return jsonResponse(200, JSON.stringify(body), exchange.requestId);
}

function singleModel(state: MockState, id: string, requestId: string): Response {
  const entry = state.models.find((m) => m.id === id);
  return entry ? jsonResponse(200, JSON.stringify(modelObject(entry)), requestId) : modelNotFound(id, requestId);
}
