/** `POST /v1/embeddings`: forwarded to the provider's `/embeddings` over the key pool. */

import { Hono } from "hono";
import { embeddingsRequestSchema } from "../../formats/openai-requests.ts";
import { attemptJson } from "../../providers/openai/attempts.ts";
import { prepareEmbeddingsBody } from "../../providers/openai/prepare-request.ts";
import type { AppEnv } from "../app-env.ts";
import { errorResponse } from "../errors.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { attemptTimeouts, proxyHeaders, readProxiedRequest, runOnKeys } from "../upstream-call.ts";

export function embeddingsRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/embeddings", async (c) => {
    const request = await readProxiedRequest(c, ctx, embeddingsRequestSchema);
    if (!request.ok) return request.response;
    const { runtime, model } = request.target;
    const body = prepareEmbeddingsBody(request.body, model);
    const url = `${runtime.settings.baseUrl}/embeddings`;
    const timeouts = attemptTimeouts(ctx);
    const result = await runOnKeys(ctx, runtime, model, c.req.raw.signal, (lease, signal) =>
      attemptJson({ url, key: lease.secret, body, signal, timeouts }),
    );
    c.set("call", { provider: runtime.settings.name, model, attempts: result.trace.length });
    if (!result.ok) return errorResponse(result.error, proxyHeaders(result));
    const { text, usage, status } = result.value;
    ctx.rotator.settle(runtime.pool, result.lease, { kind: "success", usage });
    c.set("call", { provider: runtime.settings.name, model, attempts: result.trace.length, keyMasked: result.lease.masked, usageTokens: usage?.promptTokens });
    return new Response(text, { status, headers: { "content-type": "application/json", ...proxyHeaders(result) } });
  });
  return app;
}
