/**
 * The body a native pass-through sends: the client's own, with the provider's bare model name and
 * without the fields some clients send to point a proxy elsewhere — forwarded, they would let a
 * client redirect a provider key.
 */

const PROXY_ONLY_FIELDS = ["api_key", "api_base", "base_url"];

export function passthroughBody(body: Record<string, unknown>, model: string): string {
  const upstream: Record<string, unknown> = { ...body, model };
  for (const field of PROXY_ONLY_FIELDS) delete upstream[field];
  return JSON.stringify(upstream);
}
