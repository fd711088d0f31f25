/**
 * A scripted mock of one Azure OpenAI resource for the Azure provider's tests.
 *
 * It runs inside the test process (`Bun.serve` on 127.0.0.1, random port) and serves both URL styles
 * a resource answers on:
 *
 * - the v1 API: `POST /openai/v1/chat/completions`, `POST /openai/v1/embeddings`,
 *   `POST /openai/v1/responses`, `GET /openai/v1/models` (the deployment is the body's `model`;
 *   `api-version` is optional);
 * - the classic deployment URLs: `POST /openai/deployments/<deployment>/chat/completions`,
 *   `POST /openai/deployments/<deployment>/embeddings`, `POST /openai/responses`,
 *   `GET /openai/models`, each with a required `?api-version=…`.
 *
 * Each API key can be given a script of behaviours (answers, tool calls, content filtering of the
 * prompt or of the output, 429s, 401s, 403s, missing deployments, 500s, hangs …) so tests can drive
 * rotation across resources exactly as they do with mock-upstream.ts.
 *
 * Wire shapes come from the recorded Azure fixtures in test/fixtures/azure-openai (see INDEX.md):
 * chat bodies are azure-openai/chat-text.json and chat-parallel-tool-calls.json with the id and
 * content replaced (their `content_filter_results` and `prompt_filter_results` kept), streams keep
 * the recorded chunks of chat-stream-text.sse.txt / chat-stream-tool-calls.sse.txt (the leading
 * `prompt_filter_results` chunk with empty id and model, `content_filter_results` on every choice,
 * `obfuscation`), and the prompt-filter 400 and the unknown-model 400 are served byte for byte, the
 * former with its recorded `x-ms-rai-invoked: true`. Every answer carries the recorded Azure
 * headers (`apim-request-id`, `x-ms-region`, `x-ms-deployment-name`, `x-ratelimit-*`).
 *
 * Azure has no recording of the rest here, so those bodies are built from Microsoft's documentation
 * and the real messages quoted in public issues, and each is marked where it is built: the 429 and
 * its headers, the 401, the 403, the 404 DeploymentNotFound, the 500, the unknown-route 404, the
 * stream the content filter cuts off, the model list. Embeddings reuse the OpenAI recordings
 * (openai/embeddings-*.json; Azure serves the same shape) and `/responses` the OpenAI Responses
 * recordings (openai-responses/text.json, stream-text.sse.txt).
 *
 * The key is read ONLY from the `api-key` header. An `Authorization` header is recorded (so a test
 * can prove the proxy never sends one) but never accepted as a key.
 */
import { withUsage, type Usage } from "./mock-upstream.ts";
import { fixtureStatus, readFixtureJson, readFixtureText, readSseJson } from "./fixtures.ts";
import { baseState, clientGone, estimateTokens, framedResponse, hang, nextBehavior, rawResponse, serveCall, serveMock, sleep, splitContent, splitFrames, type BaseState, type CommonBehavior, type Lifecycle, type MockHandle } from "./mock-core.ts";

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

export type AzureBehavior =
  | {
      kind: "success";
      /** Reply text (default: the recorded one, DEFAULT_CONTENT). */
      content?: string;
      /** Answer with the two recorded parallel tool calls instead of text (whole or streamed). */
      toolCalls?: boolean;
      /** How many content chunks a stream splits the text into (default 3). */
      chunks?: number;
      chunkDelayMs?: number;
      /** Wait this long before answering at all. */
      delayMs?: number;
      usage?: { prompt: number; completion: number };
    }
  | {
      /**
       * A recorded file under test/fixtures, sent as recorded: `.sse.txt` replayed byte for byte (one
       * flush per event) on any request, `.json` with the status of its `error-NNN-` name (else 200).
       */
      kind: "fixture";
      file: string;
      chunkDelayMs?: number;
    }
  | {
      /**
       * The output trips the content filter: a stream sends `afterChunks` content chunks and then a
       * chunk with `finish_reason: "content_filter"` whose `content_filter_results` mark `category`
       * filtered; a plain answer is a 200 whose choice ends the same way.
       */
      kind: "output_filtered";
      afterChunks?: number;
      category?: FilterCategory;
    }
  /** The prompt trips the content filter: the recorded 400 `content_filter` with `x-ms-rai-invoked: true`. */
  | { kind: "content_filter" }
  /** The recorded v1 400 `unknown_model`, naming the requested deployment. */
  | { kind: "unknown_model" }
  /** 429 with `retry-after` (whole seconds), `retry-after-ms` (default 7000) and the remaining counters. */
  | { kind: "rate_limit"; retryAfterMs?: number; noMsHeader?: boolean }
  /** 401: invalid subscription key or wrong endpoint. */
  | { kind: "invalid_key" }
  /** 403: key-based authentication disabled on the resource. */
  | { kind: "forbidden" }
  /** 404 DeploymentNotFound. */
  | { kind: "deployment_not_found" }
  /** 500 server error. */
  | { kind: "server_error" }
  | CommonBehavior;

export type FilterCategory = "hate" | "self_harm" | "sexual" | "violence";

export type AzureStyle = "v1" | "deployments" | "unknown";
export type AzureOperation = "chat/completions" | "embeddings" | "responses" | "models";

export interface RecordedAzureCall {
  /** The `api-key` header ("" when the request had none). */
  key: string;
  /** The `Authorization` header as sent ("" when none); Azure keys never belong there. */
  authorization: string;
  /** Request path without the query, e.g. "/openai/deployments/gpt-4o/chat/completions". */
  path: string;
  /** The raw query string including "?" ("" when none). */
  query: string;
  method: string;
  /** Which URL style the path is: the v1 API, the classic deployment URLs, or neither. */
  style: AzureStyle;
  /** The operation the path names ("" for an unknown route). */
  operation: AzureOperation | "";
  /** The deployment addressed: the path's on the classic style, the body's `model` on v1 ("" when none). */
  deployment: string;
  /** The `api-version` query parameter, or null when absent. */
  apiVersion: string | null;
  /** Parsed JSON body, or null when there was none or it was not JSON. */
  body: any;
  /** The body asked for a stream. */
  stream: boolean;
  at: number;
  aborted: boolean;
}

export interface MockAzureOptions {
  /** Deployments this resource has; when set, any other one gets DeploymentNotFound (classic) or unknown_model (v1). */
  deployments?: string[];
  /** Model ids listed by the model list (default DEFAULT_MODEL_IDS). */
  models?: string[];
  /** The region the resource reports in `x-ms-region` (default "East US", as recorded). */
  region?: string;
}

/**
 * `url` is the resource's origin (what a classic-style key's base is); `v1` is `<url>/openai/v1`,
 * the base of a v1-style key. Unscripted keys get `success`.
 */
export type MockAzure = MockHandle<AzureBehavior, RecordedAzureCall> & { v1: string };

/** The recorded reply text of azure-openai/chat-text.json. */
export const DEFAULT_CONTENT: string = readFixtureJson("azure-openai/chat-text.json").choices[0].message.content;
export const DEFAULT_USAGE = { prompt: 14, completion: 9 } as const;
export const DEFAULT_CHUNKS = 3;
export const DEFAULT_RETRY_AFTER_MS = 7000;
/** Listed by default: one chat and one embedding model, as Azure's list names base models. */
export const DEFAULT_MODEL_IDS = ["gpt-4o-2024-11-20", "text-embedding-3-small"] as const;
export const DEFAULT_REGION = "East US";

export const FIXTURE = {
  chatText: "azure-openai/chat-text.json",
  chatToolCalls: "azure-openai/chat-parallel-tool-calls.json",
  streamText: "azure-openai/chat-stream-text.sse.txt",
  streamToolCalls: "azure-openai/chat-stream-tool-calls.sse.txt",
  contentFilter: "azure-openai/error-400-content-filter.json",
  unknownModel: "azure-openai/error-400-unknown-model.json",
  embeddingsBatch: "openai/embeddings-batch-2-trimmed.json",
  embeddingsSingle: "openai/embeddings-single.json",
  responsesText: "openai-responses/text.json",
  responsesStream: "openai-responses/stream-text.sse.txt",
} as const;

export async function startMockAzure(options: MockAzureOptions = {}): Promise<MockAzure> {
  const state: MockState = {
    ...baseState(SUCCESS),
    deployments: options.deployments ? new Set(options.deployments) : undefined,
    models: options.models ?? [...DEFAULT_MODEL_IDS],
    region: options.region ?? DEFAULT_REGION,
  };
  const handle = serveMock(state, { name: "mock azure", basePath: "", fetch: (request) => handleRequest(state, request) });
  return { ...handle, v1: `${handle.url}/openai/v1` };
}

// ---------------------------------------------------------------------------------------------
// State and routing
// ---------------------------------------------------------------------------------------------

type SuccessBehavior = Extract<AzureBehavior, { kind: "success" }>;
type RateLimitBehavior = Extract<AzureBehavior, { kind: "rate_limit" }>;
type OutputFilteredBehavior = Extract<AzureBehavior, { kind: "output_filtered" }>;

const SUCCESS: SuccessBehavior = { kind: "success" };

interface MockState extends BaseState<AzureBehavior, RecordedAzureCall> {
  deployments: Set<string> | undefined;
  models: string[];
  region: string;
}

interface Route {
  style: Exclude<AzureStyle, "unknown">;
  operation: AzureOperation;
  /** The classic path's deployment (undefined on v1 and on per-resource operations). */
  pathDeployment?: string;
}

/** What a response builder needs to know about the request being answered. */
interface Exchange {
  call: RecordedAzureCall;
  route: Route;
  id: string;
  created: number;
  includeUsage: boolean;
  headers: Record<string, string>;
  lifecycle: Lifecycle;
}

const V1 = /^\/openai\/v1\/(chat\/completions|embeddings|responses|models)$/;
const DEPLOYMENT = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/;
const PER_RESOURCE = /^\/openai\/(responses|models)$/;

function routeOf(method: string, path: string): Route | undefined {
  const expected = (operation: AzureOperation) => (operation === "models" ? "GET" : "POST");
  const v1 = V1.exec(path);
  if (v1) return method === expected(v1[1] as AzureOperation) ? { style: "v1", operation: v1[1] as AzureOperation } : undefined;
  const deployment = DEPLOYMENT.exec(path);
  if (deployment && method === "POST") return { style: "deployments", operation: deployment[2] as AzureOperation, pathDeployment: decode(deployment[1]!) };
  const resource = PER_RESOURCE.exec(path);
  if (resource && method === expected(resource[1] as AzureOperation)) return { style: "deployments", operation: resource[1] as AzureOperation };
  return undefined;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function handleRequest(state: MockState, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const route = routeOf(request.method, url.pathname);
  const call: RecordedAzureCall = {
    key: request.headers.get("api-key") ?? "",
    authorization: request.headers.get("authorization") ?? "",
    path: url.pathname,
    query: url.search,
    method: request.method,
    style: route?.style ?? "unknown",
    operation: route?.operation ?? "",
    deployment: route?.pathDeployment ?? "",
    apiVersion: url.searchParams.get("api-version"),
    body: null,
    stream: false,
    at: Date.now(),
    aborted: false,
  };
  return serveCall(state, call, request, async (_rawBody, lifecycle) => {
    if (route?.style === "v1" && typeof call.body?.model === "string") call.deployment = call.body.model;
    call.stream = call.body?.stream === true;
    return respond(state, call, route, lifecycle);
  });
}

async function respond(state: MockState, call: RecordedAzureCall, route: Route | undefined, lifecycle: Lifecycle): Promise<Response> {
  const headers = azureHeaders(state, call);
  // The classic URLs need an api-version; without one (or, for /responses, with one from before
  // the Responses API) Azure serves no such route.
  if (!route || (route.style === "deployments" && (call.apiVersion === null || (route.operation === "responses" && !servesResponses(call.apiVersion))))) {
    return resourceNotFound(headers);
  }
  if (call.key === "") return invalidKey(headers);
  if (state.deployments && (route.operation === "chat/completions" || route.operation === "embeddings") && !state.deployments.has(call.deployment)) {
    return route.style === "v1" ? unknownModel(call.deployment, headers) : deploymentNotFound(headers);
  }
  state.sequence += 1;
  const exchange: Exchange = {
    call,
    route,
    id: `chatcmpl-mockAzure${String(state.sequence).padStart(6, "0")}`,
    created: Math.floor(Date.now() / 1000),
    includeUsage: call.stream && call.body?.stream_options?.include_usage === true,
    headers,
    lifecycle,
  };
  return answer(state, nextBehavior(state, call.key), exchange);
}

/**
 * Microsoft's Responses API how-to gives the classic route as `/openai/responses?api-version=2025-03-01-preview`
 * (later previews work too); GA versions such as 2024-10-21 predate it, and the route is then a
 * 404 "Resource not found" (as users report it, e.g. anomalyco/opencode#7180). The v1 API needs no version.
 */
export const FIRST_RESPONSES_API_VERSION = "2025-03-01-preview";

function servesResponses(apiVersion: string): boolean {
  const date = /^(\d{4}-\d{2}-\d{2})/.exec(apiVersion)?.[1];
  return date !== undefined && date >= FIRST_RESPONSES_API_VERSION.slice(0, 10);
}

/** The headers of every recorded Azure answer: request id, region, deployment, rate-limit counters. */
function azureHeaders(state: MockState, call: RecordedAzureCall): Record<string, string> {
  const headers: Record<string, string> = {
    "apim-request-id": crypto.randomUUID(),
    "x-ms-region": state.region,
    "x-ms-client-request-id": "Not-Set",
    "x-content-type-options": "nosniff",
    "x-ratelimit-limit-requests": "100",
    "x-ratelimit-limit-tokens": "100000",
    "x-ratelimit-remaining-requests": "99",
    "x-ratelimit-remaining-tokens": "99000",
  };
  if (call.deployment !== "") headers["x-ms-deployment-name"] = call.deployment;
  return headers;
}

// ---------------------------------------------------------------------------------------------
// Behaviours
// ---------------------------------------------------------------------------------------------

async function answer(state: MockState, behavior: AzureBehavior, exchange: Exchange): Promise<Response> {
  const { headers } = exchange;
  switch (behavior.kind) {
    case "success":
      await sleep(behavior.delayMs ?? 0, exchange.lifecycle.signal);
      return success(state, behavior, exchange);
    case "slow":
      await sleep(behavior.firstByteMs, exchange.lifecycle.signal);
      return success(state, SUCCESS, exchange);
    case "fixture":
      return replayFixture(behavior.file, behavior.chunkDelayMs, exchange);
    case "output_filtered":
      return outputFiltered(behavior, exchange);
    case "content_filter":
      return jsonResponse(400, readFixtureText(FIXTURE.contentFilter), { ...headers, "x-ms-rai-invoked": "true" });
    case "unknown_model":
      return unknownModel(exchange.call.deployment, headers);
    case "rate_limit":
      return rateLimited(behavior, exchange);
    case "invalid_key":
      return invalidKey(headers);
    case "forbidden":
      return forbidden(headers);
    case "deployment_not_found":
      return deploymentNotFound(headers);
    case "server_error":
      return serverError(headers);
    case "hang":
      return hang(exchange.lifecycle.signal);
    case "raw":
      return rawResponse(behavior);
  }
}

function success(state: MockState, behavior: SuccessBehavior, exchange: Exchange): Response {
  if (exchange.lifecycle.signal.aborted) return clientGone();
  const { headers } = exchange;
  switch (exchange.route.operation) {
    case "embeddings":
      return jsonResponse(200, JSON.stringify(embeddingList(exchange.call.body)), headers);
    case "models":
      return jsonResponse(200, JSON.stringify(modelList(state.models)), headers);
    case "responses":
      return responsesAnswer(exchange);
    case "chat/completions":
      if (exchange.call.stream) {
        const frames = behavior.toolCalls ? toolCallStream(behavior, exchange) : textStream(behavior, exchange);
        return sseResponse(frames, exchange, behavior.chunkDelayMs);
      }
      return jsonResponse(200, JSON.stringify(behavior.toolCalls ? toolCallCompletion(behavior, exchange) : textCompletion(behavior, exchange), null, 2), { ...headers, "x-ms-rai-invoked": "true" });
  }
}

function replayFixture(file: string, chunkDelayMs: number | undefined, exchange: Exchange): Response {
  if (file.endsWith(".sse.txt")) return sseResponse(splitFrames(readFixtureText(file)), exchange, chunkDelayMs);
  return jsonResponse(fixtureStatus(file), readFixtureText(file), exchange.headers);
}

// ---------------------------------------------------------------------------------------------
// Error responses
// ---------------------------------------------------------------------------------------------

function jsonResponse(status: number, body: string, headers: Record<string, string>): Response {
  return new Response(body, { status, headers: { "content-type": "application/json", ...headers } });
}

/** Azure names the operation that was throttled in its 429 message. */
const OPERATION_NAMES: Readonly<Record<AzureOperation, string>> = {
  "chat/completions": "ChatCompletions_Create",
  embeddings: "Embeddings_Create",
  responses: "Responses_Create",
  models: "Models_List",
};

/**
 * Not recorded: built from Microsoft's documentation of Azure OpenAI quotas ("Manage Azure OpenAI
 * quota", the Dev Proxy page "Azure OpenAI 429: token and request rate limits explained") and the
 * message real 429s carry (quoted in Microsoft Q&A threads): `code` is the string "429", the message
 * says "Please retry after N seconds", and the answer carries `retry-after` (seconds),
 * `retry-after-ms` and the remaining-request / remaining-token counters.
 */
function rateLimited(behavior: RateLimitBehavior, exchange: Exchange): Response {
  const ms = behavior.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  const operation = exchange.route.operation;
  const version = exchange.call.apiVersion ?? "v1";
  const message =
    `Requests to the ${OPERATION_NAMES[operation]} Operation under Azure OpenAI API version ${version} have exceeded token rate limit ` +
    `of your current OpenAI S0 pricing tier. Please retry after ${seconds} seconds. Please go here: https://aka.ms/oai/quotaincrease ` +
    `if you would like to further increase the default rate limit.`;
  const headers: Record<string, string> = {
    ...exchange.headers,
    "retry-after": String(seconds),
    "x-ratelimit-remaining-requests": "97",
    "x-ratelimit-remaining-tokens": "0",
  };
  if (!behavior.noMsHeader) headers["retry-after-ms"] = String(ms);
  return jsonResponse(429, JSON.stringify({ error: { code: "429", message } }), headers);
}

/**
 * Not recorded: the 401 Azure answers for a wrong or missing `api-key`, as its message is quoted in
 * public issues (openinterpreter#319 and many others): `code` is the string "401".
 */
function invalidKey(headers: Record<string, string>): Response {
  const message =
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active " +
    "subscription and use a correct regional API endpoint for your resource.";
  return jsonResponse(401, JSON.stringify({ error: { code: "401", message } }), headers);
}

/**
 * Not recorded: the 403 of a resource whose key-based authentication is disabled (`disableLocalAuth`,
 * Microsoft's "Disable local authentication" guidance), as quoted in public issues
 * (microsoft/sample-app-aoai-chatGPT#1000, Azure-Samples/azure-search-openai-demo#1617).
 */
function forbidden(headers: Record<string, string>): Response {
  return jsonResponse(403, JSON.stringify({ error: { code: "AuthenticationTypeDisabled", message: "Key based authentication is disabled for this resource." } }), headers);
}

/**
 * Not recorded: the 404 for a deployment the resource does not have, from Microsoft's Azure OpenAI
 * troubleshooting documentation and the message quoted in public issues.
 */
function deploymentNotFound(headers: Record<string, string>): Response {
  const message = "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.";
  return jsonResponse(404, JSON.stringify({ error: { code: "DeploymentNotFound", message } }), headers);
}

/** The recorded v1 400 for an unknown model, naming the deployment that was asked for. */
function unknownModel(deployment: string, headers: Record<string, string>): Response {
  const body = readFixtureText(FIXTURE.unknownModel).replaceAll("this-model-does-not-exist-12345", deployment);
  return jsonResponse(400, body, { ...headers, "content-type": "application/json; charset=utf-8" });
}

/**
 * Not recorded: Azure's 500 keeps OpenAI's envelope and wording, with Azure's pointer to support
 * (Azure OpenAI REST reference "ErrorResponse"; the message as quoted in public issues).
 */
function serverError(headers: Record<string, string>): Response {
  const error = {
    message: "The server had an error while processing your request. Sorry about that! You can retry your request, or contact us through an Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 if the error persists.",
    type: "server_error",
    param: null,
    code: null,
  };
  return jsonResponse(500, JSON.stringify({ error }), headers);
}

/** Not recorded: Azure's generic answer for a path it does not serve (or a classic URL without api-version). */
function resourceNotFound(headers: Record<string, string>): Response {
  return jsonResponse(404, JSON.stringify({ error: { code: "404", message: "Resource not found" } }), headers);
}

// ---------------------------------------------------------------------------------------------
// Non-stream bodies (recorded templates, values replaced)
// ---------------------------------------------------------------------------------------------


/** Azure answers with the model behind the deployment, as recorded; only the id and time are new. */
function stamp(body: any, exchange: Exchange): any {
  body.id = exchange.id;
  body.created = exchange.created;
  return body;
}

function textCompletion(behavior: SuccessBehavior, exchange: Exchange): any {
  const body = stamp(readFixtureJson(FIXTURE.chatText), exchange);
  body.choices[0].message.content = behavior.content ?? DEFAULT_CONTENT;
  withUsage(body.usage, behavior.usage ?? DEFAULT_USAGE);
  return body;
}

function toolCallCompletion(behavior: SuccessBehavior, exchange: Exchange): any {
  const body = stamp(readFixtureJson(FIXTURE.chatToolCalls), exchange);
  if (behavior.usage) withUsage(body.usage, behavior.usage);
  return body;
}

/** One embedding per input, in the recorded OpenAI list shape (Azure serves the same). */
function embeddingList(request: any): any {
  const input = request?.input;
  const inputs: unknown[] = typeof input === "string" ? [input] : Array.isArray(input) ? input : [];
  const body = readFixtureJson(typeof input === "string" ? FIXTURE.embeddingsSingle : FIXTURE.embeddingsBatch);
  const recorded: any[] = body.data;
  body.data = inputs.map((_, index) => ({ ...structuredClone(recorded[index % recorded.length]), index }));
  if (typeof request?.model === "string") body.model = request.model;
  const prompt = inputs.reduce<number>((sum, item) => sum + (typeof item === "string" ? estimateTokens(item) : Array.isArray(item) ? item.length : 1), 0);
  body.usage.prompt_tokens = prompt;
  body.usage.total_tokens = prompt;
  return body;
}

/**
 * Not recorded: the shape of Azure's "Models - List" (learn.microsoft.com/rest/api/azureopenai/models/list,
 * api-version 2024-10-21): `{data:[{status, capabilities, lifecycle_status, deprecation, id, created_at,
 * object:"model"}], object:"list"}`. Azure lists base models and fine-tunes, with `created_at` rather
 * than OpenAI's `created` and no `owned_by`.
 */
function modelList(models: string[]): any {
  return {
    data: models.map((id) => {
      const embeddings = id.includes("embedding");
      return {
        status: "succeeded",
        capabilities: { fine_tune: false, inference: true, completion: false, chat_completion: !embeddings, embeddings },
        lifecycle_status: "generally-available",
        deprecation: { inference: 1772323200 },
        id,
        created_at: 1732060800,
        object: "model",
      };
    }),
    object: "list",
  };
}

/** The recorded Responses answers, with a fresh response id and the requested model. */
function responsesAnswer(exchange: Exchange): Response {
  const id = `resp_mockazure${String(exchange.created)}${exchange.id.slice(-6)}`;
  const model = typeof exchange.call.body?.model === "string" ? exchange.call.body.model : "gpt-4o";
  if (exchange.call.stream) {
    const text = readFixtureText(FIXTURE.responsesStream);
    const recordedId = /"id":"(resp_[^"]+)"/.exec(text)![1]!;
    const recordedModel = /"model":"([^"]+)"/.exec(text)![1]!;
    const frames = splitFrames(text.replaceAll(recordedId, id).replaceAll(`"model":"${recordedModel}"`, `"model":"${model}"`));
    return framedResponse(frames, { ...exchange.headers, ...SSE_HEADERS }, {}, exchange.lifecycle);
  }
  const body = readFixtureJson(FIXTURE.responsesText);
  body.id = id;
  body.model = model;
  return jsonResponse(200, JSON.stringify(body, null, 2), exchange.headers);
}

// ---------------------------------------------------------------------------------------------
// Streams (recorded chunk templates, values replaced)
// ---------------------------------------------------------------------------------------------

const SSE_DONE = "data: [DONE]\n\n";
/** As recorded (Content-Type with charset, no proxy buffering). */
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "x-accel-buffering": "no" } as const;

function sseData(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

function sseResponse(frames: string[], exchange: Exchange, chunkDelayMs: number | undefined): Response {
  return framedResponse(frames, { ...exchange.headers, ...SSE_HEADERS, "x-ms-rai-invoked": "true" }, { chunkDelayMs }, exchange.lifecycle);
}

interface TextTemplates {
  /** `choices: []`, empty id/model, only `prompt_filter_results`: Azure's first chunk. */
  promptFilter: any;
  role: any;
  content: any;
  finish: any;
  usage: any;
}

function textTemplates(): TextTemplates {
  const chunks = readSseJson(FIXTURE.streamText);
  return { promptFilter: chunks[0], role: chunks[1], content: chunks[2], finish: chunks[chunks.length - 2], usage: chunks[chunks.length - 1] };
}

/** Recorded with `include_usage`: every chunk has `usage: null`. Without it the field goes. */
function streamChunk(template: any, exchange: Exchange): any {
  const chunk = stamp(structuredClone(template), exchange);
  if (!exchange.includeUsage) delete chunk.usage;
  return chunk;
}

function contentChunk(templates: TextTemplates, piece: string, exchange: Exchange): any {
  const chunk = streamChunk(templates.content, exchange);
  chunk.choices[0].delta.content = piece;
  return chunk;
}

function usageFrames(templates: TextTemplates, exchange: Exchange, usage: Usage): string[] {
  if (!exchange.includeUsage) return [];
  const chunk = stamp(structuredClone(templates.usage), exchange);
  withUsage(chunk.usage, usage);
  return [sseData(chunk)];
}

function textStream(behavior: SuccessBehavior, exchange: Exchange): string[] {
  const templates = textTemplates();
  const pieces = splitContent(behavior.content ?? DEFAULT_CONTENT, behavior.chunks ?? DEFAULT_CHUNKS);
  return [
    // The prompt-filter chunk is sent as recorded: Azure leaves its id, model and created empty.
    sseData(templates.promptFilter),
    sseData(streamChunk(templates.role, exchange)),
    ...pieces.map((piece) => sseData(contentChunk(templates, piece, exchange))),
    sseData(streamChunk(templates.finish, exchange)),
    ...usageFrames(templates, exchange, behavior.usage ?? DEFAULT_USAGE),
    SSE_DONE,
  ];
}

/** The recorded tool-call stream with this exchange's id; the usage chunk only when asked for. */
function toolCallStream(behavior: SuccessBehavior, exchange: Exchange): string[] {
  const chunks = readSseJson(FIXTURE.streamToolCalls);
  const usage = chunks.pop();
  const frames = [sseData(chunks.shift()), ...chunks.map((chunk) => sseData(streamChunk(chunk, exchange)))];
  if (exchange.includeUsage) {
    const chunk = stamp(usage, exchange);
    if (behavior.usage) withUsage(chunk.usage, behavior.usage);
    frames.push(sseData(chunk));
  }
  frames.push(SSE_DONE);
  return frames;
}

/**
 * Not recorded as such: synthesized from the recorded text stream and Microsoft's content filtering
 * documentation ("Content filtering" concepts page, the streaming scenario where the completion is
 * filtered): the chunk that ends the answer has `finish_reason: "content_filter"` and its
 * `content_filter_results` mark the category `filtered: true` with its severity; the rest of the
 * answer is never sent.
 */
function filteredResults(templates: TextTemplates, category: FilterCategory): any {
  const results = structuredClone(templates.content.choices[0].content_filter_results);
  results[category] = { filtered: true, severity: "medium" };
  return results;
}

function outputFiltered(behavior: OutputFilteredBehavior, exchange: Exchange): Response {
  const templates = textTemplates();
  const category = behavior.category ?? "violence";
  const pieces = splitContent(DEFAULT_CONTENT, DEFAULT_CHUNKS + 1).slice(0, behavior.afterChunks ?? 2);
  if (!exchange.call.stream) {
    const body = stamp(readFixtureJson(FIXTURE.chatText), exchange);
    body.choices[0].message.content = pieces.join("");
    body.choices[0].finish_reason = "content_filter";
    body.choices[0].content_filter_results = filteredResults(templates, category);
    return jsonResponse(200, JSON.stringify(body, null, 2), { ...exchange.headers, "x-ms-rai-invoked": "true" });
  }
  const cut = streamChunk(templates.finish, exchange);
  cut.choices[0].finish_reason = "content_filter";
  cut.choices[0].content_filter_results = filteredResults(templates, category);
  const frames = [
    sseData(templates.promptFilter),
    sseData(streamChunk(templates.role, exchange)),
    ...pieces.map((piece) => sseData(contentChunk(templates, piece, exchange))),
    sseData(cut),
    ...usageFrames(templates, exchange, DEFAULT_USAGE),
    SSE_DONE,
  ];
  return sseResponse(frames, exchange, undefined);
}
