/**
 * The Gemini-native front for Gemini CLI and `@google/genai`: `POST {version}/models/{model}:{method}`
 * for `generateContent`, `streamGenerateContent` (`alt=sse`), `countTokens`, `embedContent` and
 * `batchEmbedContents`, and `GET {version}/models[/{model}]`, under `/v1beta` (Gemini CLI) and `/v1`
 * (the current SDK). `GET /v1/models` stays the OpenAI list unless the caller speaks Google's
 * dialect (see `isGeminiRequest`). Errors are always Google-shaped.
 *
 * `{model}` is a proxy model: `provider/model` routes to that provider (`groq/llama-3.3-70b`), a
 * name without a provider is a Gemini model (`gemini-2.5-flash` is `gemini/gemini-2.5-flash`). Clients send a model with a `/` unencoded, so the method is what
 * follows the last `:`. `gemini/` models pass through natively with rotation; others translate.
 */

import { Hono, type Context, type Next } from "hono";
import type { z } from "zod";
import { convertModelsToGeminiList } from "../../formats/gemini/convert-models-to-gemini-list.ts";
import { batchEmbedRequestSchema, countTokensRequestSchema, embedRequestSchema, generateRequestSchema } from "../../formats/gemini/request-schema.ts";
import type { GeminiEmbedRequest, GeminiGenerateRequest } from "../../formats/gemini/types.ts";
import type { AppEnv } from "../app-env.ts";
import { notFound } from "../../errors/proxy-error.ts";
import { googleErrorResponse, isGeminiRequest } from "../gemini-errors.ts";
import type { GeminiNativeMethod } from "../../providers/adapter.ts";
import { passThroughGemini, speaksGemini } from "../gemini-passthrough.ts";
import { translatedCountTokens, translatedEmbed, translatedGenerate, type GeminiCall } from "../gemini-translated.ts";
import type { ProxyContext } from "../proxy-context.ts";
import { readJsonRequest } from "../read-request.ts";
import { resolveRouted } from "../../core/model-routes.ts";
import { serveRouted } from "../routed-call.ts";

const VERSIONS = ["/v1beta", "/v1"] as const;

export function geminiNativeRoutes(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  for (const version of VERSIONS) {
    const prefix = `${version}/models/`;
    app.post(`${prefix}*`, (c) => modelMethod(c, ctx, prefix));
    // On /v1 the OpenAI routes answer everyone who does not speak Google's dialect.
    const forGemini = (handler: (c: Context<AppEnv>) => Promise<Response>) => (c: Context<AppEnv>, next: Next) =>
      version === "/v1" && !isGeminiRequest(c.req.raw, c.req.path) ? next() : handler(c);
    app.get(`${version}/models`, forGemini((c) => listModels(c, ctx)));
    app.get(`${prefix}*`, forGemini((c) => getModel(c, ctx, modelPath(c, prefix))));
  }
  return app;
}

/** The `{model}` (and `:method`) part of the path, percent-decoded (some clients encode the `:`). */
function modelPath(c: Context<AppEnv>, prefix: string): string {
  const path = c.req.path.slice(prefix.length);
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * A Gemini-style model name → its targets; a `models/` prefix is Google's resource form. A route's
 * name is looked up as sent (Gemini CLI may be told any model name). Gemini model ids never hold a
 * `/`, so another name with one names its provider (and an unconfigured one is a 404), and a name
 * without one is a Gemini model.
 */
function resolveGeminiModel(ctx: ProxyContext, name: string): ReturnType<typeof resolveRouted> {
  const bare = name.replace(/^models\//, "");
  return resolveRouted(ctx.routes, ctx.providers, bare.includes("/") || ctx.routes.has(bare) ? bare : `gemini/${bare}`);
}

/** The body of a method, read once: every target of a route is served from it. */
type MethodBody =
  | { method: "generateContent" | "streamGenerateContent"; body: z.infer<typeof generateRequestSchema> }
  | { method: "countTokens"; body: z.infer<typeof countTokensRequestSchema> }
  | { method: "embedContent"; body: z.infer<typeof embedRequestSchema> }
  | { method: "batchEmbedContents"; body: z.infer<typeof batchEmbedRequestSchema> };

async function modelMethod(c: Context<AppEnv>, ctx: ProxyContext, prefix: string): Promise<Response> {
  const path = modelPath(c, prefix);
  const colon = path.lastIndexOf(":");
  const method = colon === -1 ? "" : path.slice(colon + 1);
  const name = colon === -1 ? path : path.slice(0, colon);
  if (!name || !METHODS.has(method)) {
    return googleErrorResponse(notFound(`No method "${method || "(none)"}" for models: the proxy serves ${[...METHODS].map((m) => `:${m}`).join(", ")}.`, "unknown_route"));
  }
  const resolved = resolveGeminiModel(ctx, name);
  if (!resolved.ok) return googleErrorResponse(resolved.error);
  const read = await readMethodBody(c, method as GeminiNativeMethod);
  if (!read.ok) return read.response;
  const requested = name.replace(/^models\//, "");
  return serveRouted(c, ctx, resolved.routed, (target) => serveMethod(c, ctx, { target, requested }, read.value));
}

/** The schema of each method's body. */
const METHOD_SCHEMAS = {
  generateContent: generateRequestSchema,
  streamGenerateContent: generateRequestSchema,
  countTokens: countTokensRequestSchema,
  embedContent: embedRequestSchema,
  batchEmbedContents: batchEmbedRequestSchema,
} as const satisfies Record<GeminiNativeMethod, z.ZodType>;

async function readMethodBody(c: Context<AppEnv>, method: GeminiNativeMethod): Promise<{ ok: true; value: MethodBody } | { ok: false; response: Response }> {
  const body = await readBody(c, METHOD_SCHEMAS[method]);
  return body.ok ? { ok: true, value: { method, body: body.value } as MethodBody } : body;
}

/** One target: passed through where its family is Google's own, translated otherwise. */
async function serveMethod(c: Context<AppEnv>, ctx: ProxyContext, call: GeminiCall, read: MethodBody): Promise<Response> {
  const native = speaksGemini(call.target);
  switch (read.method) {
    case "generateContent":
    case "streamGenerateContent": {
      if (native) return passThroughGemini(c, ctx, call.target, read.method, read.body);
      return translatedGenerate(c, ctx, call, read.body as GeminiGenerateRequest, read.method === "streamGenerateContent");
    }
    case "countTokens": {
      const wrapped = "generateContentRequest" in read.body ? read.body.generateContentRequest : undefined;
      if (native) return passThroughGemini(c, ctx, call.target, "countTokens", wrapped ? { ...read.body, generateContentRequest: { ...wrapped, model: `models/${call.target.model}` } } : read.body);
      return translatedCountTokens(c, ctx, call, (wrapped ?? read.body) as GeminiGenerateRequest);
    }
    case "embedContent": {
      if (native) return passThroughGemini(c, ctx, call.target, "embedContent", { ...read.body, model: `models/${call.target.model}` });
      return translatedEmbed(c, ctx, call, [read.body as GeminiEmbedRequest], true);
    }
    case "batchEmbedContents": {
      // Google checks that every request names the model of the URL; the client named the proxy's.
      const requests = read.body.requests.map((request) => ({ ...request, model: `models/${call.target.model}` }));
      if (native) return passThroughGemini(c, ctx, call.target, "batchEmbedContents", { ...read.body, requests });
      return translatedEmbed(c, ctx, call, requests as GeminiEmbedRequest[], false);
    }
  }
}

const METHODS: ReadonlySet<string> = new Set<GeminiNativeMethod>(["generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents"]);

async function readBody<S extends z.ZodType>(c: Context<AppEnv>, schema: S): Promise<{ ok: true; value: z.infer<S> } | { ok: false; response: Response }> {
  const parsed = await readJsonRequest(c, schema);
  return parsed.ok ? parsed : { ok: false, response: googleErrorResponse(parsed.error) };
}

async function geminiListing(ctx: ProxyContext): Promise<{ list: ReturnType<typeof convertModelsToGeminiList>; headers: Record<string, string> }> {
  const listing = await ctx.models.list();
  const headers: Record<string, string> = {};
  if (listing.failures.length > 0) headers["x-proxy-unavailable-providers"] = listing.failures.map((failure) => failure.provider).join(",");
  return { list: convertModelsToGeminiList(listing.models), headers };
}

async function listModels(c: Context<AppEnv>, ctx: ProxyContext): Promise<Response> {
  const { list, headers } = await geminiListing(ctx);
  return c.json(list, 200, headers);
}

async function getModel(c: Context<AppEnv>, ctx: ProxyContext, name: string): Promise<Response> {
  const bare = name.replace(/^models\//, "");
  const { list, headers } = await geminiListing(ctx);
  const entry = list.models.find((model) => model.name === `models/${bare}`);
  if (!entry) return googleErrorResponse(notFound(`Model "${bare}" is not in the proxy's model list (GET /v1beta/models lists them).`, "model_not_found"));
  return c.json(entry, 200, headers);
}
