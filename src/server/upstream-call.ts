/**
 * The shared shape of a proxied call: resolve the model, run the engine over the provider's keys,
 * and turn the outcome into a response with the debugging headers (`x-proxy-attempts`,
 * `x-proxy-key`, masked). Chat and embeddings differ only in the attempt they run.
 */

import type { Context } from "hono";
import type { z } from "zod";
import type { AttemptResult, RotationResult } from "../engine/rotate.ts";
import type { Lease } from "../engine/key-pool.ts";
import type { AttemptTimeouts } from "../providers/attempts.ts";
import { UnsupportedRequestError } from "../providers/adapter.ts";
import { errorResponse, invalidRequest } from "./errors.ts";
import type { ProviderRuntime, ProxyContext } from "./proxy-context.ts";
import { readJsonRequest } from "./read-request.ts";
import { resolveModel, type ModelTarget } from "./resolve-model.ts";

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

/** Parse and validate the body, then resolve its `provider/model`; a failure is the answer to send. */
export async function readProxiedRequest<S extends z.ZodType<{ model: string }>>(
  c: Context,
  ctx: ProxyContext,
  schema: S,
): Promise<{ ok: true; body: z.infer<S>; target: ModelTarget } | { ok: false; response: Response }> {
  const parsed = await readJsonRequest(c, schema);
  if (!parsed.ok) return { ok: false, response: errorResponse(parsed.error) };
  const resolved = resolveModel(ctx, parsed.value.model);
  if (!resolved.ok) return { ok: false, response: errorResponse(resolved.error) };
  return { ok: true, body: parsed.value, target: resolved.target };
}

/** Build a family's plan, turning a request it cannot express into a precise 400. */
export function planOrError<T>(build: () => T): { ok: true; plan: T } | { ok: false; response: Response } {
  try {
    return { ok: true, plan: build() };
  } catch (error) {
    if (error instanceof UnsupportedRequestError) return { ok: false, response: errorResponse(invalidRequest(error.message, error.param)) };
    throw error;
  }
}
