/**
 * The shared front of a proxied call: read and validate the body, resolve its model, and
 * the per-attempt timeouts.
 */

import type { Context } from "hono";
import type { z } from "zod";
import type { AttemptTimeouts } from "../providers/attempts.ts";
import { errorResponse } from "./errors.ts";
import type { ProxyContext } from "./proxy-context.ts";
import { readJsonRequest } from "./read-request.ts";
import { resolveRouted, type RoutedTargets } from "../core/model-routes.ts";

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

export function attemptTimeouts(ctx: ProxyContext): AttemptTimeouts {
  // Unset, the engine's share of the deadline limits each attempt instead (RotatorOptions.attemptShare).
  const firstByteMs = ctx.settings.firstByteTimeoutMs ?? ctx.settings.globalTimeoutMs;
  return { connectMs: ctx.settings.connectTimeoutMs, firstByteMs, maxResponseBytes: ctx.settings.maxUpstreamResponseBytes };
}

/** Parse and validate the body, then resolve its model (a route, or `provider/model`); a failure is the answer to send. */
export async function readProxiedRequest<S extends z.ZodType<{ model: string }>>(
  c: Context,
  ctx: ProxyContext,
  schema: S,
): Promise<{ ok: true; body: z.infer<S>; routed: RoutedTargets } | { ok: false; response: Response }> {
  const parsed = await readJsonRequest(c, schema);
  if (!parsed.ok) return { ok: false, response: errorResponse(parsed.error) };
  const resolved = resolveRouted(ctx.routes, ctx.providers, parsed.value.model);
  if (!resolved.ok) return { ok: false, response: errorResponse(resolved.error) };
  return { ok: true, body: parsed.value, routed: resolved.routed };
}
