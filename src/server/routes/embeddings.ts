/** `POST /v1/embeddings`: forwarded to the provider's embeddings endpoint over the key pool. */

import { Hono } from "hono";
import { runEmbeddingsCall } from "../../core/embeddings-call.ts";
import { embeddingsRequestSchema } from "../../formats/openai-requests.ts";
import type { AppEnv } from "../app-env.ts";
import { answerResponse, callFace } from "../proxied-call.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { readProxiedRequest } from "../proxied-request.ts";
import { serveRouted } from "../routed-call.ts";

export function embeddingsRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/embeddings", async (c) => {
    const request = await readProxiedRequest(c, ctx, embeddingsRequestSchema);
    if (!request.ok) return request.response;
    return serveRouted(c, ctx, request.routed, async (target) => answerResponse(await runEmbeddingsCall(target, request.body, callFace(c, ctx, target))));
  });
  return app;
}
