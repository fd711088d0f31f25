/**
 * Gemini-native requests for `gemini/` models: the client's own body goes to the same method of
 * Google's API with a rotated key in `x-goog-api-key`, and the answer comes back untouched.
 * Failures are classified as for chat; a 200 with an error inside, or Gemini's empty candidate,
 * rotates like any failure; usage is read from `usageMetadata`; streams relay through the native
 * Gemini dialect (see providers/gemini/native-stream.ts).
 */

import type { Context } from "hono";
import { redactFailure } from "../engine/rotate.ts";
import { networkFailure } from "../providers/classify-failure.ts";
import { attemptJson, attemptStream, embeddedErrorOf, type DecodeAnswers } from "../providers/attempts.ts";
import { isEmptyGeminiResponse } from "../providers/gemini/convert-gemini-response.ts";
import { convertGeminiUsage } from "../providers/gemini/convert-gemini-usage.ts";
import { geminiHeaders } from "../providers/gemini/gemini-headers.ts";
import type { GeminiResponse } from "../providers/gemini/gemini-types.ts";
import { geminiRelayDialect, inspectGeminiEvent } from "../providers/gemini/native-stream.ts";
import { readOpenAIUsage } from "../providers/openai/read-usage.ts";
import { relayStream } from "../providers/relay-stream.ts";
import type { AppEnv } from "./app-env.ts";
import { googleErrorResponse } from "./gemini-errors.ts";
import { beginCall } from "./proxied-call.ts";
import type { ProxyContext } from "./proxy-context.ts";
import type { ModelTarget } from "../core/resolve-model.ts";
import { attemptTimeouts, SSE_HEADERS } from "./proxied-request.ts";

/** The methods answered with one JSON body. */
export type GeminiJsonMethod = "generateContent" | "countTokens" | "embedContent" | "batchEmbedContents";

/** Any answer but an error object; a generated one must also have content. */
function decodeFor(method: GeminiJsonMethod): DecodeAnswers {
  return ([answer], headers) => {
    const body = answer!.body as GeminiResponse;
    const failure = embeddedErrorOf(body, headers);
    if (failure) return { ok: false, failure };
    if (method !== "generateContent") return { ok: true, text: answer!.text };
    // An empty candidate is a Gemini glitch another key (or a second try) usually answers.
    if (isEmptyGeminiResponse(body)) return { ok: false, failure: { ...networkFailure("Gemini answered with an empty candidate"), status: 200 } };
    return { ok: true, text: answer!.text, usage: readOpenAIUsage(convertGeminiUsage(body.usageMetadata ?? {})) };
  };
}

function methodUrl(target: ModelTarget, method: string): string {
  return `${target.runtime.settings.baseUrl}/models/${encodeURIComponent(target.model)}:${method}`;
}

export async function passThroughJson(c: Context<AppEnv>, ctx: ProxyContext, target: ModelTarget, method: GeminiJsonMethod, body: unknown): Promise<Response> {
  const url = methodUrl(target, method);
  const json = JSON.stringify(body);
  const decode = decodeFor(method);
  const call = beginCall(c, ctx, target.runtime, target.model);
  const result = await call.run((lease, controller) => attemptJson([{ url, headers: geminiHeaders(lease.secret), body: json }], decode, controller, attemptTimeouts(ctx)));
  if (!result.ok) return googleErrorResponse(result.error, call.headers(result));
  call.succeed(result.lease, result.value.usage);
  return new Response(result.value.text, { status: result.value.status, headers: { "content-type": "application/json", ...call.headers(result) } });
}

export async function passThroughStream(c: Context<AppEnv>, ctx: ProxyContext, target: ModelTarget, body: unknown): Promise<Response> {
  const url = `${methodUrl(target, "streamGenerateContent")}?alt=sse`;
  const json = JSON.stringify(body);
  const call = beginCall(c, ctx, target.runtime, target.model);
  const result = await call.run((lease, controller) =>
    attemptStream({ url, headers: geminiHeaders(lease.secret), body: json }, controller, attemptTimeouts(ctx), { inspect: inspectGeminiEvent }),
  );
  if (!result.ok) return googleErrorResponse(result.error, call.headers(result));
  const { lease } = result;
  const stream = relayStream({
    start: result.value,
    dialect: geminiRelayDialect(),
    idleTimeoutMs: ctx.settings.streamIdleTimeoutMs,
    redact: (failure) => redactFailure(failure, lease),
    onEnd: call.streamEnd(lease),
  });
  return new Response(stream, { status: 200, headers: { ...SSE_HEADERS, ...call.headers(result) } });
}
