/**
 * Where Claude's Messages API is called and how a key authenticates there: Anthropic's own API
 * (`{base}/messages`, `x-api-key`) or a cloud that hosts Claude with the same wire but its own URL,
 * auth and a few body rules (Vertex AI's `:rawPredict`). The Anthropic plans take an endpoint, so
 * every host shares one converter and one stream reader.
 */

import type { RequestFor } from "../adapter.ts";
import { anthropicHeaders } from "./anthropic-headers.ts";

export interface AnthropicCall {
  /** The model as the host names it. */
  model: string;
  /** The Messages API body as JSON, `model` included. */
  body: string;
  stream: boolean;
  /** `count_tokens` rather than a message. */
  count: boolean;
  /** The client's `anthropic-beta` header. */
  beta?: string;
  /** The client marked the call as a beta call (`?beta=true`, as the Anthropic SDK does). */
  betaQuery?: boolean;
}

export interface AnthropicEndpoint {
  /** The request making `call` for one key; the body is shaped for the host once, here. */
  call(call: AnthropicCall): RequestFor;
}

export function acceptFor(stream: boolean): string {
  return stream ? "text/event-stream" : "application/json";
}

export const anthropicApiEndpoint: AnthropicEndpoint = {
  call({ body, stream, count, beta, betaQuery }) {
    const path = (count ? "/messages/count_tokens" : "/messages") + (betaQuery ? "?beta=true" : "");
    const accept = acceptFor(stream);
    return (key) => ({ url: key.baseUrl + path, headers: anthropicHeaders(key.secret, accept, beta), body });
  },
};
