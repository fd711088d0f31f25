/**
 * What happens around every request: a request id, and once the answer is over (for a stream:
 * once the stream is over) one console line, the metrics, and — when enabled — the detailed
 * request log. Nothing here runs on the per-chunk path.
 */

import type { MiddlewareHandler } from "hono";
import { getConnInfo } from "hono/bun";
import type { AppEnv } from "./app-env.ts";
import type { CallRecord } from "../core/key-call.ts";
import type { ProxyContext } from "./proxy-context.ts";

/**
 * `req_` and 24 hex digits: a random half drawn once per process and a counter, so ids are unique
 * across restarts without drawing random bytes for every request.
 */
export function createRequestIds(): () => string {
  const processPart = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  let counter = 0;
  return () => `req_${processPart}${(counter++).toString(16).padStart(12, "0")}`;
}

export function observeRequests(ctx: ProxyContext): MiddlewareHandler<AppEnv> {
  const nextRequestId = createRequestIds();
  return async (c, next) => {
    const requestId = nextRequestId();
    c.set("requestId", requestId);
    const started = performance.now();
    // The scrape that reads the gauge is not traffic the gauge should count.
    const counted = c.req.path !== "/metrics";
    if (counted) ctx.metrics.inFlight(1);
    try {
      await next();
    } finally {
      c.res.headers.set("x-request-id", requestId);
    }
    // The response goes out now: a whole answer, or a stream's headers with the events that
    // committed it, which the relay sends at once.
    const firstByteMs = performance.now() - started;
    const status = c.res.status;
    const call = c.get("call");
    // The line is built only when it will be written: at LOG_LEVEL=warn a 2xx costs nothing here.
    const logged = c.req.path !== "/healthz" && ctx.log.enabled(status >= 500 ? "warn" : "info");
    const client = logged ? clientAddress(c) : "";
    const done = (): void => {
      if (counted) ctx.metrics.inFlight(-1);
      const durationMs = performance.now() - started;
      if (call) ctx.metrics.observeRequest({ route: routeLabel(c.req.path), provider: call.provider, model: call.model, status, durationMs, firstByteMs });
      if (logged) logLine(ctx, { requestId, client, method: c.req.method, path: c.req.path, status, durationMs, call });
    };
    if (call?.ended) call.ended.then(done);
    else done();
  };
}

function clientAddress(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  try {
    const { remote } = getConnInfo(c);
    return remote.address ? `${remote.address}:${remote.port ?? ""}` : "-";
  } catch {
    return "-";
  }
}

interface LineFields {
  requestId: string;
  client: string;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  call: CallRecord | undefined;
}

/** time (from the logger), request id, client, provider/model, key, attempts, status, latency, tokens */
function logLine(ctx: ProxyContext, f: LineFields): void {
  const parts = [f.requestId, f.client, `${f.method} ${f.path}`];
  const call = f.call;
  if (call) {
    parts.push(call.route === undefined ? `${call.provider}/${call.model}` : `route ${call.route} → ${call.provider}/${call.model}`);
    if (call.keyMasked) parts.push(`key ${call.keyMasked}`);
    parts.push(`${call.attempts} attempt${call.attempts === 1 ? "" : "s"}`);
  }
  parts.push(`→ ${f.status}`, `${f.durationMs.toFixed(0)} ms`);
  if (call?.usage) parts.push(`${call.usage.promptTokens}+${call.usage.completionTokens} tokens`);
  // The model and path are the client's text: ctx.log masks a secret pasted there, as every file does.
  const line = parts.join("  ");
  if (f.status >= 500) ctx.log.warn(line);
  else ctx.log.info(line);
}

/**
 * The route as a metrics label: Gemini-native paths name the model (`/v1beta/models/x:generateContent`),
 * which the `model` label already holds, so they are folded into one series per method.
 */
export function routeLabel(path: string): string {
  const colon = path.lastIndexOf(":");
  const models = path.indexOf("/models/");
  return colon > models && models !== -1 ? `${path.slice(0, models)}/models/{model}${path.slice(colon)}` : path;
}
