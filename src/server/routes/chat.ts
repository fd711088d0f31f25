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
import { beginCall } from "../proxied-call.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { attemptTimeouts, planOrError, readProxiedRequest, SSE_HEADERS } from "../upstream-call.ts";

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
    const call = beginCall(c, ctx, runtime, model);

    if (!plan.stream) {
      const result = await call.run((lease, controller) => attemptJson([plan.request(lease.secret)], plan.decode, controller, timeouts));
      if (!result.ok) return errorResponse(result.error, call.headers(result));
      call.succeed(result.lease, result.value.usage);
      return new Response(result.value.text, { status: result.value.status, headers: { "content-type": "application/json", ...call.headers(result) } });
    }

    const result = await call.run((lease, controller) => attemptStream(plan.request(lease.secret), controller, timeouts, { translate: plan.translateStream }));
    if (!result.ok) return errorResponse(result.error, call.headers(result));
    const { lease } = result;
    const body = relayStream({
      start: result.value,
      dialect: openAIRelayDialect({ stripUsageChunk: plan.stripUsageChunk }),
      idleTimeoutMs: ctx.settings.streamIdleTimeoutMs,
      redact: (failure) => redactFailure(failure, lease),
      onEnd: call.streamEnd(lease),
    });
    return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...call.headers(result) } });
  });
  return app;
}
