/**
 * What a wire family (OpenAI-compatible, Gemini, …) provides to the proxy: how to turn the
 * canonical OpenAI request into upstream requests for a given key, how to read the answers back
 * as OpenAI, and how to list models. The routes and the engine never look inside a wire format.
 */

import type { ChatRequest, EmbeddingsRequest } from "../formats/openai-requests.ts";
import type { Failure } from "../outcome.ts";
import type { DecodeAnswers, StreamTranslator, UpstreamRequest } from "./attempts.ts";

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

export interface ChatPlan {
  stream: boolean;
  /** The proxy asked for usage the client did not: drop the usage-only chunk on the way out. */
  stripUsageChunk: boolean;
  request(key: string): UpstreamRequest;
  /** Non-stream: the parsed upstream body → OpenAI `chat.completion` text. */
  decode: DecodeAnswers;
  /** Stream: upstream events → OpenAI SSE; absent when the upstream already speaks it. */
  translateStream?: StreamTranslator;
}

export interface EmbeddingsPlan {
  /** One or more requests for one key (a family may split a large batch). */
  requests(key: string): UpstreamRequest[];
  decode: DecodeAnswers;
}

/** Exact prompt token counting by the provider itself, through a rotated key. */
export interface CountTokensPlan {
  request(key: string): UpstreamRequest;
  /** The count from the parsed answer, or undefined when the answer has none. */
  read(body: unknown): number | undefined;
}

export interface ListedModel {
  id: string;
  created?: number;
  owned_by?: string;
}

export type ModelListResult = { ok: true; models: ListedModel[] } | { ok: false; failure: Failure };

export interface ProviderAdapter {
  /** Throws `UnsupportedRequestError` for a request the family cannot express. */
  planChat(body: ChatRequest, model: string, baseUrl: string): ChatPlan;
  planEmbeddings(body: EmbeddingsRequest, model: string, baseUrl: string): EmbeddingsPlan;
  listModels(options: { baseUrl: string; key: string; timeoutMs: number; signal: AbortSignal }): Promise<ModelListResult>;
  /** Present when the provider can count tokens exactly; otherwise the proxy estimates locally. */
  planCountTokens?(body: ChatRequest, model: string, baseUrl: string): CountTokensPlan;
}
