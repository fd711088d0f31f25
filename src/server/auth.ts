/**
 * Proxy key check: `Authorization: Bearer <PROXY_API_KEY>`, `x-api-key: <PROXY_API_KEY>` or, as
 * Google's clients send it, `x-goog-api-key: <PROXY_API_KEY>`. The `?key=` query parameter Google
 * also accepts is taken only where the caller says so (the Gemini-native routes): elsewhere a key
 * in a URL is one more place for it to leak. Both sides are hashed before the constant-time
 * compare, so neither the content nor the length of the secret leaks through timing.
 */

import { timingSafeEqual } from "node:crypto";

function digest(text: string): Buffer {
  return Bun.CryptoHasher.hash("sha256", text);
}

/** `queryKey`: the `key=` value of a request on a route that accepts one. */
export type KeyCheck = (headers: Headers, queryKey?: string | null) => boolean;

export function createKeyCheck(proxyApiKey: string): KeyCheck {
  const expected = digest(proxyApiKey);
  return (headers, queryKey) => {
    const authorization = headers.get("authorization");
    const presented =
      authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? headers.get("x-api-key")?.trim() ?? headers.get("x-goog-api-key")?.trim() ?? queryKey?.trim();
    if (!presented) return false;
    return timingSafeEqual(digest(presented), expected);
  };
}
