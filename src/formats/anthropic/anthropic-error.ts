/**
 * The proxy's errors in Anthropic's envelope, `{"type":"error","error":{"type","message"}}`, at the
 * top level of the body as Anthropic's SDKs parse it (never wrapped in `detail` or `error`).
 *
 * The HTTP status stays the proxy's: it is what the proxy knows, and Anthropic's SDKs retry by
 * status (408, 409, 429, ≥500) just as OpenAI's do. Only the `error.type` is Anthropic's, chosen
 * from the status, because SDKs pick their exception class from it. So an exhausted or unavailable
 * provider is a 503 with type `overloaded_error` rather than Anthropic's own 529, which generic
 * HTTP tooling does not know. The message goes through unchanged.
 */

import type { ProxyError } from "../../errors/proxy-error.ts";
import type { AnthropicErrorBody } from "./types.ts";

export interface AnthropicErrorResponse {
  status: number;
  body: AnthropicErrorBody;
  headers: Record<string, string>;
}

const TYPE_BY_STATUS: ReadonlyMap<number, string> = new Map([
  [400, "invalid_request_error"],
  [401, "authentication_error"],
  [402, "billing_error"],
  [403, "permission_error"],
  [404, "not_found_error"],
  [413, "request_too_large"],
  [429, "rate_limit_error"],
  [500, "api_error"],
  [502, "api_error"],
  [503, "overloaded_error"],
  [504, "timeout_error"],
  [529, "overloaded_error"],
]);

export function toAnthropicError(error: ProxyError): AnthropicErrorResponse {
  const headers: Record<string, string> = { "content-type": "application/json" };
  // HTTP wants whole, non-negative seconds.
  if (error.retryAfterSeconds !== undefined) headers["retry-after"] = String(Math.max(0, Math.ceil(error.retryAfterSeconds)));
  return {
    status: error.status,
    body: { type: "error", error: { type: anthropicErrorTypeOfStatus(error.status), message: error.message } },
    headers,
  };
}

/** Statuses without an Anthropic type of their own fall back by class: the client's fault or the server's. */
export function anthropicErrorTypeOfStatus(status: number): string {
  return TYPE_BY_STATUS.get(status) ?? (status >= 500 ? "api_error" : "invalid_request_error");
}
