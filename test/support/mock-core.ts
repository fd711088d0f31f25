/**
 * What every scripted mock upstream shares: per-key scripts of behaviours, the lifecycle of one
 * request (open-connection count, abort detection), and waits that a stop() releases. The mocks
 * differ only in the wire format they speak.
 */

export interface Script<B> {
  behaviors: B[];
  next: number;
}

export interface ScriptState<B> {
  scripts: Map<string, Script<B>>;
  /** Behaviour for keys without a script. */
  fallback: B;
}

export interface LifecycleState {
  open: number;
  /** Aborted by stop() to release hung requests and pending delays. */
  stopping: AbortController;
}

export function setScript<B>(state: ScriptState<B>, key: string, behavior: B | B[], mockName: string): void {
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

export function resetState<B>(state: ScriptState<B> & { calls: unknown[] }, fallback: B): void {
  state.scripts.clear();
  state.calls.length = 0;
  state.fallback = fallback;
}

export async function stopServer(state: LifecycleState, server: ReturnType<typeof Bun.serve>): Promise<void> {
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

export function trackRequest(state: LifecycleState, call: { aborted: boolean }, clientSignal: AbortSignal): Lifecycle {
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
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** The handle every mock returns, whatever its wire format. */
export interface MockHandle<B, C> {
  /** Base URL including the API version path. */
  url: string;
  calls: C[];
  script(key: string, behavior: B | B[]): void;
  setDefault(behavior: B): void;
  callsFor(key: string, pathSuffix?: string): C[];
  openConnections(): number;
  reset(): void;
  stop(): Promise<void>;
}

/** Starts a mock on a free loopback port and hands back its handle. */
export function serveMock<B, C extends { key: string; path: string }>(
  state: ScriptState<B> & LifecycleState & { calls: C[] },
  options: { name: string; basePath: string; fallback: B; fetch: (request: Request) => Promise<Response> },
): MockHandle<B, C> {
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
    reset: () => resetState(state, options.fallback),
    stop: () => stopServer(state, server),
  };
}

export interface FramedOptions {
  chunkDelayMs?: number;
  /** "reset" destroys the connection after the last frame instead of ending the body. */
  ending?: "close" | "reset";
  headers: Record<string, string>;
}

/**
 * Serve frames one by one: each is enqueued on its own pull, with the delay between them, so a
 * client sees separate reads rather than one buffered body.
 */
export function framedResponse(frames: string[], options: FramedOptions, lifecycle: Lifecycle): Response {
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
      if (options.ending === "reset") controller.error(undefined);
      else controller.close();
    },
    cancel() {
      cancelled = true;
      lifecycle.abort();
    },
  });
  return new Response(body, { status: 200, headers: options.headers });
}
