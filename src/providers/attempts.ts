/**
 * One attempt against an upstream, as the engine's attempt function, for any wire family: the
 * family supplies the request and the decoding, this module the timing and the failure handling.
 * Everything that can still go wrong before the client sees a byte becomes a classified failure,
 * so the engine can rotate invisibly: error statuses, a 200 whose body is an error, malformed
 * JSON, and — for streams — an error event or silence before the first event with real content.
 */

import { classifyEmbeddedError, classifyHttpFailure, isMiniMaxError, networkFailure } from "./classify-failure.ts";
import type { AttemptResult } from "../outcome.ts";
import type { Failure } from "../outcome.ts";
import type { TokenUsage } from "../outcome.ts";
import { createSseParser, type SseEvent, type SseParser } from "../formats/sse.ts";
import { limitReachedFromHeaders } from "./retry-hints.ts";
import { callUpstream, createChunkReader, readBodyText, type ChunkReader } from "./upstream-http.ts";

export interface AttemptTimeouts {
  /** Wait for response headers of a stream (hosts answer streams with headers at once). */
  connectMs: number;
  /** Wait for the complete answer (non-stream) or the first event with content (stream). */
  firstByteMs: number;
  /** MAX_UPSTREAM_RESPONSE_MB: the largest answer (or stream line) read before the attempt fails. */
  maxResponseBytes: number;
}

export interface UpstreamRequest {
  url: string;
  method?: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
}

/**
 * Thrown while building a key's request when the key cannot be made to authenticate (a token
 * exchange the identity provider refused, a credential that does not parse): the attempt fails
 * with this classified failure, as if the upstream had refused the key itself.
 */
export class CredentialFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
    this.name = "CredentialFailure";
  }
}

/** A request that may still be being built (signed, its token fetched). */
export type PendingRequest = UpstreamRequest | Promise<UpstreamRequest>;

/** The request once built; a key that cannot authenticate is the attempt's failure. Only signed or token-bearing requests wait. */
async function settled(request: Promise<UpstreamRequest>): Promise<UpstreamRequest | { failure: Failure }> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof CredentialFailure) return { failure: error.failure };
    throw error;
  }
}

/** An OpenAI-shaped answer ready for the client: JSON text, status and token usage. */
export interface JsonAnswer {
  status: number;
  text: string;
  usage?: TokenUsage;
}

export type Decoded = { ok: true; text: string; usage?: TokenUsage } | { ok: false; failure: Failure };

/**
 * One upstream answer of an attempt: as received (so it can pass through untouched), and parsed —
 * on first read of `body`, so a decoder that needs only the text never pays for parsing.
 */
export interface UpstreamAnswer {
  readonly body: unknown;
  readonly text: string;
}

/** Turns the upstream answers of one attempt into the client's answer, or a failure. */
export type DecodeAnswers = (answers: UpstreamAnswer[], headers: Headers) => Decoded;

/** Upstream stream body → OpenAI SSE bytes (identity for OpenAI-compatible hosts). */
export type StreamTranslator = (body: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;

export interface StreamStart {
  reader: ChunkReader;
  parser: SseParser;
  /** Events received before the stream was committed, up to the one that committed it: sent first. */
  held: SseEvent[];
  /** Events that came in the same read after the committing one: sent next, before reading on. */
  rest: SseEvent[];
  /** Upstream response headers, for classifying an error that arrives later in the stream. */
  headers: Headers;
}

/**
 * A non-streaming attempt: the requests run one after another with the same key (a family may
 * split a large batch), and `decode` turns their answers into the client's answer.
 */
export async function attemptJson(
  requests: readonly PendingRequest[],
  decode: DecodeAnswers,
  controller: AbortController,
  timeouts: AttemptTimeouts,
): Promise<AttemptResult<JsonAnswer>> {
  const started = Date.now();
  const answers: UpstreamAnswer[] = [];
  let headers: Headers | undefined;
  let status = 200;
  for (const pending of requests) {
    // Most families build their request at once: no extra turn of the event loop for them.
    const request = pending instanceof Promise ? await settled(pending) : pending;
    if ("failure" in request) return { ok: false, failure: request.failure };
    const remaining = (): number => Math.max(1, timeouts.firstByteMs - (Date.now() - started));
    const reply = await callUpstream({ ...request, controller, headersTimeoutMs: remaining() });
    if (!reply.ok) return reply;
    const body = await readBodyText(reply.response, controller, remaining(), timeouts.maxResponseBytes);
    if (!body.ok) return body;
    const { response } = reply;
    if (response.status < 200 || response.status >= 300) {
      return { ok: false, failure: classifyHttpFailure({ status: response.status, headers: response.headers, body: body.text, now: Date.now() }) };
    }
    answers.push(lazyAnswer(body.text));
    headers = response.headers;
    status = response.status;
  }
  let decoded: Decoded;
  try {
    decoded = decode(answers, headers ?? new Headers());
  } catch (error) {
    return { ok: false, failure: undecodableAnswer(error) };
  }
  if (!decoded.ok) return decoded;
  const limitReached = headers === undefined ? undefined : limitReachedFromHeaders(headers, Date.now());
  return { ok: true, value: { status, text: decoded.text, usage: decoded.usage }, ...(limitReached ? { limitReached } : {}) };
}

/**
 * A 200 that a decoder could not map is an upstream that answered wrong this once (a glitch, a
 * shape it does not usually send), so it is transient: retried and rotated, never the client's 500.
 * Decoders are pure data mapping, so a SyntaxError can only be a body that is not JSON; any other
 * throw is a shape they did not expect. The exception's own text stays out: it speaks of our code.
 */
function undecodableAnswer(error: unknown): Failure {
  const what = error instanceof SyntaxError ? "a body that is not valid JSON" : "a body of a shape the proxy cannot read";
  return { ...networkFailure(`the upstream answered HTTP 200 with ${what}`), status: 200 };
}

function lazyAnswer(text: string): UpstreamAnswer {
  let parsed: { value: unknown } | undefined;
  return {
    text,
    get body() {
      parsed ??= { value: JSON.parse(text) };
      return parsed.value;
    },
  };
}

/** A 200 body that is an error object, as OpenRouter answers when a request fails after all. */
export function embeddedErrorOf(body: unknown, headers: Headers): Failure | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const answer = body as Record<string, unknown>;
  if (isMiniMaxError(answer)) return classifyEmbeddedError(answer, headers, Date.now());
  if (answer.error === undefined || answer.error === null || answer.choices !== undefined || answer.data !== undefined) return undefined;
  return classifyEmbeddedError(answer, headers, Date.now());
}

export interface StreamOptions {
  /** Upstream events → OpenAI SSE, for a family that streams in its own framing. */
  translate?: StreamTranslator;
  inspect?: EventInspector;
  /** The content type a stream answer has (Bedrock's binary event stream); default `text/event-stream`. */
  streamType?: string;
}

/**
 * A streaming call. Commits only at the first event that carries content, a finish reason or usage:
 * role-only preambles and keep-alive comments are held back, so an error right after them still
 * rotates to the next key without the client noticing.
 */
export async function attemptStream(
  pending: PendingRequest,
  controller: AbortController,
  timeouts: AttemptTimeouts,
  options: StreamOptions = {},
): Promise<AttemptResult<StreamStart>> {
  const { translate, inspect = inspectOpenAIEvent, streamType = "text/event-stream" } = options;
  const started = Date.now();
  const request = pending instanceof Promise ? await settled(pending) : pending;
  if ("failure" in request) return { ok: false, failure: request.failure };
  const reply = await callUpstream({ ...request, controller, headersTimeoutMs: Math.min(timeouts.connectMs, timeouts.firstByteMs) });
  if (!reply.ok) return reply;
  const { response } = reply;
  const remaining = (): number => Math.max(1, timeouts.firstByteMs - (Date.now() - started));
  if (response.status < 200 || response.status >= 300 || !(response.headers.get("content-type") ?? "").includes(streamType)) {
    const body = await readBodyText(response, controller, remaining(), timeouts.maxResponseBytes);
    if (!body.ok) return body;
    return { ok: false, failure: classifyNonStreamAnswer(response, body.text) };
  }

  const reader = createChunkReader(translate ? translate(response.body!) : response.body!, controller, timeouts.maxResponseBytes);
  const parser = createSseParser();
  const held: SseEvent[] = [];
  for (;;) {
    const read = await reader.next(remaining());
    if ("failed" in read) return { ok: false, failure: read.failure };
    const events = read.done ? parser.end() : parser.push(read.text);
    for (const [index, event] of events.entries()) {
      const verdict = inspect(event, response.headers);
      if (verdict.kind === "skip") continue;
      if (verdict.kind === "failure") {
        reader.cancel();
        return { ok: false, failure: verdict.failure };
      }
      held.push(event);
      if (verdict.kind === "substantive") {
        // Events that arrived in the same read belong to the committed stream too; they go out
        // after the first bytes, so a read holding a whole answer does not delay them.
        const limitReached = limitReachedFromHeaders(response.headers, Date.now());
        return { ok: true, value: { reader, parser, held, rest: events.slice(index + 1), headers: response.headers }, ...(limitReached ? { limitReached } : {}) };
      }
    }
    if (read.done) {
      // The upstream closed without a single event of content: nothing usable was produced.
      return { ok: false, failure: networkFailure("the upstream closed the stream before sending any content") };
    }
  }
}

/**
 * What one event means before the stream is committed: a failure (rotate), content (commit), a
 * preamble to hold back until content comes, or nothing worth keeping (keep-alive comments).
 */
export type EventVerdict = { kind: "failure"; failure: Failure } | { kind: "substantive" } | { kind: "preamble" } | { kind: "skip" };

export type EventInspector = (event: SseEvent, headers: Headers) => EventVerdict;

/** OpenAI SSE: content, a finish reason, usage or `[DONE]` commit; an error object fails. */
export function inspectOpenAIEvent(event: SseEvent, headers: Headers): EventVerdict {
  const data = event.data;
  if (data === undefined) return { kind: "skip" };
  if (data === "[DONE]") return { kind: "substantive" };
  let chunk: Record<string, unknown>;
  try {
    chunk = JSON.parse(data);
  } catch {
    return { kind: "failure", failure: { ...networkFailure("the upstream sent a stream event that is not valid JSON"), status: 200 } };
  }
  if (chunk.error !== undefined && chunk.error !== null) {
    return { kind: "failure", failure: classifyEmbeddedError(chunk, headers, Date.now()) };
  }
  return hasSubstance(chunk) ? { kind: "substantive" } : { kind: "preamble" };
}

function hasSubstance(chunk: Record<string, unknown>): boolean {
  if (chunk.usage !== undefined && chunk.usage !== null) return true;
  const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
  for (const choice of choices as Record<string, unknown>[]) {
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) return true;
    const delta = (choice.delta ?? {}) as Record<string, unknown>;
    for (const field of ["content", "reasoning_content", "reasoning", "refusal"]) {
      const value = delta[field];
      if ((typeof value === "string" && value.length > 0) || Array.isArray(value)) return true;
    }
    if (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) return true;
    if (delta.function_call !== undefined && delta.function_call !== null) return true;
  }
  return false;
}

/** A stream request answered with an error status or with plain JSON instead of events. */
function classifyNonStreamAnswer(response: Response, text: string) {
  const now = Date.now();
  if (response.status < 200 || response.status >= 300) {
    return classifyHttpFailure({ status: response.status, headers: response.headers, body: text, now });
  }
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (parsed.error !== undefined && parsed.error !== null) return classifyEmbeddedError(parsed, response.headers, now);
  } catch {
    // fall through: not JSON either
  }
  return { ...networkFailure("the upstream answered a streaming request without an event stream"), status: response.status };
}
