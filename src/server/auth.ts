/**
 * Proxy key check: `Authorization: Bearer <PROXY_API_KEY>` or `x-api-key: <PROXY_API_KEY>`.
 * Both sides are hashed before the constant-time compare, so neither the content nor the length of
 * the secret leaks through timing.
 */

import { timingSafeEqual } from "node:crypto";

function digest(text: string): Buffer {
  return Bun.CryptoHasher.hash("sha256", text);
}

export function createKeyCheck(proxyApiKey: string): (headers: Headers) => boolean {
  const expected = digest(proxyApiKey);
  return (headers) => {
    const authorization = headers.get("authorization");
    const presented = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? headers.get("x-api-key")?.trim();
    if (!presented) return false;
    return timingSafeEqual(digest(presented), expected);
  };
}
