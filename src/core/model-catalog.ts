/**
 * The models a client can ask for (`/v1/models`, the library's `listModels`): the routes, then the live model lists
 * of every configured provider, fetched in parallel with a short
 * timeout, cached per provider, prefixed with the provider name and filtered by the
 * IGNORE/WHITELIST settings. A provider that fails is left out (and retried on the next call);
 * it never breaks the list.
 */

import { modelAllowed } from "../config/discover-providers.ts";
import type { ProviderRuntime } from "./provider-runtime.ts";
import { hideSecret } from "../credential.ts";
import type { RouteTable } from "./model-routes.ts";

export interface ModelCard {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

export interface ModelListing {
  models: ModelCard[];
  /** Providers whose listing failed this time, with the reason. */
  failures: { provider: string; message: string }[];
}

export interface ModelCatalog {
  list(): Promise<ModelListing>;
}

const LIST_TIMEOUT_MS = 5_000;
const KEYS_TO_TRY = 2;

interface CacheEntry {
  at: number;
  models: ModelCard[];
}

export function createModelCatalog(options: {
  providers: ReadonlyMap<string, ProviderRuntime>;
  /** Listed first, as models of their own (`owned_by: "route"`), whatever their targets' lists say. */
  routes?: RouteTable;
  ttlMs: number;
  /** Told when a provider's list could not be had (the server logs it). */
  onUnavailable?: (provider: string, message: string) => void;
}): ModelCatalog {
  const cache = new Map<string, CacheEntry>();
  const pending = new Map<string, Promise<ModelCard[]>>();

  const fetchProvider = async (runtime: ProviderRuntime): Promise<ModelCard[]> => {
    const { settings, pool, adapter } = runtime;
    let lastMessage = "no usable key";
    for (const key of pool.healthyKeys(KEYS_TO_TRY)) {
      const result = await adapter.listModels({
        key,
        timeoutMs: LIST_TIMEOUT_MS,
        signal: AbortSignal.timeout(LIST_TIMEOUT_MS * 2),
      });
      if (result.ok) {
        const now = Math.floor(Date.now() / 1000);
        return result.models
          .filter((model) => modelAllowed(settings, model.id))
          .map((model) => ({
            id: `${settings.name}/${model.id}`,
            object: "model" as const,
            created: model.created ?? now,
            owned_by: model.owned_by ?? settings.name,
          }));
      }
      lastMessage = hideSecret(result.failure.message, key);
    }
    throw new Error(lastMessage);
  };

  const modelsOf = (runtime: ProviderRuntime): Promise<ModelCard[]> => {
    const name = runtime.settings.name;
    const cached = cache.get(name);
    if (cached && Date.now() - cached.at < options.ttlMs) return Promise.resolve(cached.models);
    let inFlight = pending.get(name);
    if (!inFlight) {
      // Concurrent callers share one upstream listing instead of each sending their own.
      inFlight = fetchProvider(runtime)
        .then((models) => {
          cache.set(name, { at: Date.now(), models });
          return models;
        })
        .finally(() => pending.delete(name));
      pending.set(name, inFlight);
    }
    return inFlight;
  };

  return {
    async list() {
      const runtimes = [...options.providers.values()];
      const results = await Promise.allSettled(runtimes.map(modelsOf));
      const listing: ModelListing = { models: routeCards(options.routes), failures: [] };
      results.forEach((result, index) => {
        const provider = runtimes[index]!.settings.name;
        if (result.status === "fulfilled") listing.models.push(...result.value);
        else {
          const message = result.reason instanceof Error ? result.reason.message : String(result.reason);
          listing.failures.push({ provider, message });
          options.onUnavailable?.(provider, message);
        }
      });
      return listing;
    },
  };
}

/** A route is a model a client may name: it is listed by its name, created when the proxy started. */
const STARTED = Math.floor(Date.now() / 1000);
function routeCards(routes: RouteTable | undefined): ModelCard[] {
  return [...(routes?.values() ?? [])].map((route) => ({ id: route.name, object: "model" as const, created: STARTED, owned_by: "route" }));
}
