/**
 * Gemini-native requests for a provider whose family is Google's own: the family's native plan
 * (providers/gemini/plan-gemini-native.ts) run over the keys, the answer or stream passed back
 * untouched, failures in Google's envelope.
 */

import type { Context } from "hono";
import { runPassthroughCall } from "../core/chat-call.ts";
import { conversationKey } from "../core/conversation-key.ts";
import type { ModelTarget } from "../core/resolve-model.ts";
import type { GeminiNativeMethod } from "../providers/adapter.ts";
import type { AppEnv } from "./app-env.ts";
import { googleErrorResponse } from "./gemini-errors.ts";
import { answerResponse, callFace } from "./proxied-call.ts";
import type { ProxyContext } from "./proxy-context.ts";

/** Whether `target` speaks Gemini itself (else the request is translated). */
export function speaksGemini(target: ModelTarget): boolean {
  return target.adapter.planNativeGemini !== undefined;
}

export async function passThroughGemini(c: Context<AppEnv>, ctx: ProxyContext, target: ModelTarget, method: GeminiNativeMethod, body: unknown): Promise<Response> {
  const { adapter, model } = target;
  const plan = adapter.planNativeGemini!(method, model, { body: JSON.stringify(body), stream: method === "streamGenerateContent" });
  const face = callFace(c, ctx, target);
  const request = body as { systemInstruction?: unknown; tools?: unknown; contents?: unknown[] };
  const conversation = method === "generateContent" || method === "streamGenerateContent" ? () => conversationKey(face.sessionId, [request.tools, request.systemInstruction, request.contents?.[0]]) : undefined;
  return answerResponse(await runPassthroughCall(face.open(conversation), plan, face), googleErrorResponse);
}
