/**
 * The shared shape of a proxied call: resolve the model, run the engine over the provider's keys,
 * and turn the outcome into a response with the debugging headers (`x-proxy-attempts`,
 * `x-proxy-key`, masked). Chat and embeddings differ only in the attempt they run.
 */

import type { AttemptResult, RotationResult } from "../engine/rotate.ts";
import type { Lease } from "../engine/key-pool.ts";
import type { AttemptTimeouts } from "../providers/openai/attempts.ts";
import type { ProviderRuntime, ProxyContext } from "./proxy-context.ts";

export interface CallRecord {
  provider: string;
  model: string;
  attempts: number;
  keyMasked?: string;
  usageTokens?: number;
}

export function attemptTimeouts(ctx: ProxyContext): AttemptTimeouts {
  return { connectMs: ctx.settings.connectTimeoutMs, firstByteMs: ctx.settings.firstByteTimeoutMs };
}

export function runOnKeys<T>(
  ctx: ProxyContext,
  runtime: ProviderRuntime,
  model: string,
  signal: AbortSignal,
  attempt: (lease: Lease, signal: AbortSignal) => Promise<AttemptResult<T>>,
): Promise<RotationResult<T>> {
  return ctx.rotator.run({
    pool: runtime.pool,
    model,
    deadline: Date.now() + ctx.settings.globalTimeoutMs,
    signal,
    attempt,
  });
}

export function proxyHeaders(result: RotationResult<unknown>): Record<string, string> {
  const headers: Record<string, string> = { "x-proxy-attempts": String(result.trace.length) };
  const last = result.trace.at(-1);
  // Header values must be ASCII: the display form's ellipsis becomes three dots here.
  if (last) headers["x-proxy-key"] = last.masked.replace("…", "...");
  return headers;
}
