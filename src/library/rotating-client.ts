/**
 * `createRotatingClient`: the proxy's engine without the server. Each call resolves
 * `provider/model`, plans the request for the provider's wire family, and runs it over the keys
 * with the same key-call recipe, classification, cooldowns, circuits, incidents and deadline as
 * the proxy — it is the same code (src/core, src/engine, src/providers). What differs is the face:
 * answers are objects, streams are async iterables, failures are thrown RotationErrors, and the
 * decision trace arrives as `onAttempt` events.
 */

import type { z } from "zod";
import { runChat, type CallFace, type ChatAnswer, type FailureOf } from "../core/chat-call.ts";
import { countCanonicalTokens } from "../core/count-tokens.ts";
import { createEngine, DEFAULT_ATTEMPT_SHARE } from "../core/create-engine.ts";
import { runEmbeddingsCall } from "../core/embeddings-call.ts";
import { beginKeyCall, type KeyCall } from "../core/key-call.ts";
import { runMessagesCall } from "../core/messages-call.ts";
import { createModelCatalog } from "../core/model-catalog.ts";
import { countingUsage, createUsageTally } from "../core/usage-tally.ts";
import type { ModelTarget } from "../core/resolve-model.ts";
import { AFFINITY_CAPACITY, createAffinity } from "../engine/affinity.ts";
import { createRouteTable, overRoute, resolveRouted, type RouteStep, type RoutedTargets } from "../core/model-routes.ts";
import { checkRoutes, routesFromObject } from "../config/routes.ts";
import { openTurn, runResponsesCall } from "../core/responses-call.ts";
import type { AttemptTrace } from "../engine/rotate.ts";
import type { KeyStanding } from "../engine/types.ts";
import { schemaIssueError } from "../errors/proxy-error.ts";
import { checkBody } from "../formats/check-body.ts";
import { messagesRequestSchema } from "../formats/anthropic/messages-schema.ts";
import type { AnthropicRequest } from "../formats/anthropic/types.ts";
import { chatRequestSchema, embeddingsRequestSchema, type ChatRequest } from "../formats/openai-requests.ts";
import { responsesRequestSchema } from "../formats/responses/responses-schema.ts";
import type { ResponsesRequest } from "../formats/responses/types.ts";
import type { FailureClass } from "../outcome.ts";
import type { AttemptTimeouts } from "../providers/attempts.ts";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatParams,
  EmbeddingsParams,
  EmbeddingsResult,
  Message,
  MessagesParams,
  MessageStreamEvent,
  ResponseObject,
  ResponsesParams,
  ResponseStreamEvent,
} from "./api-types.ts";
import { chatStreamError, chunkStream, messagesStreamError, responsesStreamError, type ChunkStream, type StreamErrorReader } from "./chunk-stream.ts";
import { clientOptionsSchema, providerSettings, type ProviderOptions } from "./client-options.ts";
import { openClientState, type ClientState } from "./open-client-state.ts";
import { RotationError } from "./rotation-error.ts";


/** One attempt of a call, as it happened: the decision trace, event by event. */
export interface AttemptEvent extends AttemptTrace {
  provider: string;
  model: string;
  /** The failure class of a failed attempt (the same as `outcome`); absent when it answered. */
  class?: FailureClass;
  /** 1 for the first attempt of the call. */
  attempt: number;
  /** A stream that failed after its first chunk. */
  afterCommit: boolean;
}

/** A route's targets in order, or with a strategy and weights (as ROUTES_FILE writes them). */
export type RouteOption = string[] | { strategy?: "order" | "weighted"; targets: (string | { model: string; weight?: number })[] };

export interface RotatingClientOptions {
  providers: Record<string, ProviderOptions>;
  /** Model names that stand for chains of `provider/model` targets, tried in order while a target cannot serve. */
  routes?: Record<string, RouteOption>;
  /** How long a conversation keeps preferring the key that served it, so the provider's prompt cache hits; default 300,000; 0 off. */
  promptCacheAffinityTtlMs?: number;
  globalTimeoutMs?: number;
  connectTimeoutMs?: number;
  firstByteTimeoutMs?: number;
  streamIdleTimeoutMs?: number;
  maxUpstreamResponseBytes?: number;
  /** How long a provider's model list is reused by listModels; default 600,000 (10 min). */
  modelsCacheTtlMs?: number;
  /** How long a stored Responses API response stays available to `previous_response_id`; default 30 days. */
  responsesTtlMs?: number;
  /** Size of the stored responses beyond which the oldest go; default 512 MiB. */
  responsesStoreMaxBytes?: number;
  /** "HH:MM" UTC; default "03:00". */
  dailyResetUtc?: string;
  /**
   * Default memory (forgotten at exit); SQLite on Bun keeps cooldowns, usage and stored responses
   * across restarts (`path` is the state file; responses go to `responses.db` beside it); Redis on
   * Bun shares them with every proxy instance and client on the same Redis and prefix.
   */
  state?: ClientState;
  onAttempt?: (event: AttemptEvent) => void;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface ListedModel {
  /** `provider/model`, as `chat` takes it. */
  id: string;
  provider: string;
  created: number;
  owned_by: string;
}

export interface ProviderStats {
  keys: (Omit<KeyStanding, "secret"> & { usage: { requests: number; successes: number; failures: number; promptTokens: number; completionTokens: number } })[];
  healthy: number;
  cooling: number;
  disabled: number;
  failing: number;
}

export interface RotatingClient {
  chat<B extends ChatParams>(body: B & { stream: true }, options?: CallOptions): Promise<ChunkStream<ChatCompletionChunk>>;
  chat<B extends ChatParams>(body: B & { stream?: false | null }, options?: CallOptions): Promise<ChatCompletion>;
  /** The OpenAI Responses API on any provider; `previous_response_id` continues a stored conversation. */
  responses<B extends ResponsesParams>(body: B & { stream: true }, options?: CallOptions): Promise<ChunkStream<ResponseStreamEvent>>;
  responses<B extends ResponsesParams>(body: B & { stream?: false | null }, options?: CallOptions): Promise<ResponseObject>;
  /** The Anthropic Messages API on any provider (Anthropic itself natively). */
  messages<B extends MessagesParams>(body: B & { stream: true }, options?: CallOptions): Promise<ChunkStream<MessageStreamEvent>>;
  messages<B extends MessagesParams>(body: B & { stream?: false | null }, options?: CallOptions): Promise<Message>;
  embeddings<B extends EmbeddingsParams>(body: B, options?: CallOptions): Promise<EmbeddingsResult>;
  /** Prompt tokens of a chat request: the provider's own count where it has one, else the local tokenizer's estimate. */
  countTokens<B extends ChatParams>(body: B, options?: CallOptions): Promise<{ tokens: number; method: "provider" | "estimate" }>;
  /**
   * Every model of every provider, as `provider/model` ids, filtered like the proxy's `/v1/models`
   * (lists are cached `modelsCacheTtlMs`); a provider whose list cannot be had is left out. An
   * aborted `signal` stops the wait (kind aborted); the lists being fetched still fill the cache.
   */
  listModels(options?: CallOptions): Promise<ListedModel[]>;
  /** Every key's standing (cooldowns, circuits, disabled) and its usage, per provider. */
  stats(): Record<string, ProviderStats>;
  /** Clear cooldowns, circuits and disabled state: all keys, one provider's, or one key (by id). */
  resetKeys(options?: { provider?: string; keyId?: string }): Promise<number>;
  /** Stop the daily-reset timer and write what the state still holds. */
  close(): Promise<void>;
}

export function createRotatingClient(options: RotatingClientOptions): RotatingClient {
  const parsed = clientOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TypeError(`createRotatingClient: ${issue.path.join(".") || "options"}: ${issue.message}`);
  }
  const settings = parsed.data;
  const providers = Object.entries(settings.providers).map(([name, provider]) => providerSettings(name, provider));
  const responseLimits = { ttlMs: settings.responsesTtlMs, maxBytes: settings.responsesStoreMaxBytes };
  const { store, responses: responseStore } = openClientState(settings.state, responseLimits);
  // stats() answers at once, from a tally seeded from the state and fed by every delta added.
  const tally = createUsageTally();
  const state = countingUsage(store, tally);
  let seeded: Promise<void> = Promise.resolve();
  try {
    const rows = store.usage({});
    if (rows instanceof Promise) seeded = rows.then((list) => list.forEach(tally.add), () => {});
    else rows.forEach(tally.add);
  } catch {
    // A state that cannot be read starts the tally at zero, as the engine starts its keys fresh.
  }
  const conversation = { store: responseStore, onStoreError: (id: string, error: unknown) => console.warn(`llm-key-proxy: could not store response ${id}: ${String(error)}`) };
  const [hour, minute] = settings.dailyResetUtc.split(":").map(Number) as [number, number];
  const engine = createEngine({
    providers,
    state,
    resetMinuteUtc: hour * 60 + minute,
    attemptShare: settings.firstByteTimeoutMs === undefined ? DEFAULT_ATTEMPT_SHARE : undefined,
  });
  /** Every call starts once the state is in the pools and the tally. */
  const ready = Promise.all([engine.ready, seeded]);
  const routes = createRouteTable(checkRoutes(routesFromObject(settings.routes ?? {}, "routes"), providers), engine.providers);
  const catalog = createModelCatalog({ providers: engine.providers, routes, ttlMs: settings.modelsCacheTtlMs });
  const timeouts: AttemptTimeouts = {
    connectMs: settings.connectTimeoutMs,
    firstByteMs: settings.firstByteTimeoutMs ?? settings.globalTimeoutMs,
    maxResponseBytes: settings.maxUpstreamResponseBytes,
  };

  const routed = (model: unknown): RoutedTargets => {
    const resolved = resolveRouted(routes, engine.providers, typeof model === "string" ? model : "");
    if (!resolved.ok) throw RotationError.rejected(resolved.error);
    return resolved.routed;
  };

  const affinity = settings.promptCacheAffinityTtlMs > 0 ? createAffinity({ ttlMs: settings.promptCacheAffinityTtlMs, capacity: AFFINITY_CAPACITY }) : undefined;

  const open = (chosen: ModelTarget, signal: AbortSignal | undefined, step: RouteStep | undefined, conversation: string | undefined): KeyCall => {
    const provider = chosen.runtime.settings.name;
    const model = chosen.model;
    return beginKeyCall({
      rotator: engine.rotator,
      pool: chosen.runtime.pool,
      provider,
      model,
      deadline: step?.deadline ?? Date.now() + settings.globalTimeoutMs,
      routeStep: step,
      affinity: conversation !== undefined && affinity !== undefined ? { table: affinity, conversation } : undefined,
      signal,
      observer: options.onAttempt && {
        attempt: (step: AttemptTrace, attempt: number, afterCommit: boolean) =>
          options.onAttempt!({ provider, model, attempt, afterCommit, ...step, ...(step.outcome === "ok" ? {} : { class: step.outcome }) }),
      },
    });
  };

  /** The core's dialect operations on key calls of this client: a refusal is thrown, never returned. */
  const face = (chosen: ModelTarget, signal: AbortSignal | undefined, step?: RouteStep): CallFace<KeyCall> => ({
    open: (conversation) => open(chosen, signal, step, affinity === undefined ? undefined : conversation?.()),
    reject: (error) => {
      throw RotationError.rejected(error);
    },
    isRequestFault: (failure) => failure.failure.kind === "request_rejected",
    timeouts,
    streamIdleTimeoutMs: settings.streamIdleTimeoutMs,
  });

  /** The answer as an object, or its stream as events; no answer is thrown. */
  const delivered = <T, Event>(answer: ChatAnswer | FailureOf<KeyCall>, errorOf: StreamErrorReader): T | ChunkStream<Event> => {
    if (!answer.ok) throw RotationError.fromFailure(answer.failure, answer.trace);
    return answer.kind === "json" ? (JSON.parse(answer.text) as T) : chunkStream<Event>(answer.body, errorOf);
  };

  /** One operation over the request's targets (a route's, in order; else the one), once the state is loaded. */
  const overTargets = async <R>(model: unknown, signal: AbortSignal | undefined, serve: (target: ModelTarget, face: CallFace<KeyCall>) => Promise<R>): Promise<R> => {
    const targets = routed(model);
    await ready;
    return (await overRoute(targets, settings.globalTimeoutMs, (target, step) => serve(target, face(target, signal, step)))).result;
  };

  const chat = async (body: ChatParams, callOptions: CallOptions = {}) => {
    const request = validated(chatRequestSchema, body) as ChatRequest;
    const answer = await overTargets(request.model, callOptions.signal, (target, targetFace) => runChat(target, request, targetFace));
    return delivered<ChatCompletion, ChatCompletionChunk>(answer, chatStreamError);
  };

  const messages = async (body: MessagesParams, callOptions: CallOptions = {}) => {
    const request = validated(messagesRequestSchema, body) as AnthropicRequest;
    const answer = await overTargets(request.model, callOptions.signal, (target, targetFace) => runMessagesCall(target, request, targetFace));
    return delivered<Message, MessageStreamEvent>(answer, messagesStreamError);
  };

  const responses = async (body: ResponsesParams, callOptions: CallOptions = {}) => {
    const request = validated(responsesRequestSchema, body) as ResponsesRequest;
    const answer = await overTargets(request.model, callOptions.signal, async (target, targetFace) => {
      const opened = await openTurn(target, request, conversation);
      if (!opened.ok) throw RotationError.rejected(opened.error);
      return runResponsesCall(opened.turn, targetFace);
    });
    return delivered<ResponseObject, ResponseStreamEvent>(answer, responsesStreamError);
  };

  return {
    chat: chat as RotatingClient["chat"],
    messages: messages as RotatingClient["messages"],
    responses: responses as RotatingClient["responses"],
    async embeddings(body, callOptions = {}) {
      const request = validated(embeddingsRequestSchema, body);
      const answer = await overTargets(request.model, callOptions.signal, (target, targetFace) => runEmbeddingsCall(target, request, targetFace));
      return delivered<EmbeddingsResult, never>(answer, chatStreamError) as EmbeddingsResult;
    },
    async countTokens(body, callOptions = {}) {
      const request = validated(chatRequestSchema, body) as ChatRequest;
      const counted = await overTargets(request.model, callOptions.signal, (target, targetFace) => countCanonicalTokens({ ...targetFace, target, chat: request }));
      if (!counted.ok) throw RotationError.fromFailure(counted.failure.failure, counted.failure.trace);
      return { tokens: counted.count, method: counted.exact ? "provider" : "estimate" };
    },
    async listModels({ signal } = {}) {
      const { models } = await untilAborted(catalog.list(), signal);
      // A route is a model of its own, not of one provider.
      return models.map(({ id, created, owned_by }) => ({ id, provider: owned_by === "route" ? "route" : id.slice(0, id.indexOf("/")), created, owned_by }));
    },
    stats() {
      const stats: Record<string, ProviderStats> = {};
      for (const [name, runtime] of engine.providers) {
        const standing = runtime.pool.standing();
        stats[name] = {
          healthy: standing.healthy,
          cooling: standing.cooling,
          disabled: standing.disabled,
          failing: standing.failing,
          keys: standing.keys.map((key) => ({ ...key, usage: tally.of(name, key.id) })),
        };
      }
      return stats;
    },
    async resetKeys({ provider, keyId } = {}) {
      await ready;
      let reset = 0;
      for (const [name, runtime] of engine.providers) {
        if (provider === undefined || provider === name) reset += runtime.pool.reset(keyId === undefined ? {} : { keyId });
      }
      if (provider === undefined) engine.incidents.clear();
      else engine.incidents.clear(provider);
      return reset;
    },
    async close() {
      engine.stop();
      await store.close();
      responseStore.close();
    },
  };
}

/** `work`, unless `signal` aborts first: then a RotationError of kind aborted, and `work` runs on unobserved. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  const aborted = (): RotationError => RotationError.fromFailure({ kind: "aborted" }, []);
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const leave = (): void => reject(aborted());
    signal.addEventListener("abort", leave, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", leave));
  });
}

/** The request body checked like the proxy checks it; a bad one is the caller's, thrown as request_rejected. */
function validated<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const checked = checkBody(schema, body);
  if (checked.success) return checked.data;
  throw RotationError.rejected(schemaIssueError(checked.error.issues[0]!));
}
