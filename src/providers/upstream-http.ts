/**
 * Talking to an upstream with per-attempt time limits. `fetch` has one abort signal — the
 * attempt's controller, which the engine also aborts at the deadline or when the client leaves —
 * so each phase (waiting for response headers, waiting for the next body piece) arms its own timer
 * on it and turns a timeout into a classified network failure instead of an exception.
 */

import { timeoutFailure } from "../outcome.ts";
import { classifyHttpFailure, networkFailure } from "./classify-failure.ts";
import type { Failure } from "../outcome.ts";

export interface UpstreamCall {
  url: string;
  method?: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  /**
   * The attempt's controller: aborted by the engine at the deadline or when the client leaves, and
   * here when a phase times out. Aborting it also ends the response body.
   */
  controller: AbortController;
  /** Longest wait for response headers. */
  headersTimeoutMs: number;
}

export type UpstreamReply = { ok: true; response: Response } | { ok: false; failure: Failure };

/** Send one request and wait for the response headers. */
export async function callUpstream(call: UpstreamCall): Promise<UpstreamReply> {
  const { controller } = call;
  if (controller.signal.aborted) return { ok: false, failure: networkFailure("the request was cancelled before it was sent") };
  const timer = armTimeout(controller, call.headersTimeoutMs);
  try {
    const response = await fetch(call.url, {
      method: call.method ?? "POST",
      headers: call.headers,
      body: call.body,
      signal: controller.signal,
      // Upstream errors must reach the classifier, not be followed somewhere else.
      redirect: "manual",
    });
    return { ok: true, response };
  } catch (error) {
    if (timer.fired()) return { ok: false, failure: timeoutFailure(`no response headers within ${formatSeconds(call.headersTimeoutMs)}`) };
    const what = controller.signal.aborted ? "the request deadline passed or the client left while waiting for response headers" : describeNetworkError(error);
    return { ok: false, failure: networkFailure(what) };
  } finally {
    timer.clear();
  }
}

/** MAX_UPSTREAM_RESPONSE_MB's default: far above any real answer, far below what exhausts memory. */
export const DEFAULT_MAX_UPSTREAM_RESPONSE_BYTES = 64 * 1024 * 1024;

function tooLargeFailure(status: number, maxBytes: number): Failure {
  return { class: "transient", status, message: `the upstream answer is larger than ${formatMegabytes(maxBytes)} (MAX_UPSTREAM_RESPONSE_MB)` };
}

/**
 * Read the whole body as text, giving up (and aborting the call) after `timeoutMs` or past
 * `maxBytes` (MAX_UPSTREAM_RESPONSE_MB).
 */
export async function readBodyText(
  response: Response,
  controller: AbortController,
  timeoutMs: number,
  maxBytes = DEFAULT_MAX_UPSTREAM_RESPONSE_BYTES,
): Promise<{ ok: true; text: string } | { ok: false; failure: Failure }> {
  const timer = armTimeout(controller, timeoutMs);
  try {
    const declared = Number(response.headers.get("content-length") ?? Number.NaN);
    const encoded = (response.headers.get("content-encoding") ?? "identity") !== "identity";
    if (declared > maxBytes && !encoded) return giveUp(response, controller, maxBytes);
    // A declared, uncompressed length is what will arrive: the native reader is the fast path.
    if (declared >= 0 && !encoded) return { ok: true, text: await response.text() };
    const pieces: Uint8Array[] = [];
    let size = 0;
    for (const reader = response.body?.getReader(); reader; ) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) return giveUp(response, controller, maxBytes);
      pieces.push(value);
    }
    return { ok: true, text: new TextDecoder().decode(Buffer.concat(pieces, size)) };
  } catch (error) {
    if (timer.fired()) return { ok: false, failure: timeoutFailure(`the response body did not arrive within ${formatSeconds(timeoutMs)}`) };
    return { ok: false, failure: networkFailure(describeNetworkError(error)) };
  } finally {
    timer.clear();
  }
}

/** Stop an oversized answer: aborting the call drops the connection instead of draining it. */
function giveUp(response: Response, controller: AbortController, maxBytes: number): { ok: false; failure: Failure } {
  controller.abort();
  response.body?.cancel().catch(() => {});
  return { ok: false, failure: tooLargeFailure(response.status, maxBytes) };
}

export type ChunkRead =
  | {
      done: false;
      text: string;
      /** The piece as received, for passing on untouched. */
      bytes: Uint8Array;
      /** The decoder held no partial character from the piece before, so `text` is exactly `bytes`. */
      startsClean: boolean;
    }
  | { done: true }
  | { failed: true; failure: Failure };

/**
 * Reads a body stream as text pieces with an idle limit between pieces. On a timeout the call is
 * aborted, which also ends the upstream request.
 */
export function createChunkReader(body: ReadableStream<Uint8Array>, controller: AbortController, maxLineBytes = DEFAULT_MAX_UPSTREAM_RESPONSE_BYTES) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  // Whether the last piece may have ended inside a multi-byte character (its last byte not ASCII).
  let maybeSplit = false;
  // Bytes since the last line feed: a stream event is lines, so one line past the cap is an answer
  // that would otherwise pile up in the SSE parser's buffer without bound.
  let lineBytes = 0;
  return {
    async next(idleTimeoutMs: number): Promise<ChunkRead> {
      const timer = armTimeout(controller, idleTimeoutMs);
      try {
        const { done, value } = await reader.read();
        if (done) {
          const tail = decoder.decode();
          return tail.length > 0 ? { done: false, text: tail, bytes: new TextEncoder().encode(tail), startsClean: false } : { done: true };
        }
        const lastFeed = value.lastIndexOf(0x0a);
        lineBytes = lastFeed === -1 ? lineBytes + value.length : value.length - lastFeed - 1;
        if (lineBytes > maxLineBytes) {
          reader.cancel().catch(() => {});
          controller.abort();
          return { failed: true, failure: tooLargeFailure(0, maxLineBytes) };
        }
        const startsClean = !maybeSplit;
        maybeSplit = value.length > 0 && value[value.length - 1]! >= 0x80;
        return { done: false, text: decoder.decode(value, { stream: true }), bytes: value, startsClean };
      } catch (error) {
        // A reason given to the abort (a shutdown) says why better than the error it caused.
        const reason = controller.signal.reason;
        if (timer.fired()) return { failed: true, failure: timeoutFailure(`the upstream stream went silent for ${formatSeconds(idleTimeoutMs)}`) };
        return { failed: true, failure: networkFailure(typeof reason === "string" ? reason : describeNetworkError(error)) };
      } finally {
        timer.clear();
      }
    },
    cancel(): void {
      controller.abort();
      reader.cancel().catch(() => {});
    },
  };
}

export type ChunkReader = ReturnType<typeof createChunkReader>;

/** Abort `controller` after `ms` unless cleared first; remembers whether it fired. */
function armTimeout(controller: AbortController, ms: number): { fired(): boolean; clear(): void } {
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    controller.abort();
  }, ms);
  return { fired: () => fired, clear: () => clearTimeout(timer) };
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") return "connection refused";
  if (code === "ECONNRESET" || code === "ConnectionClosed") return "connection reset by the upstream";
  if (code === "ENOTFOUND" || code === "FailedToOpenSocket") return "the upstream host could not be reached";
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 0 ? `network error: ${message}` : "network error";
}

function formatMegabytes(bytes: number): string {
  return `${Number((bytes / 1024 / 1024).toFixed(2))} MiB`;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

/**
 * A side call whose answer is one JSON document (model lists): the parsed body, or the classified
 * failure of a non-2xx answer, a timeout, or a body that is not JSON.
 */
export async function getUpstreamJson(options: {
  url: string;
  headers: Record<string, string>;
  signal: AbortSignal;
  timeoutMs: number;
  /** Names the document in the failure message ("the Gemini model list"). */
  what: string;
}): Promise<{ ok: true; body: unknown } | { ok: false; failure: Failure }> {
  const started = Date.now();
  const controller = new AbortController();
  options.signal.addEventListener("abort", () => controller.abort(), { once: true });
  if (options.signal.aborted) controller.abort();
  const reply = await callUpstream({ url: options.url, method: "GET", headers: options.headers, controller, headersTimeoutMs: options.timeoutMs });
  if (!reply.ok) return reply;
  const text = await readBodyText(reply.response, controller, Math.max(1, options.timeoutMs - (Date.now() - started)));
  if (!text.ok) return text;
  const { status, headers } = reply.response;
  if (status < 200 || status >= 300) return { ok: false, failure: classifyHttpFailure({ status, headers, body: text.text, now: Date.now() }) };
  try {
    return { ok: true, body: JSON.parse(text.text) };
  } catch {
    return { ok: false, failure: { class: "transient", status, message: `${options.what} is not valid JSON` } };
  }
}
