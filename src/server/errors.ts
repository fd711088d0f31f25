/**
 * OpenAI-shaped error answers: `{"error":{"message","type","code","param"}}` with an honest status,
 * `Retry-After` when waiting helps, and never a stack trace or a secret.
 */

import type { ProxyError } from "../errors/proxy-error.ts";

export function errorResponse(error: ProxyError, headers: Record<string, string> = {}): Response {
  const body = JSON.stringify({ error: { message: error.message, type: error.type, code: error.code, param: error.param } });
  const extra: Record<string, string> = { "content-type": "application/json", ...headers };
  if (error.retryAfterSeconds !== undefined) extra["retry-after"] = String(error.retryAfterSeconds);
  return new Response(body, { status: error.status, headers: extra });
}
