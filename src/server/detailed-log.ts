/**
 * The detailed request log as a middleware (`--enable-request-logging`): for every request that
 * reached a provider's keys — whatever its route, known by the key call it opened — the client's
 * body, every chunk exactly as the client receives it, and at the end the final response with the
 * metadata: timings, usage, the decision trace and the keys passed over. A request refused before
 * any key (bad JSON, an unknown model) has its console line only. All writing happens on the log's
 * background queue; with logging off this costs one branch.
 */

import type { Context, MiddlewareHandler } from "hono";
import type { RequestLogEntry } from "../logging/request-log.ts";
import type { AppEnv } from "./app-env.ts";
import type { ProxyContext } from "./proxy-context.ts";

/** How long to wait for a stream's own end after its key was released (client gone, no flush). */
const CANCELLED_STREAM_GRACE_MS = 250;

export function detailedLog(ctx: ProxyContext): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!ctx.settings.requestLogging || c.req.method !== "POST") return next();
    const startedAt = Date.now();
    await next();
    if (!c.get("call")) return;
    const entry = ctx.requestLog.begin({
      requestId: c.get("requestId"),
      route: c.req.path,
      method: c.req.method,
      headers: c.req.raw.headers,
      // Hono kept the text the route read, so this costs nothing more (no stream tee); the log
      // parses it later, off the request path.
      body: await c.req.text(),
      startedAt,
    });
    if (!entry) return;
    if ((c.res.headers.get("content-type") ?? "").includes("text/event-stream") && c.res.body) {
      c.res = new Response(tapStream(c, ctx, entry, startedAt), c.res);
      return;
    }
    // Read once and hand the client a fresh response with the same text: cheaper than clone()'s tee.
    const text = await c.res.text();
    c.res = new Response(text, c.res);
    entry.finish({ ...outcome(c, ctx), status: c.res.status, body: text, timings: { totalMs: Date.now() - startedAt } });
  };
}

/** Passes the stream through untouched, recording each chunk; finishes the log when it ends. */
function tapStream(c: Context<AppEnv>, ctx: ProxyContext, entry: RequestLogEntry, startedAt: number): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let firstByteMs: number | undefined;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    entry.finish({ ...outcome(c, ctx), status: c.res.status, streamed: true, timings: { totalMs: Date.now() - startedAt, firstByteMs } });
  };
  // A client that leaves cancels the stream: no flush comes, but the key's release does.
  c.get("call")?.ended?.then(() => setTimeout(finish, CANCELLED_STREAM_GRACE_MS));
  return c.res.body!.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        firstByteMs ??= Date.now() - startedAt;
        entry.chunk(decoder.decode(chunk, { stream: true }));
        controller.enqueue(chunk);
      },
      flush: finish,
    }),
  );
}

/** What the proxied call left behind, plus the keys passed over for its model and why. */
function outcome(c: Context<AppEnv>, ctx: ProxyContext) {
  const call = c.get("call");
  if (!call) return {};
  const passedOver = ctx.providers.get(call.provider)?.pool.passedOver(call.model) ?? [];
  const skipped = passedOver.map(({ masked, why, until, reason }) => ({ key: masked, why, until: new Date(until).toISOString(), reason }));
  return { ...(call.route !== undefined ? { modelRoute: call.route, fellThrough: call.fellThrough ?? [] } : {}), provider: call.provider, model: call.model, usage: call.usage, trace: call.trace, skipped };
}
