/**
 * Read-only routes about the proxy itself: `GET /v1/models` (live, cached, filtered),
 * `GET /v1/providers` (configured providers and the health of their keys) and
 * `POST /v1/token-count`.
 */

import { Hono } from "hono";
import { tokenCountRequestSchema } from "../../formats/openai-requests.ts";
import { catalogByGroup, catalogEntry } from "../../providers/catalog.ts";
import { countChatTokens, countTextTokens, encodingForModel } from "../../tokens/count-tokens.ts";
import type { AppEnv } from "../app-env.ts";
import { errorResponse } from "../errors.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { readJsonRequest } from "../read-request.ts";

export function infoRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get("/models", async (c) => {
    const listing = await ctx.models.list();
    const headers: Record<string, string> = {};
    // Say which providers are missing from the list instead of pretending it is complete.
    if (listing.failures.length > 0) headers["x-proxy-unavailable-providers"] = listing.failures.map((failure) => failure.provider).join(",");
    return c.json({ object: "list", data: listing.models }, 200, headers);
  });

  app.get("/providers", (c) => {
    const data = [...ctx.providers.values()].map(({ settings, pool }) => {
      const standing = pool.standing();
      const incident = ctx.incidents.active(settings.name);
      return {
        name: settings.name,
        display_name: settings.displayName,
        family: settings.family,
        group: catalogEntry(settings.name)?.group ?? "Custom",
        base_url: settings.baseUrl,
        custom: settings.custom,
        keys: pool.size,
        healthy: standing.healthy,
        cooling: standing.cooling,
        disabled: standing.disabled,
        failing: standing.failing,
        in_flight: standing.keys.reduce((sum, key) => sum + key.inFlight, 0),
        max_concurrent_per_key: settings.maxConcurrentPerKey ?? null,
        incident: incident ? { message: incident.message, until: new Date(incident.until).toISOString() } : null,
      };
    });
    // Every provider the proxy knows, configured or not, as the wizard groups them: what a key
    // variable can name, and where it goes.
    const configured = new Set(ctx.providers.keys());
    const catalog = catalogByGroup().map(({ group, providers }) => ({
      group,
      providers: providers.map(({ name, entry }) => ({
        name,
        display_name: entry.displayName,
        family: entry.family,
        base_url: entry.baseUrl,
        key_variable: entry.keyless ? null : `${name.toUpperCase()}_API_KEY`,
        keyless: entry.keyless === true,
        settings: (entry.keyOptions ?? []).map((option) => `${name.toUpperCase()}_${option.env}`),
        example_model: `${name}/${entry.exampleModel}`,
        configured: configured.has(name),
      })),
    }));
    return c.json({ object: "list", data, catalog });
  });

  app.post("/token-count", async (c) => {
    const parsed = await readJsonRequest(c, tokenCountRequestSchema);
    if (!parsed.ok) return errorResponse(parsed.error);
    const { model: requested, messages, text, tools } = parsed.value;
    // The provider prefix only routes; the tokenizer wants the bare model name.
    const model = requested.includes("/") ? requested.slice(requested.indexOf("/") + 1) : requested;
    const count = messages ? countChatTokens(messages, model, tools) : countTextTokens(text ?? "", model);
    return c.json({ token_count: count, model: requested, encoding: encodingForModel(model) });
  });

  return app;
}
