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

/** A request body that failed its schema, worded from the first issue: `messages[0].role: …`, with that path as the param. */
export function schemaIssueError(issue: { path: readonly PropertyKey[]; message: string }): ProxyError {
  const path = issue.path.map((part, index) => (typeof part === "number" ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join("");
  return invalidRequest(path ? `${path}: ${issue.message}` : issue.message, path || null);
}
