/**
 * The OpenAI Responses API in front of every provider: `POST /v1/responses` (stream and
 * non-stream), `GET` / `DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items` and
 * `POST /v1/responses/input_tokens`.
 *
 * A provider that serves `/responses` itself (`openai`, or `<P>_RESPONSES=native`) gets the
 * client's body with the model renamed; every other one gets the request translated to the
 * canonical chat form, run over its keys like any chat request, and the answer translated back.
 * Either way `previous_response_id` is rebuilt from this proxy's own store, so a conversation
 * continues whichever key (or provider) serves the next turn, and a response with `store` not
 * false is kept for the next turn and for `GET`. Errors are OpenAI-shaped.
 */

import { Hono, type Context } from "hono";
import { redactFailure } from "../../engine/rotate.ts";
import { createResponseEventWriter } from "../../formats/responses/chunks-to-response-events.ts";
import { convertCompletionToResponse, visibleResponse, type ResponseContext } from "../../formats/responses/convert-completion-to-response.ts";
import { convertResponsesToChat } from "../../formats/responses/convert-responses-to-chat.ts";
import { itemId } from "../../formats/responses/item-id.ts";
import { decodeReasoningCarrier } from "../../formats/responses/reasoning-carrier.ts";
import { inputTokensRequestSchema, responsesRequestSchema } from "../../formats/responses/responses-schema.ts";
import type { ResponseInputItem, ResponseObject, ResponsesRequest } from "../../formats/responses/types.ts";
import { isRecord } from "../../formats/is-record.ts";
import { attemptJson, attemptStream } from "../../providers/attempts.ts";
import { openAIHeaders } from "../../providers/openai/openai-headers.ts";
import { decodeNativeResponse, inspectResponsesEvent, responsesRelayDialect } from "../../providers/openai/responses-native.ts";
import { relayStream } from "../../providers/relay-stream.ts";
import type { AppEnv } from "../app-env.ts";
import { canonicalForProvider } from "../../core/canonical-for-provider.ts";
import { countRequestTokens } from "../count-request-tokens.ts";
import { errorResponse } from "../errors.ts";
import { beginCall } from "../proxied-call.ts";
import type { ProxyContext } from "../proxy-context.ts";
import type { ProviderRuntime } from "../../core/provider-runtime.ts";
import { historyBefore, inputItemsOf, responseNotFound, wantsStore } from "../responses-conversation.ts";
import { responsesFailureText, toResponsesEventStream } from "../responses-event-stream.ts";
import { runTranslatedChat } from "../translated-chat.ts";
import { attemptTimeouts, planOrError, readProxiedRequest, SSE_HEADERS } from "../proxied-request.ts";

/** Never forwarded: they would let a client redirect a provider key. */
const PROXY_ONLY_FIELDS = ["api_key", "api_base", "base_url"];
const JSON_HEADERS = { "content-type": "application/json" };

/** One request's facts, as every step of serving it needs them. */
interface Turn {
  c: Context<AppEnv>;
  ctx: ProxyContext;
  runtime: ProviderRuntime;
  /** The upstream model name. */
  model: string;
  request: ResponsesRequest;
  /** The input as items with ids; filled only when the turn is stored or its history rebuilt. */
  inputItems: Record<string, unknown>[];
  history: ResponseInputItem[];
  /** The history came from this proxy's store (rather than being left for a native host to find). */
  expanded: boolean;
}

export function responsesRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/responses", async (c) => {
    const turn = await readTurn(c, ctx, responsesRequestSchema);
    if (!turn.ok) return turn.response;
    return turn.value.runtime.settings.responsesApi === "native" ? nativeResponse(turn.value) : translatedResponse(turn.value);
  });

  app.post("/responses/input_tokens", async (c) => {
    const turn = await readTurn(c, ctx, inputTokensRequestSchema);
    if (!turn.ok) return turn.response;
    const { runtime, model, request, history } = turn.value;
    const planned = planOrError(() => convertResponsesToChat(request, history));
    if (!planned.ok) return planned.response;
    const counted = await countRequestTokens(c, ctx, runtime, model, planned.plan.chat);
    if (!counted.ok) return errorResponse(counted.error);
    return c.json({ object: "response.input_tokens", input_tokens: counted.count }, 200, { "x-proxy-token-count": counted.exact ? "provider" : "estimate" });
  });

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

async function readTurn(
  c: Context<AppEnv>,
  ctx: ProxyContext,
  schema: typeof responsesRequestSchema,
): Promise<{ ok: true; value: Turn } | { ok: false; response: Response }> {
  const read = await readProxiedRequest(c, ctx, schema);
  if (!read.ok) return read;
  const { runtime, model } = read.target;
  const request = read.body;
  const native = runtime.settings.responsesApi === "native";
  const history = await historyBefore(ctx.responses, request.previous_response_id, native);
  if (!history.ok) return { ok: false, response: errorResponse(history.error) };
  // Items get ids only to be listed later or sent on with a rebuilt history; a stateless turn needs neither.
  const inputItems = wantsStore(request) || history.found ? inputItemsOf(request) : [];
  return { ok: true, value: { c, ctx, runtime, model, request, inputItems, history: history.items, expanded: history.found } };
}

/** Keep a finished response (and the input it answered) for the next turn and for GET. */
async function remember(turn: Turn, response: unknown): Promise<void> {
  if (!isRecord(response) || !wantsStore(turn.request) || typeof response.id !== "string") return;
  if (response.status === "failed") return;
  try {
    await turn.ctx.responses.put({
      id: response.id,
      createdAt: Date.now(),
      previousId: turn.request.previous_response_id ?? null,
      response,
      inputItems: turn.inputItems,
    });
  } catch (error) {
    // The answer is the client's either way; a store that fails costs only the next turn's history.
    turn.ctx.log.warn(`Could not store response ${response.id}: ${String(error)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Native pass-through
// ---------------------------------------------------------------------------------------------

/**
 * The client's body for a host with its own `/responses`. A history this proxy holds is sent
 * in full, since the response it names may live in another key's account; reasoning items the
 * host would have to look up by id (no encrypted content) cannot travel that way and are left out.
 * Reasoning this proxy carried for another provider (a conversation that changed models) means
 * nothing to the host, which would refuse content it cannot decrypt: left out too.
 */
function nativeBody(turn: Turn): string {
  const upstream: Record<string, unknown> = { ...turn.request, model: turn.model };
  for (const field of PROXY_ONLY_FIELDS) delete upstream[field];
  if (turn.expanded) {
    const history = turn.history.filter((item) => hostCanRead(item) && (item.type !== "reasoning" || (isRecord(item) && typeof item.encrypted_content === "string"))).map(withoutId);
    upstream.input = [...history, ...turn.inputItems.filter(hostCanRead).map(withoutId)];
    delete upstream.previous_response_id;
  } else if (Array.isArray(turn.request.input) && !turn.request.input.every(hostCanRead)) {
    upstream.input = turn.request.input.filter(hostCanRead);
  }
  return JSON.stringify(upstream);
}

function hostCanRead(item: unknown): boolean {
  if (!isRecord(item) || item.type !== "reasoning" || typeof item.encrypted_content !== "string") return true;
  return decodeReasoningCarrier(item.encrypted_content) === undefined;
}

/** Ids of items the host never stored would be looked up there and refused. */
function withoutId(item: unknown): unknown {
  if (!isRecord(item) || item.id === undefined) return item;
  const { id: _id, ...rest } = item;
  return rest;
}

async function nativeResponse(turn: Turn): Promise<Response> {
  const { c, ctx, runtime, model, request } = turn;
  const json = nativeBody(turn);
  const url = `${runtime.settings.baseUrl}/responses`;
  const timeouts = attemptTimeouts(ctx);
  const call = beginCall(c, ctx, runtime, model);
  if (request.stream !== true) {
    const result = await call.run((lease, controller) => attemptJson([{ url, headers: openAIHeaders(lease.secret, "application/json"), body: json }], decodeNativeResponse, controller, timeouts));
    if (!result.ok) return errorResponse(result.error, call.headers(result));
    call.succeed(result.lease, result.value.usage);
    // Parsed only to be kept: the client gets the host's bytes as they came.
    if (wantsStore(request)) await remember(turn, JSON.parse(result.value.text));
    return new Response(result.value.text, { status: result.value.status, headers: { ...JSON_HEADERS, ...call.headers(result) } });
  }
  const result = await call.run((lease, controller) =>
    attemptStream({ url, headers: openAIHeaders(lease.secret, "text/event-stream"), body: json }, controller, timeouts, { inspect: inspectResponsesEvent }),
  );
  if (!result.ok) return errorResponse(result.error, call.headers(result));
  const { lease } = result;
  const dialect = responsesRelayDialect();
  const settle = call.streamEnd(lease);
  const body = relayStream({
    start: result.value,
    dialect,
    idleTimeoutMs: ctx.settings.streamIdleTimeoutMs,
    redact: (failure) => redactFailure(failure, lease),
    onEnd: (settlement) => {
      settle(settlement);
      void remember(turn, dialect.finalResponse());
    },
  });
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...call.headers(result) } });
}

// ---------------------------------------------------------------------------------------------
// Translation through the canonical chat form
// ---------------------------------------------------------------------------------------------

async function translatedResponse(turn: Turn): Promise<Response> {
  const { c, ctx, runtime, model, request, history } = turn;
  const converted = planOrError(() => convertResponsesToChat(request, history));
  if (!converted.ok) return converted.response;
  const { chat, droppedTools, tools } = converted.plan;
  const context: ResponseContext = {
    id: itemId("resp"),
    createdAt: Math.floor(Date.now() / 1000),
    model: request.model,
    request,
    tools,
    includeEncrypted: (request.include ?? []).includes("reasoning.encrypted_content"),
  };
  const dropped: Record<string, string> = droppedTools.length > 0 ? { "x-proxy-dropped-tools": [...new Set(droppedTools)].join(", ") } : {};
  const result = await runTranslatedChat(c, ctx, { runtime, model }, canonicalForProvider(chat, runtime), responsesFailureText);
  if (!result.ok) return errorResponse(result.error, { ...result.headers, ...dropped });
  if ("completion" in result) {
    const response = convertCompletionToResponse(result.completion, context);
    await remember(turn, response);
    return new Response(JSON.stringify(visibleResponse(response, context.includeEncrypted)), { status: 200, headers: { ...JSON_HEADERS, ...result.headers, ...dropped } });
  }
  const writer = createResponseEventWriter(context);
  const events = toResponsesEventStream(result.stream, writer, () => {
    void remember(turn, writer.storedResponse());
  });
  return new Response(events, { status: 200, headers: { ...SSE_HEADERS, ...result.headers, ...dropped } });
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
