/**
 * `provider/model` → the provider's runtime and the upstream model name, enforcing the model
 * filters for requests exactly as `/v1/models` applies them, and a bound on the name's length.
 */

import { modelAllowed } from "../config/discover-providers.ts";
import { invalidRequest, notFound, type ProxyError } from "../errors/proxy-error.ts";
import type { ProviderAdapter } from "../providers/adapter.ts";
import type { ProviderRuntime } from "./provider-runtime.ts";

export interface ModelTarget {
  runtime: ProviderRuntime;
  /** The family adapter that serves this model (a cloud hosting several families picks by model). */
  adapter: ProviderAdapter;
  /** The model name the upstream knows (everything after the first `/`). */
  model: string;
}

/**
 * Longest `provider/model` accepted. Real names stay under 100 characters; the name becomes a metrics
 * label, a usage row and a log field, so a client sending 100 KB names would make each of those huge.
 */
export const MAX_MODEL_LENGTH = 256;

export function resolveModel(providers: ReadonlyMap<string, ProviderRuntime>, requested: string): { ok: true; target: ModelTarget } | { ok: false; error: ProxyError } {
  if (requested.length > MAX_MODEL_LENGTH) {
    return {
      ok: false,
      error: invalidRequest(`model is ${requested.length} characters long; the longest accepted is ${MAX_MODEL_LENGTH}.`, "model", "model_too_long"),
    };
  }
  const slash = requested.indexOf("/");
  if (slash <= 0 || slash === requested.length - 1) {
    const known = [...providers.keys()].join(", ");
    return {
      ok: false,
      error: invalidRequest(`model must be "provider/model" (for example "${[...providers.keys()][0]}/<model>"); got "${requested}". Configured providers: ${known}.`, "model", "model_without_provider"),
    };
  }
  const provider = requested.slice(0, slash).toLowerCase();
  const model = requested.slice(slash + 1);
  const runtime = providers.get(provider);
  if (!runtime) {
    const known = [...providers.keys()].join(", ");
    return {
      ok: false,
      error: notFound(`Unknown provider "${provider}": no ${provider.toUpperCase()}_API_KEY is configured. Configured providers: ${known}.`, "unknown_provider", "model"),
    };
  }
  if (!modelAllowed(runtime.settings, model)) {
    return {
      ok: false,
      error: notFound(`The model "${requested}" is filtered out by IGNORE_MODELS_${provider.toUpperCase()} / WHITELIST_MODELS_${provider.toUpperCase()}.`, "model_not_found", "model"),
    };
  }
  return { ok: true, target: { runtime, model, adapter: runtime.adapter.forModel?.(model) ?? runtime.adapter } };
}
