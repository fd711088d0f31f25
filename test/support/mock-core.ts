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
