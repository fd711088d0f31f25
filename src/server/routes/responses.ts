/**
 * The OpenAI Responses API in front of every provider: `POST /v1/responses` (stream and
 * non-stream) and `POST /v1/responses/input_tokens` on the core's responses operation
 * (core/responses-call.ts: native for a host that serves `/responses`, translated for any other,
 * the conversation rebuilt from this proxy's response store), and the store's own routes:
 * `GET` / `DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`. Errors are
 * OpenAI-shaped.
 */

import { Hono, type Context } from "hono";
import { countResponseTokens, openTurn, runResponsesCall, type ResponsesConversation, type Turn } from "../../core/responses-call.ts";
import type { CallFace } from "../../core/chat-call.ts";
import { responseNotFound } from "../../core/responses-conversation.ts";
import { visibleResponse } from "../../formats/responses/convert-completion-to-response.ts";
import { inputTokensRequestSchema, responsesRequestSchema } from "../../formats/responses/responses-schema.ts";
import type { ResponseObject } from "../../formats/responses/types.ts";
import type { AppEnv } from "../app-env.ts";
import { errorResponse } from "../errors.ts";
import { answerResponse, callFace, type ProxiedCall } from "../proxied-call.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { readProxiedRequest } from "../proxied-request.ts";
import { serveRouted } from "../routed-call.ts";

export function responsesRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/responses", (c) =>
    overTurns(c, ctx, responsesRequestSchema, async (turn, face) => {
      const answer = await runResponsesCall(turn, face);
      const dropped = answer.ok && answer.droppedTools.length > 0 ? { "x-proxy-dropped-tools": answer.droppedTools.join(", ") } : undefined;
      return answerResponse(answer, errorResponse, dropped);
    }),
  );

  app.post("/responses/input_tokens", (c) =>
    overTurns(c, ctx, inputTokensRequestSchema, async (turn, face) => {
      const counted = await countResponseTokens(turn, face);
      if (!counted.ok) return errorResponse(counted.error);
      return c.json({ object: "response.input_tokens", input_tokens: counted.count }, 200, { "x-proxy-token-count": counted.exact ? "provider" : "estimate" });
    }),
  );

  app.get("/responses/:id", async (c) => {
    const stored = await ctx.responses.get(c.req.param("id"));
    if (!stored) return errorResponse(responseNotFound(c.req.param("id")));
    // The store keeps the reasoning carried; a reader sees it only when it asks, as at creation.
    const include = [...c.req.queries("include") ?? [], ...c.req.queries("include[]") ?? []];
    return c.json(visibleResponse(stored.response as unknown as ResponseObject, include.includes("reasoning.encrypted_content")));
  });

  app.delete("/responses/:id", async (c) => {
    const id = c.req.param("id");
    return (await ctx.responses.delete(id)) ? c.json({ id, object: "response", deleted: true }) : errorResponse(responseNotFound(id));
  });

  app.get("/responses/:id/input_items", async (c) => {
    const stored = await ctx.responses.get(c.req.param("id"));
    if (!stored) return errorResponse(responseNotFound(c.req.param("id")));
    return c.json(listPage(stored.inputItems, new URL(c.req.url).searchParams));
  });

  return app;
}

/** The request read, then a turn opened for each target of its model (a route's, in order) and handled. */
async function overTurns(
  c: Context<AppEnv>,
  ctx: ProxyContext,
  schema: typeof responsesRequestSchema,
  handle: (turn: Turn, face: CallFace<ProxiedCall>) => Promise<Response>,
): Promise<Response> {
  const read = await readProxiedRequest(c, ctx, schema);
  if (!read.ok) return read.response;
  return serveRouted(c, ctx, read.routed, async (target) => {
    const opened = await openTurn(target, read.body, conversationOf(ctx));
    return opened.ok ? handle(opened.turn, callFace(c, ctx, target)) : errorResponse(opened.error);
  });
}

/** The conversation behind `/v1/responses` is the proxy's store; a failed put only costs a warning. */
function conversationOf(ctx: ProxyContext): ResponsesConversation {
  return { store: ctx.responses, onStoreError: (id, error) => ctx.log.warn(`Could not store response ${id}: ${String(error)}`) };
}


// ---------------------------------------------------------------------------------------------
// input_items listing
// ---------------------------------------------------------------------------------------------

const DEFAULT_PAGE = 20;
const MAX_PAGE = 100;

/** OpenAI's cursor list: newest first unless `order=asc`, `limit` 1–100, `after` an item id. */
function listPage(items: Record<string, unknown>[], params: URLSearchParams): Record<string, unknown> {
  const ordered = params.get("order") === "asc" ? items : items.toReversed();
  const after = params.get("after");
  const start = after === null ? 0 : ordered.findIndex((item) => item.id === after) + 1;
  const limit = Math.min(MAX_PAGE, Math.max(1, Number(params.get("limit") ?? DEFAULT_PAGE) || DEFAULT_PAGE));
  const data = ordered.slice(start, start + limit);
  return {
    object: "list",
    data,
    first_id: (data[0]?.id as string | undefined) ?? null,
    last_id: (data.at(-1)?.id as string | undefined) ?? null,
    has_more: start + limit < ordered.length,
  };
}
