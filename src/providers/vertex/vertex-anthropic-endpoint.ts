/**
 * Claude on Vertex AI: the Messages API wire with two body rules — the model is named by the URL
 * (`…/publishers/anthropic/models/<model>:rawPredict`, `:streamRawPredict` for a stream), not the
 * body, and `anthropic_version: "vertex-2023-10-16"` goes in the body instead of a header. Token
 * counting is the `count-tokens` model's `:rawPredict`, which reads the model from the body.
 */

import { acceptFor, type AnthropicEndpoint } from "../anthropic/anthropic-endpoint.ts";
import { publisherModelUrl, vertexRequest } from "./vertex-endpoint.ts";

export const VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16";

/** The Messages API body as Vertex takes it. */
export function toVertexAnthropicBody(body: string, count: boolean): string {
  const { model, ...rest } = JSON.parse(body) as Record<string, unknown>;
  return JSON.stringify({ anthropic_version: VERTEX_ANTHROPIC_VERSION, ...(count ? { model } : {}), ...rest });
}

export const vertexAnthropicEndpoint: AnthropicEndpoint = {
  call({ model, body, stream, count, beta }) {
    const json = toVertexAnthropicBody(body, count);
    const target = count ? "count-tokens" : model;
    const method = stream && !count ? ":streamRawPredict" : ":rawPredict";
    const headers = beta ? { "anthropic-beta": beta } : undefined;
    return (key) => vertexRequest(key, { url: (k) => publisherModelUrl(k, "anthropic", target, method), accept: acceptFor(stream), body: json, headers });
  },
};
