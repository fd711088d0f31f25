/**
 * `POST /v1/messages` and `POST /v1/messages/count_tokens`: the Anthropic Messages API in front of
 * every provider. An `anthropic/` model passes through natively (no double translation); any other
 * provider gets the request translated to the canonical OpenAI form, run over its keys, and the
 * answer — JSON or stream — translated back into Anthropic's format. Errors always use Anthropic's
 * envelope.
 *
 * Natively, the client's body, its `anthropic-beta` header and its `?beta=true` (the Anthropic SDK's
 * mark of a beta call, which Claude Code always sets) all reach Anthropic as sent; translated, the
 * query and the betas are ignored, since only Anthropic knows what they switch on.
 */

import { Hono, type Context } from "hono";
import { redactFailure } from "../../engine/rotate.ts";
import type { Failure } from "../../outcome.ts";
import { SSE_DONE, sseData } from "../../formats/sse.ts";
import { chatRequestSchema, type ChatRequest } from "../../formats/openai-requests.ts";
import { countTokensRequestSchema, messagesRequestSchema } from "../../formats/anthropic/messages-schema.ts";
import { convertMessagesToOpenAI } from "../../formats/anthropic/convert-messages-to-openai.ts";
import { convertCompletionToMessage, thinkingOmitted } from "../../formats/anthropic/convert-completion-to-message.ts";
import type { AnthropicRequest } from "../../formats/anthropic/types.ts";
import { attemptJson, attemptStream, embeddedErrorOf, type DecodeAnswers } from "../../providers/attempts.ts";
import { anthropicHeaders } from "../../providers/anthropic/anthropic-headers.ts";
import { anthropicErrorTypeOfFailure, anthropicRelayDialect, inspectAnthropicEvent } from "../../providers/anthropic/native-stream.ts";
import { readAnthropicUsage } from "../../providers/anthropic/read-anthropic-usage.ts";
import { relayStream } from "../../providers/relay-stream.ts";
import { countChatTokens } from "../../tokens/count-tokens.ts";
import type { AppEnv } from "../app-env.ts";
import { anthropicErrorResponse } from "../anthropic-errors.ts";
import { invalidRequest } from "../../errors/proxy-error.ts";
import type { ProxyContext } from "../proxy-context.ts";
import type { ProviderRuntime } from "../../core/provider-runtime.ts";
import { readJsonRequest } from "../read-request.ts";
import { resolveModel } from "../../core/resolve-model.ts";
import { attemptTimeouts, SSE_HEADERS } from "../proxied-request.ts";
import { beginCall } from "../proxied-call.ts";
import { runTranslatedChat } from "../translated-chat.ts";
import { canonicalForProvider } from "../../core/canonical-for-provider.ts";
import { countRequestTokens } from "../count-request-tokens.ts";
import { toAnthropicEventStream } from "../anthropic-event-stream.ts";

const PROXY_ONLY_FIELDS = ["api_key", "api_base", "base_url"];

export function messagesRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post("/messages", async (c) => {
    const request = await readRequest(c, ctx, messagesRequestSchema);
    if (!request.ok) return request.response;
    const { body, runtime, model } = request;
    if (runtime.settings.family === "anthropic") return nativeMessages(c, ctx, runtime, model, body);
    return translatedMessages(c, ctx, runtime, model, body);
  });

  app.post("/messages/count_tokens", async (c) => {
    const request = await readRequest(c, ctx, countTokensRequestSchema);
    if (!request.ok) return request.response;
    return countTokens(c, ctx, request.runtime, request.model, request.body);
  });

  return app;
}

/** The checked body and the provider its model names, or the Anthropic-shaped error saying why not. */
async function readRequest(
  c: Context<AppEnv>,
  ctx: ProxyContext,
  schema: typeof messagesRequestSchema | typeof countTokensRequestSchema,
): Promise<{ ok: true; body: AnthropicRequest; runtime: ProviderRuntime; model: string } | { ok: false; response: Response }> {
  const parsed = await readJsonRequest(c, schema);
  if (!parsed.ok) return { ok: false, response: anthropicErrorResponse(parsed.error) };
  const body = parsed.value as AnthropicRequest;
  const resolved = resolveModel(ctx.providers, body.model);
  if (!resolved.ok) return { ok: false, response: anthropicErrorResponse(resolved.error) };
  return { ok: true, body, ...resolved.target };
}

/** `?beta=true` when the client sent it; nothing else of the client's query is forwarded. */
function betaQuery(c: Context<AppEnv>): string {
  return c.req.query("beta") === "true" ? "?beta=true" : "";
}

/** The client's own body, with the bare model name and without fields that could redirect the key. */
function nativeBody(body: AnthropicRequest, model: string): string {
  const upstream: Record<string, unknown> = { ...body, model };
  for (const field of PROXY_ONLY_FIELDS) delete upstream[field];
  return JSON.stringify(upstream);
}

const nativeDecode: DecodeAnswers = ([answer], headers) => {
  const failure = embeddedErrorOf(answer!.body, headers);
  if (failure) return { ok: false, failure };
  return { ok: true, text: answer!.text, usage: readAnthropicUsage((answer!.body as { usage?: unknown }).usage) };
};

async function nativeMessages(c: Context<AppEnv>, ctx: ProxyContext, runtime: ProviderRuntime, model: string, body: AnthropicRequest): Promise<Response> {
  const json = nativeBody(body, model);
  const url = `${runtime.settings.baseUrl}/messages${betaQuery(c)}`;
  const beta = c.req.header("anthropic-beta");
  const timeouts = attemptTimeouts(ctx);
  const call = beginCall(c, ctx, runtime, model);
  if (body.stream !== true) {
    const result = await call.run((lease, controller) =>
      attemptJson([{ url, headers: anthropicHeaders(lease.secret, "application/json", beta), body: json }], nativeDecode, controller, timeouts),
    );
    if (!result.ok) return anthropicErrorResponse(result.error, call.headers(result));
    call.succeed(result.lease, result.value.usage);
    return new Response(result.value.text, { status: result.value.status, headers: { "content-type": "application/json", ...call.headers(result) } });
  }
  const result = await call.run((lease, controller) =>
    attemptStream({ url, headers: anthropicHeaders(lease.secret, "text/event-stream", beta), body: json }, controller, timeouts, { inspect: inspectAnthropicEvent }),
  );
  if (!result.ok) return anthropicErrorResponse(result.error, call.headers(result));
  const { lease } = result;
  const stream = relayStream({
    start: result.value,
    dialect: anthropicRelayDialect(),
    idleTimeoutMs: ctx.settings.streamIdleTimeoutMs,
    redact: (failure) => redactFailure(failure, lease),
    onEnd: call.streamEnd(lease),
  });
  return new Response(stream, { status: 200, headers: { ...SSE_HEADERS, ...call.headers(result) } });
}

/** Anthropic request → canonical OpenAI request, checked like any client's chat request. */
function canonicalRequest(body: AnthropicRequest): { ok: true; chat: ChatRequest } | { ok: false; response: Response } {
  const converted = convertMessagesToOpenAI(body);
  const checked = chatRequestSchema.safeParse(converted);
  if (checked.success) return { ok: true, chat: checked.data };
  const issue = checked.error.issues[0]!;
  return { ok: false, response: anthropicErrorResponse(invalidRequest(`${issue.path.join(".")}: ${issue.message}`)) };
}

async function translatedMessages(c: Context<AppEnv>, ctx: ProxyContext, runtime: ProviderRuntime, model: string, body: AnthropicRequest): Promise<Response> {
  const canonical = canonicalRequest(body);
  if (!canonical.ok) return canonical.response;
  const result = await runTranslatedChat(c, ctx, { runtime, model }, canonicalForProvider(canonical.chat, runtime), anthropicFailureText);
  if (!result.ok) return anthropicErrorResponse(result.error, result.headers);
  const omitThinking = thinkingOmitted(body);
  if ("completion" in result) {
    const message = convertCompletionToMessage(result.completion, body.model, { omitThinking });
    return new Response(JSON.stringify(message), { status: 200, headers: { "content-type": "application/json", ...result.headers } });
  }
  const estimate = countChatTokens(canonical.chat.messages, model, canonical.chat.tools ?? undefined);
  const events = toAnthropicEventStream(result.stream, { model: body.model, inputTokensEstimate: estimate, omitThinking });
  return new Response(events, { status: 200, headers: { ...SSE_HEADERS, ...result.headers } });
}

/**
 * The error event that ends a failed translated stream: OpenAI-framed, as the event converter reads
 * it, but typed from the whole failure (class, code and status) the way the native stream types it.
 */
function anthropicFailureText(failure: Failure): string {
  return sseData(JSON.stringify({ error: { type: anthropicErrorTypeOfFailure(failure), message: failure.message } })) + SSE_DONE;
}

async function countTokens(c: Context<AppEnv>, ctx: ProxyContext, runtime: ProviderRuntime, model: string, body: AnthropicRequest): Promise<Response> {
  const timeouts = attemptTimeouts(ctx);
  const answer = (count: number, exact: boolean): Response =>
    c.json({ input_tokens: count }, 200, { "x-proxy-token-count": exact ? "provider" : "estimate" });

  if (runtime.settings.family === "anthropic") {
    const { max_tokens: _maxTokens, stream: _stream, ...countable } = body;
    const json = nativeBody(countable as AnthropicRequest, model);
    const url = `${runtime.settings.baseUrl}/messages/count_tokens${betaQuery(c)}`;
    const call = beginCall(c, ctx, runtime, model);
    const result = await call.run((lease, controller) =>
      attemptJson([{ url, headers: anthropicHeaders(lease.secret, "application/json", c.req.header("anthropic-beta")), body: json }], nativeDecode, controller, timeouts),
    );
    if (result.ok) {
      call.succeed(result.lease, undefined);
      return new Response(result.value.text, { status: 200, headers: { "content-type": "application/json", "x-proxy-token-count": "provider" } });
    }
    if (result.error.status === 400) return anthropicErrorResponse(result.error);
  }

  const canonical = canonicalRequest({ ...body, max_tokens: body.max_tokens ?? 1 });
  if (!canonical.ok) return canonical.response;
  const counted = await countRequestTokens(c, ctx, runtime, model, canonical.chat);
  return counted.ok ? answer(counted.count, counted.exact) : anthropicErrorResponse(counted.error);
}
