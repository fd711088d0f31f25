/**
 * `POST /v1/chat/completions`, stream and non-stream, for every wire family. Streams commit only
 * after the first event with content, so everything that fails before that rotates invisibly and
 * still gets an honest HTTP status.
 */

import { Hono } from "hono";
import { runChatCall } from "../../core/chat-call.ts";
import { chatRequestSchema } from "../../formats/openai-requests.ts";
import type { AppEnv } from "../app-env.ts";
import { errorResponse } from "../errors.ts";
import { beginCall } from "../proxied-call.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { attemptTimeouts, planOrError, readProxiedRequest, SSE_HEADERS } from "../proxied-request.ts";

export function chatRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/chat/completions", async (c) => {
    const request = await readProxiedRequest(c, ctx, chatRequestSchema);
    if (!request.ok) return request.response;
    const { runtime, model } = request.target;
    const planned = planOrError(() => runtime.adapter.planChat(request.body, model, runtime.settings.baseUrl));
    if (!planned.ok) return planned.response;
    const call = beginCall(c, ctx, runtime, model);
    const answer = await runChatCall(call, planned.plan, { timeouts: attemptTimeouts(ctx), streamIdleTimeoutMs: ctx.settings.streamIdleTimeoutMs });
    if (!answer.ok) return errorResponse(answer.error, call.headers(answer));
    if (answer.kind === "json") return new Response(answer.text, { status: answer.status, headers: { "content-type": "application/json", ...call.headers(answer) } });
    return new Response(answer.body, { status: 200, headers: { ...SSE_HEADERS, ...call.headers(answer) } });
  });
  return app;
}
