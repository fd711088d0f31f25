/**
 * What a wire family (OpenAI-compatible, Gemini, …) provides to the proxy: how to turn the
 * canonical OpenAI request into upstream requests for a given key, how to read the answers back
 * as OpenAI, and how to list models. The routes and the engine never look inside a wire format.
 */

import type { Credential } from "../credential.ts";
import type { ChatRequest, EmbeddingsRequest } from "../formats/openai-requests.ts";
import type { Failure } from "../outcome.ts";
import type { DecodeAnswers, EventInspector, StreamTranslator, UpstreamRequest } from "./attempts.ts";
import type { ResponsesRelayDialect } from "./openai/responses-native.ts";
import type { RelayDialect } from "./relay-stream.ts";

/** A request the client sent that this family cannot express; answered as a 400. */
export class UnsupportedRequestError extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = "UnsupportedRequestError";
  }
}

/**
 * The upstream request for one key. Most families build it at once; one that signs requests
 * (SigV4) or exchanges a credential for a token answers later, and throws `CredentialFailure` when
 * the key cannot be made to authenticate.
 */
export type RequestFor = (key: Credential) => UpstreamRequest | Promise<UpstreamRequest>;

export interface ChatPlan {
  stream: boolean;
  /** The proxy asked for usage the client did not: drop the usage-only chunk on the way out. */
  stripUsageChunk: boolean;
  request: RequestFor;
  /** Non-stream: the parsed upstream body → OpenAI `chat.completion` text. */
  decode: DecodeAnswers;
  /** Stream: upstream events → OpenAI SSE; absent when the upstream already speaks it. */
  translateStream?: StreamTranslator;
  /** Stream: the content type of the upstream's stream when it is not SSE (Bedrock's event stream). */
  streamType?: string;
}

/**
 * A client dialect the provider speaks itself (Anthropic's Messages API, a host's own
 * `/responses`): the client's body, already prepared by the core, goes upstream as it is.
 */
export interface PassthroughRequest {
  /** The JSON body to send, model renamed and proxy-only fields removed. */
  body: string;
  stream: boolean;
  /** The client's `anthropic-beta` header, forwarded where the dialect has betas. */
  beta?: string;
  /** The client marked the call as a beta call (`?beta=true`, as the Anthropic SDK does). */
  betaQuery?: boolean;
}

export interface PassthroughPlan<D extends RelayDialect = RelayDialect> {
  stream: boolean;
  request: RequestFor;
  /** Non-stream: the answer's usage, or the failure an embedded error means; the text passes as it came. */
  decode: DecodeAnswers;
  /** Stream, before commit: which events are preamble, content or a failure to rotate on. */
  inspect: EventInspector;
  /** Stream, after commit: a fresh relay state for one stream. */
  relayDialect(): D;
}

/** The methods of Google's API a client may call natively on a Gemini provider. */
export type GeminiNativeMethod = "generateContent" | "streamGenerateContent" | "countTokens" | "embedContent" | "batchEmbedContents";

export interface EmbeddingsPlan {
  /** One or more requests for one key (a family may split a large batch). */
  requests(key: Credential): (UpstreamRequest | Promise<UpstreamRequest>)[];
  decode: DecodeAnswers;
}

/** Exact prompt token counting by the provider itself, through a rotated key. */
export interface CountTokensPlan {
  request: RequestFor;
  /** The count from the parsed answer, or undefined when the answer has none. */
  read(body: unknown): number | undefined;
}

export interface ListedModel {
  id: string;
  created?: number;
  owned_by?: string;
}

export type ModelListResult = { ok: true; models: ListedModel[] } | { ok: false; failure: Failure };

export interface ModelListOptions {
  key: Credential;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ProviderAdapter {
  /** A provider hosting several wire families (Vertex: Gemini and Claude) answers with the adapter for the model. */
  forModel?(model: string): ProviderAdapter;
  /** Throws `UnsupportedRequestError` for a request the family cannot express. */
  planChat(body: ChatRequest, model: string): ChatPlan;
  planEmbeddings(body: EmbeddingsRequest, model: string): EmbeddingsPlan;
  listModels(options: ModelListOptions): Promise<ModelListResult>;
  /** The cheapest GET the provider authenticates (its model list, one entry where it pages): the setup's live key check. */
  keyCheckRequest(key: Credential): UpstreamRequest | Promise<UpstreamRequest>;
  /** Texts inside a key that must never show on their own (a key pair's secret half), beside the key itself. */
  secretParts?(secret: string): string[];
  /** How a key is shown when its family knows better than its last characters (an access key pair: its public key id). */
  keyLabel?(secret: string): string | undefined;
  /** The quota a key draws on when its family shares quotas between keys (a Vertex project and location). */
  quotaGroup?(key: Credential): string | undefined;
  /** Present when the provider can count tokens exactly; otherwise the proxy estimates locally. */
  planCountTokens?(body: ChatRequest, model: string): CountTokensPlan;
  /** Present when the family speaks the Messages API itself (Anthropic): no double translation. */
  planNativeMessages?(model: string, request: PassthroughRequest): PassthroughPlan;
  /** The Messages API's own `count_tokens`, beside `planNativeMessages`. */
  planNativeMessageCount?(model: string, request: PassthroughRequest): PassthroughPlan;
  /** Present when the family is Google's own: Gemini-native routes pass through to the same method. */
  planNativeGemini?(method: GeminiNativeMethod, model: string, request: PassthroughRequest): PassthroughPlan;
  /** Present when the family can serve `/responses` itself (used where the provider is configured native). */
  planNativeResponses?(request: PassthroughRequest): PassthroughPlan<ResponsesRelayDialect>;
}
