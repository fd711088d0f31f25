/** Anthropic's auth and version headers (the version pins the Messages API wire format). */
export const ANTHROPIC_VERSION = "2023-06-01";

export function anthropicHeaders(key: string, accept: string, beta?: string | null): Record<string, string> {
  return {
    "x-api-key": key,
    "anthropic-version": ANTHROPIC_VERSION,
    "content-type": "application/json",
    accept,
    ...(beta ? { "anthropic-beta": beta } : {}),
  };
}
