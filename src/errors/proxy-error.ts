/**
 * An error as the client gets it, before a face puts it in its envelope (OpenAI, Anthropic or
 * Google shape): HTTP status, error type and code, the parameter at fault, one sentence, and when
 * to try again.
 */

export interface ProxyError {
  status: number;
  type: string;
  code: string | null;
  param: string | null;
  message: string;
  retryAfterSeconds?: number;
}

export function invalidRequest(message: string, param: string | null = null, code: string | null = null): ProxyError {
  return { status: 400, type: "invalid_request_error", code, param, message };
}

export function notFound(message: string, code: string, param: string | null = null): ProxyError {
  return { status: 404, type: "not_found_error", code, param, message };
}
