/**
 * What every scripted mock upstream shares: per-key scripts of behaviours, the lifecycle of one
 * request (recording, open-connection count, abort detection), waits that a stop() releases, and
 * the answers and text helpers that do not depend on a wire format (hangs, raw bodies, resets,
 * frame and content splitting, token estimates). The mocks differ only in the wire format they speak.
 */

interface Script<B> {
  behaviors: B[];
  next: number;
}

interface ScriptState<B> {
  scripts: Map<string, Script<B>>;
  /** Behaviour for keys without a script. */
  fallback: B;
}

interface LifecycleState {
  open: number;
  /** Aborted by stop() to release hung requests and pending delays. */
  stopping: AbortController;
}

/** What every mock's state holds before its own fields. */
export interface BaseState<B, C> extends ScriptState<B>, LifecycleState {
  /** Shared with the returned handle, so it is cleared in place, never replaced. */
  calls: C[];
  /** Feeds response ids, so every response in a run has distinct ones. */
  sequence: number;
}

export function baseState<B, C>(fallback: B): BaseState<B, C> {
  return { scripts: new Map(), fallback, calls: [], open: 0, stopping: new AbortController(), sequence: 0 };
}

/** The behaviours every mock has, whatever its wire format. */
export type CommonBehavior =
  /** Answer nothing until the client goes away or the mock is stopped. */
  | { kind: "hang" }
  /** Wait `firstByteMs`, then answer as the mock's default success does. */
  | { kind: "slow"; firstByteMs: number }
  /** Exactly this status, headers and body. */
  | { kind: "raw"; status: number; headers?: Record<string, string>; body: string };

function setScript<B>(state: ScriptState<B>, key: string, behavior: B | B[], mockName: string): void {
  const behaviors = Array.isArray(behavior) ? behavior : [behavior];
  if (behaviors.length === 0) throw new Error(`${mockName}: empty script for key ${key}`);
  state.scripts.set(key, { behaviors, next: 0 });
}

/** The behaviour for this call; arrays advance one step per call and then stick on the last. */
export function nextBehavior<B>(state: ScriptState<B>, key: string): B {
  const script = state.scripts.get(key);
  if (!script) return state.fallback;
  const behavior = script.behaviors[Math.min(script.next, script.behaviors.length - 1)]!;
  script.next += 1;
  return behavior;
}

function resetState<B>(state: ScriptState<B> & { calls: unknown[] }, fallback: B): void {
  state.scripts.clear();
  state.calls.length = 0;
  state.fallback = fallback;
}

async function stopServer(state: LifecycleState, server: ReturnType<typeof Bun.serve>): Promise<void> {
  // Release hangs and cancel delay timers first, so nothing outlives the server.
  state.stopping.abort();
  await server.stop(true);
}

export interface Lifecycle {
  /** Fires when the client goes away or the mock is stopped. */
  signal: AbortSignal;
  /** The answer is complete (or the mock chose to cut it); no longer counts as open. */
  done(): void;
  /** The answer did not reach the client. */
  abort(): void;
  /** Set by stream responses, which finish later than the handler returns. */
  streaming: boolean;
}

function trackRequest(state: LifecycleState, call: { aborted: boolean }, clientSignal: AbortSignal): Lifecycle {
  const signal = AbortSignal.any([clientSignal, state.stopping.signal]);
  let finished = false;
  state.open += 1;
  const finish = (aborted: boolean): void => {
    if (finished) return;
    finished = true;
    if (aborted) call.aborted = true;
    state.open -= 1;
    signal.removeEventListener("abort", onAbort);
  };
  const onAbort = (): void => finish(true);
  signal.addEventListener("abort", onAbort);
  if (signal.aborted) finish(true);
  return { signal, done: () => finish(false), abort: () => finish(true), streaming: false };
}

/** Resolve after `ms`, or as soon as `signal` aborts; the timer never outlives an abort. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Resolve when `signal` aborts; uses no timer, so a hang costs nothing once released. */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** The `hang` behaviour: answer nothing until the client goes away or the mock stops. */
export async function hang(signal: AbortSignal): Promise<Response> {
  await untilAborted(signal);
  return clientGone();
}

/** What a handler returns once nobody is listening any more; no client ever reads it. */
export function clientGone(): Response {
  return new Response(null, { status: 499 });
}

/** The `raw` behaviour, sent exactly as scripted. */
export function rawResponse(behavior: Extract<CommonBehavior, { kind: "raw" }>): Response {
  return new Response(behavior.body, { status: behavior.status, headers: behavior.headers });
}

/** Close the connection without any response: the body stream fails before the status line. */
export function connectionReset(): Response {
  // Erroring with `undefined` (not an Error) keeps Bun from printing a stack trace per reset.
  return new Response(new ReadableStream({ start: (controller) => controller.error(undefined) }));
}

/** A mis-scripted test, reported loudly rather than answered with a plausible body. */
export function mockMisuse(mockName: string, message: string): Response {
  return new Response(`${mockName}: ${message}`, { status: 500, headers: { "content-type": "text/plain" } });
}

/**
 * Serve one request: record `call`, count it open until its answer is complete, parse its body
 * (null when empty or not JSON) and let `respond` answer from the raw body text.
 */
export async function serveCall<C extends { body: any; aborted: boolean }>(
  state: LifecycleState & { calls: C[] },
  call: C,
  request: Request,
  respond: (rawBody: string, lifecycle: Lifecycle) => Promise<Response>,
): Promise<Response> {
  state.calls.push(call);
  const lifecycle = trackRequest(state, call, request.signal);
  try {
    const rawBody = await request.text();
    call.body = parseJson(rawBody);
    const response = await respond(rawBody, lifecycle);
    if (!lifecycle.streaming) lifecycle.done();
    return response;
  } catch (error) {
    // The handler failed: Bun answers 500, and nothing of ours reached the client.
    lifecycle.abort();
    throw error;
  }
}

/** A request body parsed, or null when it is empty or not JSON. */
export function parseJson(text: string): any {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Roughly four characters per token: deterministic usage numbers tests can predict. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/** Split `text` into `count` near-equal, non-empty pieces (fewer if the text is shorter; one "" if it is empty). */
export function splitContent(text: string, count: number): string[] {
  const parts = Math.max(1, Math.min(count, text.length));
  const pieces: string[] = [];
  for (let i = 0; i < parts; i++) {
    pieces.push(text.slice(Math.floor((i * text.length) / parts), Math.floor(((i + 1) * text.length) / parts)));
  }
  return pieces;
}

/**
 * The text and the first `count` pieces of a stream that breaks part-way: `base` is repeated when
 * it is too short, and cut the way a whole answer of at least `count + 1` (and `chunks`) pieces
 * would be, so every piece sent is non-empty and the answer is never complete.
 */
export function brokenStreamPieces(base: string, count: number, chunks: number): { text: string; pieces: string[] } {
  const text = base.repeat(Math.ceil((count + 1) / base.length));
  return { text, pieces: splitContent(text, Math.max(count + 1, chunks)).slice(0, count) };
}

/** `Authorization: Bearer <token>`; anything else counts as no token. */
export function bearerToken(request: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1];
}

/**
 * The page size of a list request: the client's `requested` when it is a positive whole number
 * no larger than `cap`, else `cap`. Never more than `cap`, since a list API may always serve a
 * short page and the proxy must follow the cursor.
 */
export function pageSize(requested: string | null, cap: number): number {
  const size = Number(requested);
  return Number.isInteger(size) && size > 0 ? Math.min(size, cap) : cap;
}

/**
 * A recorded stream body cut into its events, byte for byte: every piece ends with its blank-line
 * delimiter, and whatever follows the last one (a bare error object) is a piece of its own.
 */
export function splitFrames(text: string): string[] {
  const frames: string[] = [];
  const delimiter = /\r\n\r\n|\n\n|\r\r/g;
  let start = 0;
  for (let match = delimiter.exec(text); match; match = delimiter.exec(text)) {
    frames.push(text.slice(start, match.index + match[0].length));
    start = match.index + match[0].length;
  }
  if (start < text.length) frames.push(text.slice(start));
  return frames;
}

/** The handle every mock returns, whatever its wire format. */
export interface MockHandle<B, C> {
  /** Base URL including the API version path, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  /** Every request, in arrival order. */
  calls: C[];
  /** Script per key: a single behaviour repeats forever; an array is consumed one per call, after which the last one repeats. */
  script(key: string, behavior: B | B[]): void;
  /** Behaviour for keys without a script (until reset(), which restores the mock's own default). */
  setDefault(behavior: B): void;
  /** Calls made with this key (optionally only those whose path ends with `pathSuffix`, e.g. "/chat/completions"). */
  callsFor(key: string, pathSuffix?: string): C[];
  /** How many requests are being served right now (hung/slow/streaming included). */
  openConnections(): number;
  /** Clear scripts, calls and the default behaviour; options given at start stay. */
  reset(): void;
  stop(): Promise<void>;
}

/** Starts a mock on a free loopback port and hands back its handle. */
export function serveMock<B, C extends { key: string; path: string }>(
  state: BaseState<B, C>,
  options: { name: string; basePath: string; fetch: (request: Request) => Promise<Response> },
): MockHandle<B, C> {
  const fallback = state.fallback;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    // Hung and slow requests are the point of several behaviours; Bun's default 10 s idle
    // timeout would cut them on its own and hide what the proxy does.
    idleTimeout: 0,
    fetch: options.fetch,
  });
  return {
    url: `http://127.0.0.1:${server.port}${options.basePath}`,
    calls: state.calls,
    script: (key, behavior) => setScript(state, key, behavior, options.name),
    setDefault: (behavior) => {
      state.fallback = behavior;
    },
    callsFor: (key, pathSuffix) => state.calls.filter((c) => c.key === key && (pathSuffix === undefined || c.path.endsWith(pathSuffix))),
    openConnections: () => state.open,
    reset: () => resetState(state, fallback),
    stop: () => stopServer(state, server),
  };
}

/** How long a stream that ends in a reset waits after its last frame. */
const RESET_AFTER_MS = 25;

export interface FramedOptions {
  chunkDelayMs?: number;
  /** "reset" destroys the connection after the last frame instead of ending the body. */
  ending?: "close" | "reset";
}

/**
 * Serve frames one by one: each is enqueued on its own pull, with the delay between them, so a
 * client sees separate reads rather than one buffered body.
 */
export function framedResponse(frames: string[], headers: Record<string, string>, options: FramedOptions, lifecycle: Lifecycle): Response {
  lifecycle.streaming = true;
  const encoder = new TextEncoder();
  let sent = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent > 0) await sleep(options.chunkDelayMs ?? 0, lifecycle.signal);
      // The client may have gone while we slept; enqueueing into a cancelled stream throws.
      if (cancelled) return;
      if (lifecycle.signal.aborted) return controller.error(undefined); // stop() mid-stream: cut it
      if (sent < frames.length) {
        controller.enqueue(encoder.encode(frames[sent]!));
        sent += 1;
        return;
      }
      lifecycle.done();
      if (options.ending !== "reset") return controller.close();
      // A reset right behind the last frame can reach the client first: the kernel then drops the
      // frames still unread, and a test meant to cut a stream after its content would see it cut
      // before. A moment lets them be read, as on a real connection that fails mid-answer.
      await sleep(RESET_AFTER_MS, lifecycle.signal);
      if (!cancelled) controller.error(undefined);
    },
    cancel() {
      cancelled = true;
      lifecycle.abort();
    },
  });
  return new Response(body, { status: 200, headers });
}
