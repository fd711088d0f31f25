/**
 * `POST /v1/messages` and `POST /v1/messages/count_tokens`: the Anthropic Messages API in front of
 * every provider, on the core's messages operation (core/messages-call.ts: native for a family that
 * speaks it, translated for any other). Errors always use Anthropic's envelope.
 *
 * Natively, the client's `anthropic-beta` header and its `?beta=true` reach Anthropic as sent;
 * translated they are ignored, since only Anthropic knows what they switch on.
 */

import { Hono, type Context } from "hono";
import { countMessageTokens, runMessagesCall, type MessagesCallExtras } from "../../core/messages-call.ts";
import { resolveRouted, type RoutedTargets } from "../../core/model-routes.ts";
import { countTokensRequestSchema, messagesRequestSchema } from "../../formats/anthropic/messages-schema.ts";
import type { AnthropicRequest } from "../../formats/anthropic/types.ts";
import type { AppEnv } from "../app-env.ts";
import { anthropicErrorResponse } from "../anthropic-errors.ts";
import { answerResponse, callFace } from "../proxied-call.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { readJsonRequest } from "../read-request.ts";
import { serveRouted } from "../routed-call.ts";

export function messagesRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/messages", async (c) => {
    const request = await readRequest(c, ctx, messagesRequestSchema);
    if (!request.ok) return request.response;
    return serveRouted(c, ctx, request.routed, async (target) => answerResponse(await runMessagesCall(target, request.body, callFace(c, ctx, target), extrasOf(c)), anthropicErrorResponse));
  });

  app.post("/messages/count_tokens", async (c) => {
    const request = await readRequest(c, ctx, countTokensRequestSchema);
    if (!request.ok) return request.response;
    return serveRouted(c, ctx, request.routed, async (target) => {
      const counted = await countMessageTokens(target, request.body, callFace(c, ctx, target), extrasOf(c));
      if (!counted.ok) return anthropicErrorResponse(counted.error);
      const method = { "x-proxy-token-count": counted.exact ? "provider" : "estimate" };
      if (counted.text !== undefined) return new Response(counted.text, { status: 200, headers: { "content-type": "application/json", ...method } });
      return c.json({ input_tokens: counted.count }, 200, method);
    });
  });

  return app;
}

/** The checked body and the provider its model names, or the Anthropic-shaped error saying why not. */
async function readRequest(
  c: Context<AppEnv>,
  ctx: ProxyContext,
  schema: typeof messagesRequestSchema | typeof countTokensRequestSchema,
): Promise<{ ok: true; body: AnthropicRequest; routed: RoutedTargets } | { ok: false; response: Response }> {
  const parsed = await readJsonRequest(c, schema);
  if (!parsed.ok) return { ok: false, response: anthropicErrorResponse(parsed.error) };
  const body = parsed.value as AnthropicRequest;
  const resolved = resolveRouted(ctx.routes, ctx.providers, body.model);
  if (!resolved.ok) return { ok: false, response: anthropicErrorResponse(resolved.error) };
  return { ok: true, body, routed: resolved.routed };
}

/** Only `?beta=true` of the client's query is forwarded, and its betas header. */
function extrasOf(c: Context<AppEnv>): MessagesCallExtras {
  return { beta: c.req.header("anthropic-beta"), betaQuery: c.req.query("beta") === "true" };
}
