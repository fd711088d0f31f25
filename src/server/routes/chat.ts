/**
 * `POST /v1/chat/completions`, stream and non-stream, for every wire family. Streams commit only
 * after the first event with content, so everything that fails before that rotates invisibly and
 * still gets an honest HTTP status.
 */

import { Hono } from "hono";
import { redactFailure } from "../../engine/rotate.ts";
import { chatRequestSchema } from "../../formats/openai-requests.ts";
import { attemptJson, attemptStream } from "../../providers/attempts.ts";
import { openAIRelayDialect } from "../../providers/openai/openai-relay-dialect.ts";
import { relayStream } from "../../providers/relay-stream.ts";
import type { AppEnv } from "../app-env.ts";
import { errorResponse } from "../errors.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { attemptTimeouts, planOrError, proxyHeaders, readProxiedRequest, runOnKeys } from "../upstream-call.ts";

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

export function chatRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/chat/completions", async (c) => {
    const request = await readProxiedRequest(c, ctx, chatRequestSchema);
    if (!request.ok) return request.response;
    const { runtime, model } = request.target;
    const planned = planOrError(() => runtime.adapter.planChat(request.body, model, runtime.settings.baseUrl));
    if (!planned.ok) return planned.response;
    const { plan } = planned;
    const timeouts = attemptTimeouts(ctx);
    const call = { provider: runtime.settings.name, model, attempts: 0 };
    c.set("call", call);

    if (!plan.stream) {
      const result = await runOnKeys(ctx, runtime, model, c.req.raw.signal, (lease, signal) =>
        attemptJson([plan.request(lease.secret)], plan.decode, signal, timeouts),
      );
      call.attempts = result.trace.length;
      if (!result.ok) return errorResponse(result.error, proxyHeaders(result));
      const { text, usage, status } = result.value;
      ctx.rotator.settle(runtime.pool, result.lease, { kind: "success", usage });
      c.set("call", { ...call, keyMasked: result.lease.masked, usageTokens: usage ? usage.promptTokens + usage.completionTokens : undefined });
      return new Response(text, { status, headers: { "content-type": "application/json", ...proxyHeaders(result) } });
    }

    const result = await runOnKeys(ctx, runtime, model, c.req.raw.signal, (lease, signal) =>
      attemptStream(plan.request(lease.secret), signal, timeouts, { translate: plan.translateStream }),
    );
    call.attempts = result.trace.length;
    if (!result.ok) return errorResponse(result.error, proxyHeaders(result));
    const { lease } = result;
    c.set("call", { ...call, keyMasked: lease.masked });
    const body = relayStream({
      start: result.value,
      dialect: openAIRelayDialect({ stripUsageChunk: plan.stripUsageChunk }),
      idleTimeoutMs: ctx.settings.streamIdleTimeoutMs,
      redact: (failure) => redactFailure(failure, lease),
      onEnd: (settlement) => ctx.rotator.settle(runtime.pool, lease, settlement),
    });
    return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...proxyHeaders(result) } });
  });
  return app;
}
