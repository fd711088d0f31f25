/**
 * Errors on the Gemini-native routes: Google's envelope with the proxy's honest status, and which
 * requests get it — including their auth, size and unknown-route errors raised before any route.
 */

import { googleErrorBody } from "../formats/gemini/google-error.ts";
import type { ProxyError } from "../errors/proxy-error.ts";

export function googleErrorResponse(error: ProxyError, headers: Record<string, string> = {}): Response {
  const extra: Record<string, string> = { "content-type": "application/json", ...headers };
  // HTTP wants whole, non-negative seconds.
  if (error.retryAfterSeconds !== undefined) extra["retry-after"] = String(Math.max(0, Math.ceil(error.retryAfterSeconds)));
  return new Response(JSON.stringify(googleErrorBody(error.status, error.message)), { status: error.status, headers: extra });
}

/**
 * `path` is the request's path (`c.req.path`). `/v1beta/…` is Google's alone, and so are `/v1/models/{model}:{method}` calls; the OpenAI model
 * list `/v1/models` is answered Google's way only to a caller that speaks it (its key in
 * `x-goog-api-key` or `?key=`).
 */
export function isGeminiRequest(request: Request, path: string): boolean {
  if (path === "/v1beta" || path.startsWith("/v1beta/")) return true;
  if (path !== "/v1/models" && !path.startsWith("/v1/models/")) return false;
  if (request.method === "POST" || request.headers.has("x-goog-api-key")) return true;
  // Only the model list gets this far, so parsing its URL costs the hot routes nothing.
  return new URL(request.url).searchParams.has("key");
}
