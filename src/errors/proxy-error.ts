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
