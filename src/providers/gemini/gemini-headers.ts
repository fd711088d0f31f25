/** The key travels in `x-goog-api-key`, never as `?key=` in the URL: URLs end up in logs. */
export function geminiHeaders(key: string): Record<string, string> {
  return { "x-goog-api-key": key, "content-type": "application/json" };
}
