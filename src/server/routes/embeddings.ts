/** `POST /v1/embeddings`: forwarded to the provider's embeddings endpoint over the key pool. */

import { Hono } from "hono";
import { embeddingsRequestSchema } from "../../formats/openai-requests.ts";
import { attemptJson } from "../../providers/attempts.ts";
import type { AppEnv } from "../app-env.ts";
import { errorResponse } from "../errors.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { attemptTimeouts, planOrError, proxyHeaders, readProxiedRequest, runOnKeys } from "../upstream-call.ts";

export function embeddingsRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/embeddings", async (c) => {
    const request = await readProxiedRequest(c, ctx, embeddingsRequestSchema);
    if (!request.ok) return request.response;
    const { runtime, model } = request.target;
    const planned = planOrError(() => runtime.adapter.planEmbeddings(request.body, model, runtime.settings.baseUrl));
    if (!planned.ok) return planned.response;
    const { plan } = planned;
    const timeouts = attemptTimeouts(ctx);
    const result = await runOnKeys(ctx, runtime, model, c.req.raw.signal, (lease, signal) =>
      attemptJson(plan.requests(lease.secret), plan.decode, signal, timeouts),
    );
    const call = { provider: runtime.settings.name, model, attempts: result.trace.length };
    c.set("call", call);
    if (!result.ok) return errorResponse(result.error, proxyHeaders(result));
    const { text, usage, status } = result.value;
    ctx.rotator.settle(runtime.pool, result.lease, { kind: "success", usage });
    c.set("call", { ...call, keyMasked: result.lease.masked, usageTokens: usage?.promptTokens });
    return new Response(text, { status, headers: { "content-type": "application/json", ...proxyHeaders(result) } });
  });
  return app;
}
