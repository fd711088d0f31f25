/**
 * Client body → upstream body for OpenAI-compatible hosts. The body is forwarded as the client sent
 * it, with three changes: the model loses its `provider/` prefix, fields that would redirect the
 * call or leak into the upstream are dropped, and streams always ask for usage so the proxy can
 * account for them (the extra usage chunk is stripped again when the client did not ask for it).
 */

import { isRecord } from "../../formats/is-record.ts";

/** Never forwarded: `api_key`/`api_base`/`base_url` would let a client redirect a provider key; the
 * others are this proxy's own extensions that OpenAI-compatible hosts reject. */
const PROXY_ONLY_FIELDS = ["api_key", "api_base", "base_url", "custom_reasoning_budget", "safety_settings"] as const;

export interface PreparedChat {
  json: string;
  stream: boolean;
  /** The proxy added `stream_options.include_usage`; the usage-only chunk must not reach the client. */
  stripUsageChunk: boolean;
}

export function prepareChatBody(body: Record<string, unknown>, upstreamModel: string): PreparedChat {
  const upstream: Record<string, unknown> = { ...body, model: upstreamModel };
  for (const field of PROXY_ONLY_FIELDS) delete upstream[field];
  const stream = body.stream === true;
  let stripUsageChunk = false;
  if (stream) {
    const options = isRecord(body.stream_options) ? body.stream_options : {};
    if (options.include_usage !== true) {
      upstream.stream_options = { ...options, include_usage: true };
      stripUsageChunk = true;
    }
  } else {
    delete upstream.stream_options;
  }
  return { json: JSON.stringify(upstream), stream, stripUsageChunk };
}

export function prepareEmbeddingsBody(body: Record<string, unknown>, upstreamModel: string): string {
  const upstream: Record<string, unknown> = { ...body, model: upstreamModel };
  for (const field of PROXY_ONLY_FIELDS) delete upstream[field];
  return JSON.stringify(upstream);
}
