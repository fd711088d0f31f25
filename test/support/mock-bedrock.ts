/**
 * A scripted mock of Amazon Bedrock for the Bedrock provider's tests: the runtime's
 * `POST /model/{modelId}/converse`, `POST /model/{modelId}/converse-stream` (binary
 * `application/vnd.amazon.eventstream`) and `POST /model/{modelId}/invoke` (embeddings), and the
 * control plane's `GET /foundation-models`, all on one loopback port (the proxy reaches the
 * control plane at its runtime base when `BEDROCK_API_BASE` points elsewhere than AWS).
 *
 * Authentication is checked as AWS checks it. A call is keyed by its bearer token (a Bedrock API
 * key), or for SigV4 by the access key id in `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/
 * region/service/aws4_request, SignedHeaders=…, Signature=…`. The mock RECOMPUTES every SigV4
 * signature from the request as it arrived (method, wire path, query, the signed headers, the body)
 * with the secret it was given for that key id, and answers 403 InvalidSignatureException when it
 * differs, UnrecognizedClientException for an unknown key id — before any script step is used.
 * The signing region and service are recorded, so tests can tell which region a key signed for.
 *
 * Wire shapes come from the recorded fixtures in test/fixtures/bedrock (see INDEX.md): Converse
 * bodies (tool use, cache-read usage, content filtered), ConverseStream bodies (text, tool use,
 * reasoning, a modelStreamErrorException frame) replayed byte for byte in several reads that cut
 * frames anywhere, and the two recorded error bodies (400 ValidationException, 403
 * ExpiredTokenException) with their `x-amzn-ErrorType`. What has no recording is built and marked
 * where it is built: other AWS errors, a throttlingException frame, text answers of a chosen text,
 * reasoning in a whole answer, embeddings and the model list.
 *
 * Every request is recorded (key, how it authenticated, region, wire path, model id, operation,
 * parsed body, whether the client gave up), and the requests still being served are counted.
 */
import { encodeEventStreamMessage, createEventStreamDecoder, type EventStreamMessage } from "../../src/providers/bedrock/event-stream.ts";
import { signWireRequest } from "../../src/providers/bedrock/aws-sigv4.ts";
import { readFixtureJson, readFixtureText, FIXTURES_DIR } from "./fixtures.ts";
import { baseState, clientGone, estimateTokens, hang, mockMisuse, nextBehavior, rawResponse, serveCall, serveMock, sleep, splitContent, type BaseState, type CommonBehavior, type Lifecycle, type MockHandle } from "./mock-core.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/** The HTTP errors the mock can answer with, by their AWS name (`x-amzn-ErrorType`). */
export type AwsErrorName =
  | "ValidationException"
  | "ExpiredTokenException"
  | "ThrottlingException"
  | "ServiceQuotaExceededException"
  | "AccessDeniedException"
  | "UnrecognizedClientException"
  | "ModelNotReadyException"
  | "ServiceUnavailableException";

/** The exception frames a ConverseStream can carry, by their `:exception-type`. */
export type StreamExceptionName = "modelStreamErrorException" | "throttlingException";

/** How a stream body is delivered. */
export interface StreamOptions {
  /** Bytes per read the mock hands out (default DEFAULT_READ_BYTES): frames are cut anywhere. */
  readBytes?: number;
  /** Pause between reads. */
  chunkDelayMs?: number;
}

export type BedrockBehavior =
  | ({
      kind: "text";
      /** Omitted: the recorded stream (converse-stream-text.eventstream) and its text, RECORDED_TEXT. */
      text?: string;
      /** Content deltas a stream of `text` is split into (default 3). */
      chunks?: number;
    } & StreamOptions)
  /** The recorded tool call: converse-tool-use.json, or converse-stream-tool-use.eventstream. */
  | ({ kind: "tool_use" } & StreamOptions)
  /** The recorded reasoning stream (converse-stream-reasoning.eventstream); a whole answer is built from it. */
  | ({ kind: "reasoning" } & StreamOptions)
  /** The recorded answer with cacheReadInputTokens 1322 (converse-usage-cache-read.json). */
  | ({ kind: "cache_read" } & StreamOptions)
  /** The recorded content_filtered answer (converse-content-filtered.json). */
  | ({ kind: "content_filtered" } & StreamOptions)
  /** An HTTP error: recorded where a recording exists, else AWS's documented status and name. */
  | { kind: "error"; name: AwsErrorName; message?: string }
  /** Stream only: messageStart, then an exception frame, before any content. */
  | ({ kind: "exception_before_content"; exception?: StreamExceptionName } & StreamOptions)
  /** Stream only: the recorded text stream's first `afterDeltas` (default 3) content deltas, then an exception frame. */
  | ({ kind: "exception_after_content"; afterDeltas?: number; exception?: StreamExceptionName } & StreamOptions)
  | CommonBehavior;

export type BedrockOperation = "converse" | "converse-stream" | "invoke" | "foundation-models" | "unknown";

/** What the mock made of a request's authentication. */
export type SignatureVerdict =
  /** Bearer token (nothing to verify) or a SigV4 signature that matches. */
  | "valid"
  /** A known access key id, but the signature is not the one its secret gives (or it expired). */
  | "invalid"
  /** An access key id the mock was not given. */
  | "unknown_key"
  /** An Authorization header that is neither form, or none at all. */
  | "missing";

export interface RecordedBedrockCall {
  /** The bearer token, or the SigV4 access key id ("" when there was neither). */
  key: string;
  auth: "bearer" | "sigv4" | "none";
  signature: SignatureVerdict;
  /** The SigV4 credential scope's region and service ("" for bearer calls). */
  region: string;
  service: string;
  /** The SignedHeaders list as sent ([] for bearer calls). */
  signedHeaders: string[];
  /** The path exactly as on the wire, model id still percent-encoded: "/model/us.amazon.nova-micro-v1%3A0/converse". */
  path: string;
  /** The raw query including "?" ("" when none). */
  query: string;
  /** The decoded `{modelId}` ("" for the model list and unknown routes). */
  modelId: string;
  operation: BedrockOperation;
  method: string;
  /** Request headers, names lower-cased. */
  headers: Record<string, string>;
  /** Parsed JSON body, or null. */
  body: any;
  stream: boolean;
  at: number;
  aborted: boolean;
}

export interface FoundationModelEntry {
  modelId: string;
  providerName: string;
  modelName?: string;
  inputModalities?: string[];
  outputModalities?: string[];
  responseStreamingSupported?: boolean;
}

export interface MockBedrockOptions {
  /** SigV4 access key id → secret access key: the only pairs whose signatures verify. */
  accessKeys?: Record<string, string>;
  /** Listed by GET /foundation-models (default DEFAULT_FOUNDATION_MODELS). */
  models?: FoundationModelEntry[];
}

/** Base URL http://127.0.0.1:PORT (no path: Bedrock's routes start at the root); unscripted keys get `text`. */
export type MockBedrock = MockHandle<BedrockBehavior, RecordedBedrockCall>;

export const FIXTURE = {
  toolUse: "bedrock/converse-tool-use.json",
  cacheRead: "bedrock/converse-usage-cache-read.json",
  contentFiltered: "bedrock/converse-content-filtered.json",
  streamText: "bedrock/converse-stream-text.eventstream",
  streamToolUse: "bedrock/converse-stream-tool-use.eventstream",
  streamReasoning: "bedrock/converse-stream-reasoning.eventstream",
  streamModelError: "bedrock/converse-stream-model-stream-error-exception.eventstream",
  validation: "bedrock/error-400-validation-exception.json",
  expiredToken: "bedrock/error-403-expired-token.json",
} as const;

/** Bytes per read of a stream: not a divisor of any frame, so reads split frames and headers alike. */
export const DEFAULT_READ_BYTES = 97;
export const DEFAULT_CHUNKS = 3;
export const EVENT_STREAM_TYPE = "application/vnd.amazon.eventstream";

/** Recorded binary fixtures, read once. */
const bytesCache = new Map<string, Uint8Array>();

function fixtureBytes(relative: string): Uint8Array {
  let bytes = bytesCache.get(relative);
  if (!bytes) bytesCache.set(relative, (bytes = new Uint8Array(readFileSync(join(FIXTURES_DIR, relative)))));
  return bytes;
}

/** The frames of a recorded `.eventstream` fixture, decoded. */
export function readEventStreamFixture(relative: string): EventStreamMessage[] {
  const decoder = createEventStreamDecoder();
  const messages = decoder.push(fixtureBytes(relative));
  decoder.end();
  return messages;
}

/** The JSON payload of a decoded frame. */
export function framePayload(message: EventStreamMessage): any {
  return JSON.parse(new TextDecoder().decode(message.payload));
}

function deltasOf(messages: EventStreamMessage[], field: "text" | "reasoning"): string[] {
  return messages
    .filter((m) => m.headers[":event-type"] === "contentBlockDelta")
    .map(framePayload)
    .flatMap((p) => {
      const value = field === "text" ? p.delta?.text : p.delta?.reasoningContent?.text;
      return typeof value === "string" ? [value] : [];
    });
}

/** The text of the recorded text stream, which a default `text` answer says whole. */
export const RECORDED_TEXT: string = deltasOf(readEventStreamFixture(FIXTURE.streamText), "text").join("");
/** The usage of the recorded text stream's metadata frame. */
export const RECORDED_TEXT_USAGE: { inputTokens: number; outputTokens: number; totalTokens: number } = framePayload(
  readEventStreamFixture(FIXTURE.streamText).at(-1)!,
).usage;
/** The recorded reasoning stream's reasoning text, signature and answer text. */
export const RECORDED_REASONING = (() => {
  const messages = readEventStreamFixture(FIXTURE.streamReasoning);
  const signature = messages.map(framePayload).find((p) => p.delta?.reasoningContent?.signature)!.delta.reasoningContent.signature as string;
  return { reasoning: deltasOf(messages, "reasoning").join(""), signature, text: deltasOf(messages, "text").join("") };
})();
/** The recorded tool call of the tool-use stream: name, id, and its input fragments joined. */
export const RECORDED_STREAM_TOOL = (() => {
  const payloads = readEventStreamFixture(FIXTURE.streamToolUse).map(framePayload);
  const start = payloads.find((p) => p.start?.toolUse)!.start.toolUse;
  const input = payloads.flatMap((p) => (typeof p.delta?.toolUse?.input === "string" ? [p.delta.toolUse.input] : [])).join("");
  return { name: start.name as string, toolUseId: start.toolUseId as string, input };
})();

/** Not recorded: the message of the throttlingException frame the mock builds. */
export const THROTTLING_FRAME_MESSAGE = "Too many requests, please wait before trying again.";

/**
 * The model list when none is given. Not recorded: entries follow the ListFoundationModels
 * response shape of the Bedrock API reference (FoundationModelSummary), ids as AWS lists them.
 */
export const DEFAULT_FOUNDATION_MODELS: readonly FoundationModelEntry[] = [
  { modelId: "amazon.nova-micro-v1:0", providerName: "Amazon", modelName: "Nova Micro", outputModalities: ["TEXT"] },
  { modelId: "anthropic.claude-3-sonnet-20240229-v1:0", providerName: "Anthropic", modelName: "Claude 3 Sonnet", inputModalities: ["TEXT", "IMAGE"], outputModalities: ["TEXT"] },
  { modelId: "amazon.titan-embed-text-v2:0", providerName: "Amazon", modelName: "Titan Text Embeddings V2", outputModalities: ["EMBEDDING"], responseStreamingSupported: false },
  { modelId: "cohere.embed-english-v3", providerName: "Cohere", modelName: "Embed English", outputModalities: ["EMBEDDING"], responseStreamingSupported: false },
];

export async function startMockBedrock(options: MockBedrockOptions = {}): Promise<MockBedrock> {
  const state: MockState = {
    ...baseState(TEXT),
    accessKeys: new Map(Object.entries(options.accessKeys ?? {})),
    models: options.models ?? [...DEFAULT_FOUNDATION_MODELS],
  };
  return serveMock(state, { name: "mock bedrock", basePath: "", fetch: (request) => handleRequest(state, request) });
}

// ---------------------------------------------------------------------------------------------
// State, routing, authentication
// ---------------------------------------------------------------------------------------------

type TextBehavior = Extract<BedrockBehavior, { kind: "text" }>;
const TEXT: TextBehavior = { kind: "text" };

interface MockState extends BaseState<BedrockBehavior, RecordedBedrockCall> {
  accessKeys: Map<string, string>;
  models: FoundationModelEntry[];
}

const MODEL_ROUTE = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/;

function routeOf(method: string, path: string): { operation: BedrockOperation; modelId: string } {
  if (method === "GET" && path === "/foundation-models") return { operation: "foundation-models", modelId: "" };
  const match = MODEL_ROUTE.exec(path);
  if (method !== "POST" || !match) return { operation: "unknown", modelId: "" };
  let modelId = match[1]!;
  try {
    modelId = decodeURIComponent(modelId);
  } catch {
    // left as sent; the route still answers
  }
  return { operation: match[2] as BedrockOperation, modelId };
}

const SIGV4 = /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/;

async function handleRequest(state: MockState, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const route = routeOf(request.method, url.pathname);
  const authorization = request.headers.get("authorization") ?? "";
  const sigv4 = SIGV4.exec(authorization);
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  const call: RecordedBedrockCall = {
    key: sigv4?.[1] ?? bearer ?? "",
    auth: sigv4 ? "sigv4" : bearer !== undefined ? "bearer" : "none",
    signature: bearer !== undefined ? "valid" : "missing",
    region: sigv4?.[3] ?? "",
    service: sigv4?.[4] ?? "",
    signedHeaders: sigv4 ? sigv4[5]!.split(";") : [],
    path: url.pathname,
    query: url.search,
    modelId: route.modelId,
    operation: route.operation,
    method: request.method,
    headers: Object.fromEntries([...request.headers].map(([name, value]) => [name.toLowerCase(), value])),
    body: null,
    stream: route.operation === "converse-stream",
    at: Date.now(),
    aborted: false,
  };
  return serveCall(state, call, request, async (rawBody, lifecycle) => {
    if (sigv4) {
      const verdict = await verifySigV4(state, request, url, rawBody, sigv4);
      call.signature = verdict.verdict;
      if (verdict.refusal) return verdict.refusal;
    } else if (bearer === undefined) {
      return missingAuthentication();
    }
    if (route.operation === "unknown") return unknownOperation();
    state.sequence += 1;
    return answer(state, nextBehavior(state, call.key), { call, lifecycle, sequence: state.sequence });
  });
}

/**
 * Recompute the signature from the request as received: the signed headers' values as they
 * arrived, the wire path and query, the body bytes, and the secret the mock knows for the key id.
 * The messages are AWS's own for these refusals (as every SDK user meets them).
 */
async function verifySigV4(state: MockState, request: Request, url: URL, rawBody: string, match: RegExpExecArray): Promise<{ verdict: SignatureVerdict; refusal?: Response }> {
  const [, accessKeyId, dateStamp, region, service, signedList, signature] = match as unknown as [string, string, string, string, string, string, string];
  const secret = state.accessKeys.get(accessKeyId);
  if (secret === undefined) {
    return { verdict: "unknown_key", refusal: awsError(403, "UnrecognizedClientException", "The security token included in the request is invalid.") };
  }
  const names = signedList.split(";");
  const amzDate = request.headers.get("x-amz-date") ?? "";
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!names.includes("host") || !names.includes("x-amz-date") || !when) {
    return { verdict: "invalid", refusal: awsError(403, "IncompleteSignatureException", "Authorization header requires a signed Host and X-Amz-Date header.") };
  }
  const now = new Date(Date.UTC(+when[1]!, +when[2]! - 1, +when[3]!, +when[4]!, +when[5]!, +when[6]!));
  if (Math.abs(Date.now() - now.getTime()) > 5 * 60_000) {
    return { verdict: "invalid", refusal: invalidSignature(`Signature expired: ${amzDate} is now earlier than the allowed window.`) };
  }
  const token = request.headers.get("x-amz-security-token") ?? undefined;
  const headers: Record<string, string> = {};
  for (const name of names) {
    if (name === "x-amz-date" || name === "x-amz-security-token") continue;
    headers[name] = request.headers.get(name) ?? "";
  }
  const expected = await signWireRequest({
    method: request.method,
    path: url.pathname,
    query: url.search.slice(1),
    headers,
    body: rawBody,
    credentials: { accessKeyId, secretAccessKey: secret, ...(token !== undefined && names.includes("x-amz-security-token") ? { sessionToken: token } : {}) },
    region,
    service,
    now,
  });
  const expectedSignature = /Signature=([0-9a-f]{64})$/.exec(expected.headers.authorization!)?.[1];
  if (dateStamp !== amzDate.slice(0, 8) || expectedSignature !== signature) {
    // AWS echoes what it computed — the canonical request, signed headers' values (a session
    // token among them) included — as aws/aws-sdk-js#168 and aws/aws-sdk-cpp#17 quote it.
    const message =
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details." +
      `\n\nThe Canonical String for this request should have been\n'${expected.canonicalRequest}'\n\nThe String-to-Sign should have been\n'${expected.stringToSign}'\n`;
    return { verdict: "invalid", refusal: invalidSignature(message) };
  }
  return { verdict: "valid" };
}

// ---------------------------------------------------------------------------------------------
// Behaviours
// ---------------------------------------------------------------------------------------------

interface Exchange {
  call: RecordedBedrockCall;
  lifecycle: Lifecycle;
  sequence: number;
}

async function answer(state: MockState, behavior: BedrockBehavior, exchange: Exchange): Promise<Response> {
  const { call } = exchange;
  switch (behavior.kind) {
    case "hang":
      return hang(exchange.lifecycle.signal);
    case "raw":
      return rawResponse(behavior);
    case "error":
      return errorOf(behavior.name, behavior.message);
    case "slow":
      await sleep(behavior.firstByteMs, exchange.lifecycle.signal);
      if (exchange.lifecycle.signal.aborted) return clientGone();
      return answer(state, TEXT, exchange);
  }
  // Every other behaviour is a success; on the list and embedding routes it means "answer normally".
  if (call.operation === "foundation-models") return modelList(state, call);
  if (call.operation === "invoke") return embeddings(call, exchange.sequence);
  if (!call.stream) return wholeAnswer(behavior, exchange);
  return streamAnswer(behavior, exchange);
}

function wholeAnswer(behavior: Exclude<BedrockBehavior, CommonBehavior | { kind: "error" }>, exchange: Exchange): Response {
  switch (behavior.kind) {
    case "text":
      return jsonResponse(200, JSON.stringify(textConverse(behavior, exchange.call.body)));
    case "tool_use":
      return jsonResponse(200, readFixtureText(FIXTURE.toolUse));
    case "cache_read":
      return jsonResponse(200, readFixtureText(FIXTURE.cacheRead));
    case "content_filtered":
      return jsonResponse(200, readFixtureText(FIXTURE.contentFiltered));
    case "reasoning":
      return jsonResponse(200, JSON.stringify(reasoningConverse()));
    case "exception_before_content":
    case "exception_after_content":
      return mockMisuse("mock bedrock", `${behavior.kind} is a stream behaviour but the request went to /converse`);
  }
}

function streamAnswer(behavior: Exclude<BedrockBehavior, CommonBehavior | { kind: "error" }>, exchange: Exchange): Response {
  const respond = (frames: Uint8Array[]) => eventStreamResponse(frames, behavior, exchange.lifecycle);
  switch (behavior.kind) {
    case "text":
      if (behavior.text === undefined) return respond([fixtureBytes(FIXTURE.streamText)]);
      return respond(framesOfConverse(textConverse(behavior, exchange.call.body), behavior.chunks ?? DEFAULT_CHUNKS));
    case "tool_use":
      return respond([fixtureBytes(FIXTURE.streamToolUse)]);
    case "reasoning":
      return respond([fixtureBytes(FIXTURE.streamReasoning)]);
    case "cache_read":
      return respond(framesOfConverse(readFixtureJson(FIXTURE.cacheRead), DEFAULT_CHUNKS));
    case "content_filtered":
      return respond(framesOfConverse(readFixtureJson(FIXTURE.contentFiltered), 1));
    case "exception_before_content": {
      const [messageStart] = readEventStreamFixture(FIXTURE.streamText);
      return respond([reencode(messageStart!), exceptionFrame(behavior.exception)]);
    }
    case "exception_after_content": {
      const messages = readEventStreamFixture(FIXTURE.streamText);
      const deltas = behavior.afterDeltas ?? 3;
      return respond([...messages.slice(0, 1 + deltas).map(reencode), exceptionFrame(behavior.exception)]);
    }
  }
}

/** The text that `exception_after_content` sends before its exception frame. */
export function textBeforeException(afterDeltas = 3): string {
  return deltasOf(readEventStreamFixture(FIXTURE.streamText).slice(0, 1 + afterDeltas), "text").join("");
}

// ---------------------------------------------------------------------------------------------
// Converse bodies
// ---------------------------------------------------------------------------------------------

/**
 * A text answer. Not recorded as such: the shape (key order, `metrics`, `serverToolUsage`) is the
 * recorded converse-content-filtered.json with the text, stop reason and usage replaced. The
 * default text and usage are those of the recorded text stream, so a whole and a streamed default
 * answer say the same.
 */
function textConverse(behavior: TextBehavior, requestBody: any): any {
  const body = readFixtureJson(FIXTURE.contentFiltered);
  const text = behavior.text ?? RECORDED_TEXT;
  body.output.message.content = [{ text }];
  body.stopReason = "end_turn";
  const inputTokens = behavior.text === undefined ? RECORDED_TEXT_USAGE.inputTokens : estimateTokens(JSON.stringify(requestBody?.messages ?? ""));
  const outputTokens = behavior.text === undefined ? RECORDED_TEXT_USAGE.outputTokens : estimateTokens(text);
  body.usage = { inputTokens, outputTokens, serverToolUsage: {}, totalTokens: inputTokens + outputTokens };
  return body;
}

/**
 * A whole answer with reasoning. Not recorded: built from the recorded reasoning stream's texts,
 * in the Converse output shape the API reference documents for a ReasoningContentBlock
 * (`{"reasoningContent": {"reasoningText": {"text", "signature"}}}`), followed by the text block.
 */
function reasoningConverse(): any {
  const usage = framePayload(readEventStreamFixture(FIXTURE.streamReasoning).at(-1)!).usage;
  return {
    metrics: { latencyMs: 1999 },
    output: {
      message: {
        content: [{ reasoningContent: { reasoningText: { text: RECORDED_REASONING.reasoning, signature: RECORDED_REASONING.signature } } }, { text: RECORDED_REASONING.text }],
        role: "assistant",
      },
    },
    stopReason: "end_turn",
    usage,
  };
}

// ---------------------------------------------------------------------------------------------
// Event streams
// ---------------------------------------------------------------------------------------------

const EVENT_HEADERS = (eventType: string) => ({ ":event-type": eventType, ":content-type": "application/json", ":message-type": "event" });
const utf8 = new TextEncoder();

function eventFrame(eventType: string, payload: unknown): Uint8Array {
  return encodeEventStreamMessage(EVENT_HEADERS(eventType), utf8.encode(JSON.stringify(payload)));
}

/** A decoded frame written back (all recorded headers are strings, so it is byte-identical). */
function reencode(message: EventStreamMessage): Uint8Array {
  const headers = Object.fromEntries(Object.entries(message.headers).map(([name, value]) => [name, String(value)]));
  return encodeEventStreamMessage(headers, message.payload);
}

/**
 * The exception frame: the recorded modelStreamErrorException, or a throttlingException built
 * here (not recorded; headers as the recorded exception frame has them, message as AWS words a
 * throttling refusal).
 */
function exceptionFrame(name: StreamExceptionName = "modelStreamErrorException"): Uint8Array {
  if (name === "modelStreamErrorException") return fixtureBytes(FIXTURE.streamModelError);
  return encodeEventStreamMessage(
    { ":message-type": "exception", ":exception-type": "throttlingException", ":content-type": "application/json" },
    utf8.encode(JSON.stringify({ message: THROTTLING_FRAME_MESSAGE })),
  );
}

/**
 * A whole Converse answer as the ConverseStream events that say it, in the recorded order:
 * messageStart; per block contentBlockStart (tool use only), deltas, contentBlockStop; messageStop;
 * metadata with usage and metrics. Built, not recorded (no `p` padding field).
 */
function framesOfConverse(answer: any, chunks: number): Uint8Array[] {
  const frames = [eventFrame("messageStart", { role: "assistant" })];
  (answer.output.message.content as any[]).forEach((block, index) => {
    if (typeof block.text === "string") {
      for (const piece of splitContent(block.text, chunks)) frames.push(eventFrame("contentBlockDelta", { contentBlockIndex: index, delta: { text: piece } }));
    } else if (block.toolUse) {
      frames.push(eventFrame("contentBlockStart", { contentBlockIndex: index, start: { toolUse: { name: block.toolUse.name, toolUseId: block.toolUse.toolUseId } } }));
      for (const piece of splitContent(JSON.stringify(block.toolUse.input), chunks)) frames.push(eventFrame("contentBlockDelta", { contentBlockIndex: index, delta: { toolUse: { input: piece } } }));
    } else if (block.reasoningContent?.reasoningText) {
      const { text, signature } = block.reasoningContent.reasoningText;
      for (const piece of splitContent(text, chunks)) frames.push(eventFrame("contentBlockDelta", { contentBlockIndex: index, delta: { reasoningContent: { text: piece } } }));
      if (signature) frames.push(eventFrame("contentBlockDelta", { contentBlockIndex: index, delta: { reasoningContent: { signature } } }));
    }
    frames.push(eventFrame("contentBlockStop", { contentBlockIndex: index }));
  });
  frames.push(eventFrame("messageStop", { stopReason: answer.stopReason }));
  frames.push(eventFrame("metadata", { metrics: answer.metrics ?? { latencyMs: 100 }, usage: answer.usage }));
  return frames;
}

/**
 * A 200 `application/vnd.amazon.eventstream` body handed out `readBytes` at a time, each on its
 * own pull (with the delay between), so the client's decoder meets frames cut anywhere.
 */
function eventStreamResponse(frames: Uint8Array[], options: StreamOptions, lifecycle: Lifecycle): Response {
  lifecycle.streaming = true;
  const whole = concat(frames);
  const size = Math.max(1, options.readBytes ?? DEFAULT_READ_BYTES);
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < whole.length; at += size) pieces.push(whole.slice(at, at + size));
  let sent = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent > 0) await sleep(options.chunkDelayMs ?? 0, lifecycle.signal);
      if (cancelled) return;
      if (lifecycle.signal.aborted) return controller.error(undefined);
      if (sent < pieces.length) {
        controller.enqueue(pieces[sent]!);
        sent += 1;
        return;
      }
      lifecycle.done();
      controller.close();
    },
    cancel() {
      cancelled = true;
      lifecycle.abort();
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": EVENT_STREAM_TYPE, "x-amzn-requestid": crypto.randomUUID() } });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole;
}


// ---------------------------------------------------------------------------------------------
// InvokeModel embeddings
// ---------------------------------------------------------------------------------------------

/**
 * Titan Text Embeddings and Cohere Embed through InvokeModel. Not recorded: request and response
 * shapes as the Bedrock user guide documents them ("Amazon Titan Text Embeddings", "Cohere Embed
 * and Cohere Embed v4 models"): Titan answers `{embedding, inputTextTokenCount}` (v2 adds
 * `embeddingsByType.float`) for one `inputText`; Cohere answers `{embeddings, id, response_type,
 * texts}` for up to 96 `texts`, `embeddings` being the vectors (v3) or vectors by type
 * (`{float: [...]}`, when `embedding_types` is given). The input token count is in the
 * `x-amzn-bedrock-input-token-count` header, as Bedrock sends it. Vectors are deterministic: the
 * same text always gets the same vector, different texts different ones.
 */
function embeddings(call: RecordedBedrockCall, sequence: number): Response {
  const body = call.body ?? {};
  const model = call.modelId;
  if (/amazon\.titan-embed/.test(model)) {
    if (typeof body.inputText !== "string") return validation("Malformed input request: required key [inputText] not found, please reformat your input and try again.");
    const v2 = /titan-embed-text-v2/.test(model);
    const dimensions = v2 ? (body.dimensions ?? 1024) : 1536;
    const embedding = vectorFor(body.inputText, dimensions, v2 && body.normalize !== false);
    const tokens = estimateTokens(body.inputText);
    const answer = v2 ? { embedding, embeddingsByType: { float: embedding }, inputTextTokenCount: tokens } : { embedding, inputTextTokenCount: tokens };
    return jsonResponse(200, JSON.stringify(answer), { "x-amzn-bedrock-input-token-count": String(tokens) });
  }
  if (/cohere\.embed/.test(model)) {
    const texts: unknown = body.texts;
    if (!Array.isArray(texts) || !texts.every((t) => typeof t === "string") || texts.length > 96) return validation("Malformed input request: texts must be a list of at most 96 strings.");
    const dimensions = /embed-v4/.test(model) ? (body.output_dimension ?? 1536) : 1024;
    const vectors = (texts as string[]).map((text) => vectorFor(text, dimensions, false));
    const byType = Array.isArray(body.embedding_types);
    const answer = {
      embeddings: byType ? { float: vectors } : vectors,
      id: `mock-cohere-${String(sequence).padStart(6, "0")}`,
      response_type: byType ? "embeddings_by_type" : "embeddings_floats",
      texts,
    };
    const tokens = (texts as string[]).reduce((sum, text) => sum + estimateTokens(text), 0);
    return jsonResponse(200, JSON.stringify(answer), { "x-amzn-bedrock-input-token-count": String(tokens) });
  }
  return validation(`mock bedrock: ${model} is not an embedding model this mock serves through InvokeModel`);
}

/** A deterministic vector from the text (FNV-1a seed, xorshift), optionally unit length. */
export function vectorFor(text: string, dimensions: number, normalize: boolean): number[] {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const values: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    values.push(seed / 0xffffffff - 0.5);
  }
  const norm = normalize ? Math.hypot(...values) || 1 : 1;
  return values.map((value) => Math.round((value / norm) * 1e6) / 1e6);
}

// ---------------------------------------------------------------------------------------------
// GET /foundation-models
// ---------------------------------------------------------------------------------------------

/**
 * ListFoundationModels. Not recorded: `{"modelSummaries": [FoundationModelSummary…]}` as the Bedrock
 * API reference documents it, filtered by `byOutputModality` and `byProvider` as AWS filters.
 */
function modelList(state: MockState, call: RecordedBedrockCall): Response {
  const params = new URLSearchParams(call.query);
  const modality = params.get("byOutputModality");
  const provider = params.get("byProvider");
  const region = call.region || "us-east-1";
  const modelSummaries = state.models
    .filter((m) => modality === null || (m.outputModalities ?? ["TEXT"]).includes(modality))
    .filter((m) => provider === null || m.providerName.toLowerCase() === provider.toLowerCase())
    .map((m) => ({
      modelArn: `arn:aws:bedrock:${region}::foundation-model/${m.modelId}`,
      modelId: m.modelId,
      modelName: m.modelName ?? m.modelId,
      providerName: m.providerName,
      inputModalities: m.inputModalities ?? ["TEXT"],
      outputModalities: m.outputModalities ?? ["TEXT"],
      responseStreamingSupported: m.responseStreamingSupported ?? true,
      customizationsSupported: [],
      inferenceTypesSupported: ["ON_DEMAND"],
      modelLifecycle: { status: "ACTIVE" },
    }));
  return jsonResponse(200, JSON.stringify({ modelSummaries }));
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** The namespace suffix of the recorded x-amzn-ErrorType values. */
const BEDROCK_NS = "http://internal.amazon.com/coral/com.amazon.bedrock/";
const CORAL_NS = "http://internal.amazon.com/coral/com.amazon.coral.service/";

/**
 * Errors with no recording: status and name from the Bedrock Runtime API reference (the errors of
 * Converse / InvokeModel, and the common AWS errors for UnrecognizedClient), messages paraphrasing
 * its descriptions. Synthesized, not captured; the suffix of the header is the recorded one.
 */
const SYNTHESIZED_ERRORS: Readonly<Record<Exclude<AwsErrorName, "ValidationException" | "ExpiredTokenException">, { status: number; message: string; ns: string }>> = {
  ThrottlingException: { status: 429, message: "Too many requests, please wait before trying again.", ns: BEDROCK_NS },
  ServiceQuotaExceededException: { status: 400, message: "Your request exceeds the service quota for your account. You can resubmit your request later.", ns: BEDROCK_NS },
  AccessDeniedException: { status: 403, message: "You don't have access to the model with the specified model ID.", ns: BEDROCK_NS },
  UnrecognizedClientException: { status: 403, message: "The security token included in the request is invalid.", ns: CORAL_NS },
  ModelNotReadyException: { status: 429, message: "The model specified in the request is not ready to serve inference requests. The AWS SDK will automatically retry the operation up to 5 times.", ns: BEDROCK_NS },
  ServiceUnavailableException: { status: 503, message: "The service isn't currently available. Try again later.", ns: BEDROCK_NS },
};

/** The status each error is answered with (recorded or documented). */
export const AWS_ERROR_STATUS: Readonly<Record<AwsErrorName, number>> = {
  ValidationException: 400,
  ExpiredTokenException: 403,
  ...Object.fromEntries(Object.entries(SYNTHESIZED_ERRORS).map(([name, spec]) => [name, spec.status])),
} as Record<AwsErrorName, number>;

/** The message each error's body carries when the behaviour names none. */
export function awsErrorMessage(name: AwsErrorName): string {
  if (name === "ValidationException") return readFixtureJson(FIXTURE.validation).message;
  if (name === "ExpiredTokenException") return readFixtureJson(FIXTURE.expiredToken).message;
  return SYNTHESIZED_ERRORS[name].message;
}

function errorOf(name: AwsErrorName, message: string | undefined): Response {
  if (name === "ValidationException" && message === undefined) return awsErrorText(400, `ValidationException:${BEDROCK_NS}`, readFixtureText(FIXTURE.validation));
  if (name === "ExpiredTokenException" && message === undefined) return awsErrorText(403, `ExpiredTokenException:${CORAL_NS}`, readFixtureText(FIXTURE.expiredToken));
  const ns = name === "ValidationException" ? BEDROCK_NS : name === "ExpiredTokenException" ? CORAL_NS : SYNTHESIZED_ERRORS[name].ns;
  return awsErrorText(AWS_ERROR_STATUS[name], `${name}:${ns}`, JSON.stringify({ message: message ?? awsErrorMessage(name) }));
}

function awsError(status: number, name: string, message: string): Response {
  return awsErrorText(status, `${name}:${CORAL_NS}`, JSON.stringify({ message }));
}

function awsErrorText(status: number, errorType: string, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "application/json", "x-amzn-errortype": errorType, "x-amzn-requestid": crypto.randomUUID() } });
}

function invalidSignature(message: string): Response {
  return awsError(403, "InvalidSignatureException", message);
}

function validation(message: string): Response {
  return awsErrorText(400, `ValidationException:${BEDROCK_NS}`, JSON.stringify({ message }));
}

/** No Authorization at all: AWS's 403 MissingAuthenticationTokenException (synthesized). */
function missingAuthentication(): Response {
  return awsError(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
}

/** A route Bedrock does not have (synthesized: AWS's UnknownOperationException). */
function unknownOperation(): Response {
  return awsErrorText(404, "UnknownOperationException", JSON.stringify({ message: null }));
}

function jsonResponse(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "application/json", "x-amzn-requestid": crypto.randomUUID(), ...extra } });
}
