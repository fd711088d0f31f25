/** Errors on the Anthropic routes: Anthropic's envelope with the proxy's honest status. */

import { toAnthropicError } from "../formats/anthropic/anthropic-error.ts";
import type { ProxyError } from "../errors/proxy-error.ts";

export function anthropicErrorResponse(error: ProxyError, headers: Record<string, string> = {}): Response {
  const mapped = toAnthropicError(error);
  return new Response(JSON.stringify(mapped.body), {
    status: mapped.status,
    headers: { "content-type": "application/json", ...mapped.headers, ...headers },
  });
}

/** Paths answered in Anthropic's format, including their auth, size and unknown-route errors. */
export function isAnthropicRoute(path: string): boolean {
  return path === "/v1/messages" || path.startsWith("/v1/messages/");
}
