/**
 * llm-key-proxy as a library: the proxy's key rotation, cooldowns, circuits and retries inside
 * your own program, with no server. `createRotatingClient` is the engine; `providersFromEnv` reads
 * the same `<PROVIDER>_API_KEY_<N>` variables the proxy reads; `RotationError` is what a call that
 * got no answer throws.
 */

export { createRotatingClient } from "./rotating-client.ts";
export type { AttemptEvent, CallOptions, ListedModel, ProviderStats, RotatingClient, RotatingClientOptions, RouteOption } from "./rotating-client.ts";
export type * from "./api-types.ts";
export { providersFromEnv } from "./client-options.ts";
export type { ProviderOptions } from "./client-options.ts";
export { RotationError } from "./rotation-error.ts";
export type { RotationErrorKind } from "./rotation-error.ts";
export type { ChunkStream } from "./chunk-stream.ts";
