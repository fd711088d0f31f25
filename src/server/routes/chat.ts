/**
 * `POST /v1/chat/completions`, stream and non-stream, for every wire family. Streams commit only
 * after the first event with content, so everything that fails before that rotates invisibly and
 * still gets an honest HTTP status.
 */

import { Hono } from "hono";
import { runChat } from "../../core/chat-call.ts";
import { chatRequestSchema } from "../../formats/openai-requests.ts";
import type { AppEnv } from "../app-env.ts";
import { answerResponse, callFace } from "../proxied-call.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { readProxiedRequest } from "../proxied-request.ts";
import { serveRouted } from "../routed-call.ts";

export function chatRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.post("/chat/completions", async (c) => {
    const request = await readProxiedRequest(c, ctx, chatRequestSchema);
    if (!request.ok) return request.response;
    return serveRouted(c, ctx, request.routed, async (target) => answerResponse(await runChat(target, request.body, callFace(c, ctx, target))));
  });
  return app;
}
