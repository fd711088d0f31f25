/** `POST /v1/embeddings`: forwarded to the provider's embeddings endpoint over the key pool. */

import { Hono } from "hono";
import { embeddingsRequestSchema } from "../../formats/openai-requests.ts";
import { attemptJson } from "../../providers/attempts.ts";
import type { AppEnv } from "../app-env.ts";
import { errorResponse } from "../errors.ts";
import { beginCall } from "../proxied-call.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { attemptTimeouts, planOrError, readProxiedRequest } from "../proxied-request.ts";

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
    const call = beginCall(c, ctx, runtime, model);
    const result = await call.run((lease, controller) => attemptJson(plan.requests(lease.secret), plan.decode, controller, timeouts));
    if (!result.ok) return errorResponse(result.error, call.headers(result));
    call.succeed(result.lease, result.value.usage);
    return new Response(result.value.text, { status: result.value.status, headers: { "content-type": "application/json", ...call.headers(result) } });
  });
  return app;
}
