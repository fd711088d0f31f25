/**
 * A scripted mock of Google's Generative Language API (v1beta) for the Gemini provider's tests.
 *
 * It runs inside the test process (`Bun.serve` on 127.0.0.1, random port) and speaks the native
 * wire format (providers.md 2.1–2.6): `POST models/{model}:generateContent`,
 * `POST models/{model}:streamGenerateContent?alt=sse`, `POST models/{model}:batchEmbedContents`,
 * `POST models/{model}:embedContent`, `POST models/{model}:countTokens` and
 * the paginated `GET models`. Each API key can be given a script of behaviours (answers, tool
 * calls, 429 per-minute / per-day quotas, invalid keys, overloads, hangs, resets, broken streams …)
 * so tests can drive rotation, cooling and failover exactly as they do with mock-upstream.ts.
 *
 * Wire shapes come from the recorded fixtures in test/fixtures/google (see INDEX.md): success bodies
 * are recorded responses with parts/usage/model/id replaced, streams use the recorded
 * `data: <json>\r\n\r\n` framing with no terminator, and error bodies are served as recorded. The
 * few bodies with no recording are built and marked where they are built: the 403 for a request
 * without a key, the HTML 404 for unknown routes and the 400 for a bad page token.
 *
 * The key is read ONLY from the `x-goog-api-key` header. A `key=` query parameter is recorded
 * (`keyInUrl`) but never accepted, so a proxy that leaks keys into URLs fails loudly.
 *
 * Every request is recorded (key, path, model, parsed body, whether the client gave up), and the
 * number of requests still being served is observable so tests can assert that the proxy does not
 * leak upstream connections.
 */
import { fixtureStatus, readChunkLines, readFixtureJson, readFixtureText, readSseJson } from "./fixtures.ts";
import { baseState, brokenStreamPieces, clientGone, connectionReset, estimateTokens, framedResponse, hang, mockMisuse, nextBehavior, pageSize, rawResponse, serveCall, serveMock, sleep, splitContent, splitFrames, type BaseState, type CommonBehavior, type FramedOptions, type Lifecycle, type MockHandle } from "./mock-core.ts";

export { estimateTokens } from "./mock-core.ts";

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** Token counts a success should report instead of the mock's estimates. */
export interface UsageOverride {
  prompt?: number;
  candidates?: number;
  thoughts?: number;
}

export interface FunctionCallSpec {
  name: string;
  args: Record<string, unknown>;
}

/**
 * How an in-stream error is written. "bare" is what Google sends and what the recording shows
 * (google/vertex-stream-error-mid-stream.sse.txt): the pretty-printed error object on its own, not
 * an SSE event — the official SDK detects it by parsing a whole read chunk as JSON. "sse" wraps the
 * same object in a `data:` event, the other shape a client may meet (providers.md 2.4).
 */
export type ErrorFraming = "bare" | "sse";

export type GeminiBehavior =
  | {
      kind: "text";
      text?: string;
      /** Thought summary sent as `thought: true` parts before the answer (as with includeThoughts). */
      thoughts?: string;
      /** How many events a stream splits the text (and, separately, the thoughts) into; default 3. */
      chunks?: number;
      /** Pause between stream events. */
      chunkDelayMs?: number;
      usage?: UsageOverride;
    }
  | {
      kind: "tool_call";
      /** Default: the recorded `weather({location:"San Francisco"})` call. */
      calls?: FunctionCallSpec[];
      /** thoughtSignature of the FIRST call (Gemini 3); default the recorded one; null sends none. */
      signature?: string | null;
      /** How many functionCall parts each stream event carries (default 1: parallel calls span events). */
      callsPerEvent?: number;
      chunkDelayMs?: number;
      usage?: UsageOverride;
    }
  | {
      kind: "fixture";
      /**
       * Path under test/fixtures. `.json` is served as-is (status from an `error-NNN-` name, else
       * 200; a 200 body on a stream request becomes one SSE event); `.sse.txt` is replayed byte for
       * byte on a stream request, one flush per event; `.chunks.txt` lines become SSE events.
       */
      file: string;
      chunkDelayMs?: number;
    }
  | { kind: "rate_limit_minute"; retryDelay?: string }
  | { kind: "rate_limit_day"; retryDelay?: string }
  | { kind: "invalid_key" }
  | { kind: "permission_denied" }
  | { kind: "unavailable" }
  | { kind: "bad_request"; message?: string }
  | { kind: "error_mid_stream"; afterChunks: number; framing?: ErrorFraming }
  | { kind: "error_first_event"; framing?: ErrorFraming }
  | { kind: "empty" }
  | { kind: "blocked" }
  | { kind: "reset_mid_stream"; afterChunks: number }
  | CommonBehavior;

export interface RecordedGeminiCall {
  /** The `x-goog-api-key` header ("" when the request had none). */
  key: string;
  /** Decoded request path without the query, e.g. "/v1beta/models/gemini-2.5-flash:generateContent". */
  path: string;
  /** The raw query string including "?" ("" when none), e.g. "?alt=sse". */
  query: string;
  /** The `{model}` of the path ("" for the model list and unknown routes). */
  model: string;
  method: string;
  /** Parsed JSON body, or null when there was none or it was not JSON. */
  body: any;
  /** The request went to `:streamGenerateContent`. */
  stream: boolean;
  /** The URL carried a `key=` query parameter (the proxy must never do that). */
  keyInUrl: boolean;
  /** Arrival time (Date.now()). */
  at: number;
  /** The client went away (or the mock was stopped) before the answer was complete. */
  aborted: boolean;
}

/** A `GET /v1beta/models` entry; fields left out are taken from the recorded list. */
export interface ModelEntry {
  /** "models/<id>"; a bare id is accepted and prefixed. */
  name: string;
  version?: string;
  displayName?: string;
  description?: string;
  inputTokenLimit?: number;
  outputTokenLimit?: number;
  supportedGenerationMethods?: string[];
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTemperature?: number;
  thinking?: boolean;
}

export interface MockGeminiOptions {
  /** Listed by GET /v1beta/models (default: DEFAULT_MODEL_IDS, as recorded). */
  models?: ModelEntry[];
  /** Most entries per list page (default DEFAULT_PAGE_SIZE); a smaller `pageSize` query wins. */
  pageSize?: number;
  /** When set, any other key gets the recorded 400 API_KEY_INVALID (without consuming a script). */
  knownKeys?: string[];
}

/** Base URL http://127.0.0.1:PORT/v1beta; unscripted keys get `text`. */
export type MockGemini = MockHandle<GeminiBehavior, RecordedGeminiCall>;

/** Reply text when a text behaviour names none. */
export const DEFAULT_TEXT = "Hello from the mock Gemini!";
/** Events per streamed text (and per streamed thought summary) when a behaviour names none. */
export const DEFAULT_CHUNKS = 3;
/** Entries per model-list page: small, so tests prove the proxy follows `nextPageToken`. */
export const DEFAULT_PAGE_SIZE = 2;
/** Vector length when a batchEmbedContents request has no outputDimensionality. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 768;
/** Google's cap on requests per batchEmbedContents call. */
export const MAX_EMBED_BATCH = 100;
/** thoughtsTokenCount of a tool call: Gemini 3 thinks before calling, and bills it. */
export const DEFAULT_TOOL_THOUGHTS_TOKENS = 32;
export const QUOTA_ID_PER_MINUTE = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier";
export const QUOTA_ID_PER_DAY = "GenerateRequestsPerDayPerProjectPerModel-FreeTier";
/** Models listed by default: all from the recorded list, including an embedding and an image-only model. */
export const DEFAULT_MODEL_IDS = [
  "gemini-2.5-flash",
  "gemini-2.5-pro",
  "gemini-3-pro-preview",
  "gemini-embedding-001",
  "imagen-4.0-generate-001",
] as const;

const FIXTURE = {
  text: "google/text-gemini3.json",
  toolCall: "google/tool-call-gemini3.json",
  empty: "google/max-tokens-empty-content.json",
  streamBlocked: "google/stream-prompt-blocked-safety.sse.txt",
  streamMidError: "google/vertex-stream-error-mid-stream.sse.txt",
  embeddings: "google/embeddings-batch-2-items.json",
  embedOver100: "google/error-400-batch-embed-over-100.json",
  models: "google/models-list.json",
  rateLimit: "google/error-429-resource-exhausted-quotafailure-retryinfo.json",
  invalidKey: "google/error-400-api-key-invalid.json",
  invalidKeyStream: "google/error-400-api-key-invalid-on-stream-endpoint.json",
  permissionDenied: "google/error-403-service-disabled.json",
  unavailable: "google/error-503-unavailable-overloaded.json",
  badRequest: "google/error-400-thinking-level-unsupported.json",
} as const;

/** The recorded Gemini 3 signature on the tool call in google/tool-call-gemini3.json. */
export const DEFAULT_SIGNATURE: string = readFixtureJson(FIXTURE.toolCall).candidates[0].content.parts[0].thoughtSignature;
/** The recorded signature a thinking model puts on its first answer part (google/text-gemini3.json). */
export const TEXT_SIGNATURE: string = readFixtureJson(FIXTURE.text).candidates[0].content.parts[0].thoughtSignature;
/** The recorded call in google/tool-call-gemini3.json. */
export const DEFAULT_CALLS: readonly FunctionCallSpec[] = [readFixtureJson(FIXTURE.toolCall).candidates[0].content.parts[0].functionCall];

export async function startMockGemini(options: MockGeminiOptions = {}): Promise<MockGemini> {
  const state: MockState = {
    ...baseState(TEXT),
    models: listedModels(options.models),
    pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
    knownKeys: options.knownKeys ? new Set(options.knownKeys) : undefined,
  };
  return serveMock(state, { name: "mock gemini", basePath: "/v1beta", fetch: (request) => handleRequest(state, request) });
}

// ---------------------------------------------------------------------------------------------
// State and scripts
// ---------------------------------------------------------------------------------------------

type TextBehavior = Extract<GeminiBehavior, { kind: "text" }>;
type ToolCallBehavior = Extract<GeminiBehavior, { kind: "tool_call" }>;

const TEXT: TextBehavior = { kind: "text" };

interface MockState extends BaseState<GeminiBehavior, RecordedGeminiCall> {
  models: any[];
  pageSize: number;
  knownKeys: Set<string> | undefined;
}

// ---------------------------------------------------------------------------------------------
// Routing and auth
// ---------------------------------------------------------------------------------------------

type Action = "generateContent" | "streamGenerateContent" | "batchEmbedContents" | "embedContent" | "countTokens" | "list";

interface Route {
  action: Action;
  model: string;
}

/** What a response builder needs to know about the request being answered. */
interface Exchange {
  action: Action;
  model: string;
  stream: boolean;
  body: any;
  params: URLSearchParams;
  responseId: string;
  lifecycle: Lifecycle;
}

const MODEL_ACTION = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents|embedContent|countTokens)$/;

async function handleRequest(state: MockState, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const path = decodePath(url.pathname);
  const route = routeOf(request.method, path);
  const call: RecordedGeminiCall = {
    key: request.headers.get("x-goog-api-key") ?? "",
    path,
    query: url.search,
    model: route?.model ?? "",
    method: request.method,
    body: null,
    stream: route?.action === "streamGenerateContent",
    keyInUrl: url.searchParams.has("key"),
    at: Date.now(),
    aborted: false,
  };
  return serveCall(state, call, request, (_rawBody, lifecycle) => respond(state, call, route, url.searchParams, lifecycle));
}

/** Clients may percent-encode the ":" before the method; Google accepts both. */
function decodePath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

function routeOf(method: string, path: string): Route | undefined {
  if (method === "GET" && path === "/v1beta/models") return { action: "list", model: "" };
  const match = MODEL_ACTION.exec(path);
  if (method === "POST" && match) return { action: match[2] as Action, model: match[1]! };
  return undefined;
}

async function respond(
  state: MockState,
  call: RecordedGeminiCall,
  route: Route | undefined,
  params: URLSearchParams,
  lifecycle: Lifecycle,
): Promise<Response> {
  if (!route) return unknownRoute(call.path);
  // Only the header counts: a `key=` parameter alone is treated as no key at all.
  if (call.key === "") return missingKey(call.stream);
  if (state.knownKeys && !state.knownKeys.has(call.key)) return invalidKey(call.stream);
  if (route.action === "streamGenerateContent" && params.get("alt") !== "sse") return missingAltSse();
  if (route.action === "countTokens") return countTokens(call.body);
  state.sequence += 1;
  const exchange: Exchange = {
    action: route.action,
    model: route.model,
    stream: call.stream,
    body: call.body,
    params,
    responseId: `mockGeminiResp${String(state.sequence).padStart(6, "0")}`,
    lifecycle,
  };
  return answer(state, nextBehavior(state, call.key), exchange);
}

/**
 * `:countTokens` in its `generateContentRequest` form: every text part of the contents and the
 * system instruction, counted with the same estimate the answers use, so tests can predict it.
 */
function countTokens(body: any): Response {
  const request = body?.generateContentRequest ?? body ?? {};
  const texts = [...(request.contents ?? []), ...(request.systemInstruction ? [request.systemInstruction] : [])]
    .flatMap((content: any) => content.parts ?? [])
    .map((part: any) => (typeof part.text === "string" ? part.text : ""));
  return Response.json({ totalTokens: texts.reduce((sum: number, text: string) => sum + estimateTokens(text), 0) });
}

// ---------------------------------------------------------------------------------------------
// Behaviours
// ---------------------------------------------------------------------------------------------

async function answer(state: MockState, behavior: GeminiBehavior, exchange: Exchange): Promise<Response> {
  switch (behavior.kind) {
    case "text":
    case "tool_call":
    case "empty":
    case "blocked":
      return success(state, behavior, exchange);
    case "slow":
      await sleep(behavior.firstByteMs, exchange.lifecycle.signal);
      return success(state, TEXT, exchange);
    case "fixture":
      return replayFixture(behavior.file, behavior.chunkDelayMs, exchange);
    case "rate_limit_minute":
      return rateLimited(QUOTA_ID_PER_MINUTE, behavior.retryDelay, exchange.stream);
    case "rate_limit_day":
      return rateLimited(QUOTA_ID_PER_DAY, behavior.retryDelay, exchange.stream);
    case "invalid_key":
      return invalidKey(exchange.stream);
    case "permission_denied":
      return errorResponse(403, readFixtureText(FIXTURE.permissionDenied), exchange.stream);
    case "unavailable":
      return errorResponse(503, unavailableBody(), exchange.stream);
    case "bad_request":
      return badRequest(behavior.message, exchange.stream);
    case "error_mid_stream":
      return exchange.stream ? midStreamError(behavior.afterChunks, behavior.framing, exchange) : statusOfRecordedMidStreamError();
    case "error_first_event":
      return exchange.stream
        ? sseResponse([errorFrame(unavailableBody(), behavior.framing)], {}, exchange.lifecycle)
        : errorResponse(503, unavailableBody(), false);
    case "hang":
      return hang(exchange.lifecycle.signal);
    case "reset_mid_stream":
      return exchange.stream
        ? sseResponse(textPrefixFrames(behavior.afterChunks, exchange), { ending: "reset" }, exchange.lifecycle)
        : connectionReset();
    case "raw":
      return rawResponse(behavior);
  }
}

/**
 * The 200 answer of the route. Generation behaviours only shape :generateContent and
 * :streamGenerateContent; on the embedding and list routes any of them means "answer normally".
 */
function success(
  state: MockState,
  behavior: TextBehavior | ToolCallBehavior | { kind: "empty" } | { kind: "blocked" },
  exchange: Exchange,
): Response {
  if (exchange.lifecycle.signal.aborted) return clientGone();
  if (exchange.action === "batchEmbedContents") return embeddings(exchange.body);
  if (exchange.action === "embedContent") return singleEmbedding(exchange.body);
  if (exchange.action === "list") return modelPage(state, exchange.params);
  switch (behavior.kind) {
    case "text":
      return exchange.stream
        ? sseResponse(textFrames(behavior, exchange), { chunkDelayMs: behavior.chunkDelayMs }, exchange.lifecycle)
        : jsonResponse(200, pretty(textBody(behavior, exchange)));
    case "tool_call":
      return exchange.stream
        ? sseResponse(toolCallFrames(behavior, exchange), { chunkDelayMs: behavior.chunkDelayMs }, exchange.lifecycle)
        : jsonResponse(200, pretty(toolCallBody(behavior, exchange)));
    case "empty":
      return exchange.stream
        ? sseResponse([sseEvent(emptyBody(exchange))], {}, exchange.lifecycle)
        : jsonResponse(200, pretty(emptyBody(exchange)));
    case "blocked":
      return exchange.stream
        ? sseResponse(splitFrames(readFixtureText(FIXTURE.streamBlocked)), {}, exchange.lifecycle)
        : jsonResponse(200, pretty(blockedBody(exchange)));
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------

/** What Google sends with JSON bodies. */
const JSON_TYPE = "application/json; charset=UTF-8";
const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" } as const;

function jsonResponse(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": JSON_TYPE } });
}

/**
 * An error status. On the stream endpoint Google still labels the (plain JSON, not SSE) error body
 * `text/event-stream` — both recordings of stream-endpoint errors show it — so the proxy must read
 * the status, not trust the content type.
 */
function errorResponse(status: number, body: string, stream: boolean): Response {
  const contentType = stream ? "text/event-stream" : JSON_TYPE;
  return new Response(body, { status, headers: { "content-type": contentType } });
}

/** Google pretty-prints JSON bodies with two spaces and a final newline (as the recordings are). */
function pretty(body: unknown): string {
  return `${JSON.stringify(body, null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------------------

/**
 * No key at all. Not in test/fixtures; this is the body Google sends, quoted verbatim in
 * gunpal5/Google_GenerativeAI#15 and PublicAffairs/openai-gemini#92 (403 PERMISSION_DENIED).
 */
function missingKey(stream: boolean): Response {
  const error = {
    code: 403,
    message:
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    status: "PERMISSION_DENIED",
  };
  return errorResponse(403, pretty({ error }), stream);
}

/** The recorded 400 API_KEY_INVALID; the stream endpoint has its own recording (no DebugInfo). */
function invalidKey(stream: boolean): Response {
  return errorResponse(400, readFixtureText(stream ? FIXTURE.invalidKeyStream : FIXTURE.invalidKey), stream);
}

/** The recorded 429 template with its quotaId and retryDelay set; everything else as recorded. */
function rateLimited(quotaId: string, retryDelay: string | undefined, stream: boolean): Response {
  const body = readFixtureJson(FIXTURE.rateLimit);
  for (const detail of body.error.details) {
    if (detail["@type"].endsWith("google.rpc.QuotaFailure")) detail.violations[0].quotaId = quotaId;
    if (detail["@type"].endsWith("google.rpc.RetryInfo") && retryDelay !== undefined) detail.retryDelay = retryDelay;
  }
  return errorResponse(429, pretty(body), stream);
}

/** INDEX.md: the 503 fixture is the compact form the SDK prints; the wire body is pretty-printed. */
function unavailableBody(): string {
  return pretty(readFixtureJson(FIXTURE.unavailable));
}

function badRequest(message: string | undefined, stream: boolean): Response {
  if (message === undefined) return errorResponse(400, readFixtureText(FIXTURE.badRequest), stream);
  const body = readFixtureJson(FIXTURE.badRequest);
  body.error.message = message;
  return errorResponse(400, pretty(body), stream);
}

/**
 * A route Google does not have. Not recorded: Google's front end answers unknown URLs with an HTML
 * 404 page; this keeps its wording, shortened.
 */
function unknownRoute(path: string): Response {
  const html = `<!DOCTYPE html>\n<html lang=en>\n<title>Error 404 (Not Found)!!1</title>\n<p><b>404.</b> <ins>That’s an error.</ins>\n<p>The requested URL <code>${path}</code> was not found on this server.  <ins>That’s all we know.</ins>\n`;
  return new Response(html, { status: 404, headers: { "content-type": "text/html; charset=UTF-8" } });
}

/**
 * Without `alt=sse` Google streams one JSON array instead of SSE (providers.md 2.4). The mock does
 * not imitate that body: the proxy must always ask for SSE, so the omission is reported as an
 * error it cannot mistake for a stream.
 */
function missingAltSse(): Response {
  const error = {
    code: 400,
    message: "mock gemini: streamGenerateContent without alt=sse (Google would stream a JSON array); the proxy must send alt=sse",
    status: "INVALID_ARGUMENT",
  };
  return errorResponse(400, pretty({ error }), true);
}

/** The recorded mid-stream error object, as its exact bytes (the part after the last SSE event). */
function recordedMidStreamErrorText(): string {
  const frames = splitFrames(readFixtureText(FIXTURE.streamMidError));
  return frames[frames.length - 1]!;
}

/** Non-stream form of error_mid_stream: the same recorded error, with its code as the status. */
function statusOfRecordedMidStreamError(): Response {
  const text = recordedMidStreamErrorText();
  return errorResponse(JSON.parse(text).error.code, text, false);
}

function errorFrame(prettyBody: string, framing: ErrorFraming = "bare"): string {
  return framing === "bare" ? prettyBody : sseEvent(JSON.parse(prettyBody));
}

// ---------------------------------------------------------------------------------------------
// Usage
// ---------------------------------------------------------------------------------------------

interface Tokens {
  prompt: number;
  candidates: number;
  thoughts: number;
}

/**
 * usageMetadata in the recorded key order. `candidatesTokenCount` is left out while nothing has
 * been generated and `thoughtsTokenCount` when there was no thinking, as Google does; the total
 * counts thoughts (providers.md 2.3: candidatesTokenCount excludes them).
 */
function usageMetadata(tokens: Tokens): Record<string, unknown> {
  const usage: Record<string, unknown> = { promptTokenCount: tokens.prompt };
  if (tokens.candidates > 0) usage.candidatesTokenCount = tokens.candidates;
  usage.totalTokenCount = tokens.prompt + tokens.candidates + tokens.thoughts;
  usage.promptTokensDetails = [{ modality: "TEXT", tokenCount: tokens.prompt }];
  if (tokens.thoughts > 0) usage.thoughtsTokenCount = tokens.thoughts;
  return usage;
}

/** Prompt tokens estimated from every text (and function payload) the request carries. */
function promptTokens(body: any, override: UsageOverride | undefined): number {
  if (override?.prompt !== undefined) return override.prompt;
  const texts: string[] = [];
  const collect = (parts: unknown): void => {
    if (!Array.isArray(parts)) return;
    for (const part of parts) {
      if (typeof part?.text === "string") texts.push(part.text);
      if (part?.functionCall) texts.push(JSON.stringify(part.functionCall));
      if (part?.functionResponse) texts.push(JSON.stringify(part.functionResponse));
    }
  };
  collect(body?.systemInstruction?.parts);
  if (Array.isArray(body?.contents)) for (const content of body.contents) collect(content?.parts);
  return estimateTokens(texts.join("\n"));
}

/** The share of `total` reached after `done` of `length` characters; exact at the end. */
function tokensSoFar(total: number, done: number, length: number): number {
  return done >= length ? total : Math.floor((total * done) / length);
}

// ---------------------------------------------------------------------------------------------
// generateContent bodies (recorded templates, values replaced)
// ---------------------------------------------------------------------------------------------

function stampModel(body: any, exchange: Exchange): any {
  body.modelVersion = exchange.model;
  body.responseId = exchange.responseId;
  return body;
}

interface TextPlan {
  text: string;
  thoughts: string;
  tokens: Tokens;
}

function planText(behavior: TextBehavior, exchange: Exchange): TextPlan {
  const text = behavior.text ?? DEFAULT_TEXT;
  const thoughts = behavior.thoughts ?? "";
  const tokens = {
    prompt: promptTokens(exchange.body, behavior.usage),
    candidates: behavior.usage?.candidates ?? estimateTokens(text),
    thoughts: behavior.usage?.thoughts ?? (thoughts === "" ? 0 : estimateTokens(thoughts)),
  };
  return { text, thoughts, tokens };
}

/** The answer part; a thinking answer carries a signature on it, as in the recordings. */
function answerPart(text: string, thinking: boolean): Record<string, unknown> {
  return thinking ? { text, thoughtSignature: TEXT_SIGNATURE } : { text };
}

function textBody(behavior: TextBehavior, exchange: Exchange): any {
  const plan = planText(behavior, exchange);
  const body = stampModel(readFixtureJson(FIXTURE.text), exchange);
  const thinking = plan.thoughts !== "";
  const parts = thinking ? [{ text: plan.thoughts, thought: true }, answerPart(plan.text, true)] : [answerPart(plan.text, false)];
  body.candidates[0].content.parts = parts;
  body.usageMetadata = usageMetadata(plan.tokens);
  return body;
}

function functionCallParts(calls: readonly FunctionCallSpec[], signature: string | null, firstIndex: number): any[] {
  return calls.map((call, i) => {
    const part: Record<string, unknown> = { functionCall: { name: call.name, args: call.args } };
    // Gemini 3 signs only the first call of a parallel set.
    if (firstIndex + i === 0 && signature !== null) part.thoughtSignature = signature;
    return part;
  });
}

function toolCallTokens(behavior: ToolCallBehavior, exchange: Exchange, calls: readonly FunctionCallSpec[]): Tokens {
  return {
    prompt: promptTokens(exchange.body, behavior.usage),
    candidates: behavior.usage?.candidates ?? estimateTokens(JSON.stringify(calls)),
    thoughts: behavior.usage?.thoughts ?? DEFAULT_TOOL_THOUGHTS_TOKENS,
  };
}

function toolCallBody(behavior: ToolCallBehavior, exchange: Exchange): any {
  const calls = behavior.calls ?? DEFAULT_CALLS;
  const body = stampModel(readFixtureJson(FIXTURE.toolCall), exchange);
  body.candidates[0].content.parts = functionCallParts(calls, signatureOf(behavior), 0);
  body.usageMetadata = usageMetadata(toolCallTokens(behavior, exchange, calls));
  return body;
}

function signatureOf(behavior: ToolCallBehavior): string | null {
  return behavior.signature === undefined ? DEFAULT_SIGNATURE : behavior.signature;
}

/** The recorded no-parts candidate (max-tokens-empty-content.json), finishing with STOP. */
function emptyBody(exchange: Exchange): any {
  const body = stampModel(readFixtureJson(FIXTURE.empty), exchange);
  body.candidates[0].finishReason = "STOP";
  body.usageMetadata = usageMetadata({ prompt: promptTokens(exchange.body, undefined), candidates: 0, thoughts: 0 });
  return body;
}

/** The recorded SAFETY promptFeedback (no candidates), with the usual id/model/usage fields. */
function blockedBody(exchange: Exchange): any {
  const recorded = readSseJson(FIXTURE.streamBlocked)[0];
  const body = { promptFeedback: recorded.promptFeedback } as any;
  body.usageMetadata = usageMetadata({ prompt: promptTokens(exchange.body, undefined), candidates: 0, thoughts: 0 });
  return stampModel(body, exchange);
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

/** One SSE event in Google's framing (google/stream-basic.sse.txt): CRLF CRLF, no terminator. */
function sseEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\r\n\r\n`;
}

function sseResponse(frames: string[], options: FramedOptions, lifecycle: Lifecycle): Response {
  return framedResponse(frames, SSE_HEADERS, options, lifecycle);
}

/** A stream chunk in the recorded key order (stream-thought-summaries-include-thoughts.sse.txt). */
function streamChunk(parts: unknown[], tokens: Tokens, exchange: Exchange, finish: boolean): any {
  const candidate: Record<string, unknown> = { content: { parts, role: "model" } };
  if (finish) candidate.finishReason = "STOP";
  candidate.index = 0;
  return stampModel({ candidates: [candidate], usageMetadata: usageMetadata(tokens) }, exchange);
}

/**
 * Thought events first, then answer events, as Gemini streams with includeThoughts: usage on
 * every event grows as it goes (no candidatesTokenCount until the answer starts), the first answer
 * part of a thinking reply carries the signature, and only the last event has a finishReason.
 */
function textFrames(behavior: TextBehavior, exchange: Exchange): string[] {
  const plan = planText(behavior, exchange);
  const count = behavior.chunks ?? DEFAULT_CHUNKS;
  const thinking = plan.thoughts !== "";
  const thoughtPieces = thinking ? splitContent(plan.thoughts, count) : [];
  const textPieces = splitContent(plan.text, count);
  const frames: string[] = [];
  let thoughtChars = 0;
  for (const piece of thoughtPieces) {
    thoughtChars += piece.length;
    const tokens = { ...plan.tokens, candidates: 0, thoughts: tokensSoFar(plan.tokens.thoughts, thoughtChars, plan.thoughts.length) };
    frames.push(sseEvent(streamChunk([{ text: piece, thought: true }], tokens, exchange, false)));
  }
  let textChars = 0;
  textPieces.forEach((piece, index) => {
    textChars += piece.length;
    const tokens = { ...plan.tokens, candidates: tokensSoFar(plan.tokens.candidates, textChars, plan.text.length) };
    const part = answerPart(piece, thinking && index === 0);
    frames.push(sseEvent(streamChunk([part], tokens, exchange, index === textPieces.length - 1)));
  });
  return frames;
}

/** `afterChunks` non-empty answer events without a finishReason, for the behaviours that break a stream part-way. */
function textPrefixFrames(afterChunks: number, exchange: Exchange): string[] {
  const { text, pieces } = brokenStreamPieces(DEFAULT_TEXT, afterChunks, DEFAULT_CHUNKS);
  const prompt = promptTokens(exchange.body, undefined);
  let chars = 0;
  return pieces.map((piece) => {
    chars += piece.length;
    return sseEvent(streamChunk([{ text: piece }], { prompt, candidates: estimateTokens(text.slice(0, chars)), thoughts: 0 }, exchange, false));
  });
}

/**
 * Function calls stream whole (the Gemini API has no partial arguments, providers.md 2.2):
 * `callsPerEvent` calls per event, then the recorded closing event — an empty text part with
 * finishReason STOP (stream-tool-call-thought-signature.sse.txt). Every event carries the full
 * usage, as recorded.
 */
function toolCallFrames(behavior: ToolCallBehavior, exchange: Exchange): string[] {
  const calls = behavior.calls ?? DEFAULT_CALLS;
  const perEvent = Math.max(1, behavior.callsPerEvent ?? 1);
  const tokens = toolCallTokens(behavior, exchange, calls);
  const signature = signatureOf(behavior);
  const frames: string[] = [];
  for (let first = 0; first < calls.length; first += perEvent) {
    const parts = functionCallParts(calls.slice(first, first + perEvent), signature, first);
    frames.push(sseEvent(streamChunk(parts, tokens, exchange, false)));
  }
  frames.push(sseEvent(streamChunk([{ text: "" }], tokens, exchange, true)));
  return frames;
}

function midStreamError(afterChunks: number, framing: ErrorFraming | undefined, exchange: Exchange): Response {
  const frames = [...textPrefixFrames(afterChunks, exchange), errorFrame(recordedMidStreamErrorText(), framing)];
  return sseResponse(frames, {}, exchange.lifecycle);
}

// ---------------------------------------------------------------------------------------------
// Fixture replay
// ---------------------------------------------------------------------------------------------

function replayFixture(file: string, chunkDelayMs: number | undefined, exchange: Exchange): Response {
  if (file.endsWith(".json")) {
    const status = fixtureStatus(file, 200);
    // Errors keep their recorded status and plain body even on the stream endpoint, as Google's do.
    if (status !== 200) return errorResponse(status, readFixtureText(file), exchange.stream);
    if (!exchange.stream) return jsonResponse(200, readFixtureText(file));
    return sseResponse([sseEvent(readFixtureJson(file))], {}, exchange.lifecycle);
  }
  if (!exchange.stream) return mockMisuse("mock gemini", `fixture ${file} is a stream recording but the request was not streaming`);
  if (file.endsWith(".sse.txt")) return sseResponse(splitFrames(readFixtureText(file)), { chunkDelayMs }, exchange.lifecycle);
  if (file.endsWith(".chunks.txt")) {
    const lines = readChunkLines(file);
    return sseResponse(lines.map((line) => `data: ${line}\r\n\r\n`), { chunkDelayMs }, exchange.lifecycle);
  }
  return mockMisuse("mock gemini", `fixture ${file} is neither .json, .sse.txt nor .chunks.txt`);
}

// ---------------------------------------------------------------------------------------------
// batchEmbedContents
// ---------------------------------------------------------------------------------------------

/**
 * One `{values}` per request, in order. Values come from the two recorded 768-dim vectors,
 * alternating and rotated by position so every request gets a distinct, realistic vector; the
 * length is the request's outputDimensionality (the recorded values repeat past 768).
 */
function embeddings(body: any): Response {
  const requests: any[] = Array.isArray(body?.requests) ? body.requests : [];
  if (requests.length > MAX_EMBED_BATCH) return errorResponse(400, readFixtureText(FIXTURE.embedOver100), false);
  const recorded: number[][] = readFixtureJson(FIXTURE.embeddings).embeddings.map((e: any) => e.values);
  const vectors = requests.map((request, index) => ({
    values: embeddingValues(recorded[index % recorded.length]!, Math.floor(index / recorded.length), dimensionsOf(request)),
  }));
  return jsonResponse(200, pretty({ embeddings: vectors }));
}

/**
 * `:embedContent`: the same vector the first request of a batch gets, as `{embedding: {values}}`.
 * Not recorded as such; the shape is batchEmbedContents' entry without the list.
 */
function singleEmbedding(body: any): Response {
  const recorded: number[] = readFixtureJson(FIXTURE.embeddings).embeddings[0].values;
  return jsonResponse(200, pretty({ embedding: { values: embeddingValues(recorded, 0, dimensionsOf(body)) } }));
}

function dimensionsOf(request: any): number {
  const requested = request?.outputDimensionality;
  return Number.isInteger(requested) && requested > 0 ? requested : DEFAULT_EMBEDDING_DIMENSIONS;
}

function embeddingValues(base: number[], shift: number, length: number): number[] {
  return Array.from({ length }, (_, i) => base[(i + shift) % base.length]!);
}

// ---------------------------------------------------------------------------------------------
// GET /v1beta/models
// ---------------------------------------------------------------------------------------------

/** The served entries: recorded fields for anything the caller left out. */
function listedModels(entries: ModelEntry[] | undefined): any[] {
  const recorded: any[] = readFixtureJson(FIXTURE.models).models;
  if (!entries) return DEFAULT_MODEL_IDS.map((id) => recorded.find((m) => m.name === `models/${id}`)!);
  return entries.map((entry) => modelEntry(entry, recorded));
}

function modelEntry(entry: ModelEntry, recorded: any[]): any {
  const name = entry.name.startsWith("models/") ? entry.name : `models/${entry.name}`;
  const same = recorded.find((m) => m.name === name);
  if (same) return { ...same, ...entry, name };
  // An unrecorded model borrows a recorded entry of its kind, renamed so nothing misleads.
  const embedding = entry.supportedGenerationMethods?.includes("embedContent") ?? false;
  const template = recorded.find((m) => m.name === (embedding ? "models/gemini-embedding-001" : "models/gemini-2.5-flash"));
  const id = name.slice("models/".length);
  return { ...template, displayName: id, description: id, ...entry, name };
}

/**
 * One page. The mock never serves more than its configured page size even when asked for more,
 * which Google's list contract allows (a page may be short), so the proxy must follow
 * `nextPageToken`. The token imitates Google's: base64 of a protobuf string field holding the last
 * name on the page (the recorded token decodes to "\n\x1fmodels/veo-3.1-generate-preview").
 */
function modelPage(state: MockState, params: URLSearchParams): Response {
  const size = pageSize(params.get("pageSize"), state.pageSize);
  const token = params.get("pageToken");
  const start = token ? startAfterToken(state.models, token) : 0;
  if (start === undefined) return invalidPageToken();
  const models = state.models.slice(start, start + size);
  const body: Record<string, unknown> = { models };
  if (start + size < state.models.length) body.nextPageToken = pageToken(models[models.length - 1].name);
  return jsonResponse(200, pretty(body));
}

function pageToken(lastName: string): string {
  const name = Buffer.from(lastName, "utf8");
  return Buffer.concat([Buffer.from([0x0a, name.length]), name]).toString("base64");
}

function startAfterToken(models: any[], token: string): number | undefined {
  const bytes = Buffer.from(token, "base64");
  if (bytes[0] !== 0x0a || bytes[1] !== bytes.length - 2) return undefined;
  const index = models.findIndex((m) => m.name === bytes.subarray(2).toString("utf8"));
  return index === -1 ? undefined : index + 1;
}

/** Not recorded: the standard INVALID_ARGUMENT envelope for a token this mock never issued. */
function invalidPageToken(): Response {
  return errorResponse(400, pretty({ error: { code: 400, message: "Invalid page token.", status: "INVALID_ARGUMENT" } }), false);
}
