/**
 * The HTTP surface: request ids, CORS, the proxy-key check, body limits, the routes, and
 * OpenAI-shaped errors for everything that goes wrong (unknown route, wrong method, oversized
 * body, unexpected exception). One console line per request.
 */

import { Hono } from "hono";
import { cors } from "hono/cors";
import { VERSION } from "../version.ts";
import type { AppEnv } from "./app-env.ts";
import { createKeyCheck } from "./auth.ts";
import { anthropicErrorResponse, isAnthropicRoute } from "./anthropic-errors.ts";
import { googleErrorResponse, isGeminiRequest } from "./gemini-errors.ts";
import { errorResponse as openAIErrorResponse } from "./errors.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import type { ProxyContext } from "./proxy-context.ts";
import { chatRoutes } from "./routes/chat.ts";
import { embeddingsRoutes } from "./routes/embeddings.ts";
import { infoRoutes } from "./routes/info.ts";
import { messagesRoutes } from "./routes/messages.ts";
import { responsesRoutes } from "./routes/responses.ts";
import { geminiNativeRoutes } from "./routes/gemini-native.ts";
import { adminRoutes } from "./routes/admin.ts";
import { observeRequests } from "./observe-request.ts";
import { detailedLog } from "./detailed-log.ts";
import { receiveBody } from "./receive-body.ts";

const EXPOSED_HEADERS = ["x-request-id", "x-proxy-attempts", "x-proxy-key", "retry-after", "x-proxy-unavailable-providers", "x-proxy-token-count", "x-proxy-dropped-tools", "x-proxy-route"];

/** Scrape-time gauges: keys per provider by state. */
function keyGauges(ctx: ProxyContext) {
  const samples = [...ctx.providers.values()].flatMap(({ settings, pool }) => {
    const standing = pool.standing();
    return (["healthy", "cooling", "disabled", "failing"] as const).map((state) => ({ labels: { provider: settings.name, state }, value: standing[state] }));
  });
  const gauges: Record<string, { help: string; samples: { labels: Record<string, string>; value: number }[] }> = { llm_proxy_keys: { help: "Configured keys per provider by state.", samples } };
  const shared = ctx.store.health?.();
  if (shared?.shared) {
    gauges.llm_proxy_cluster_connected = { help: "1 while the shared state (Redis) is reachable, 0 while this instance serves on its own view.", samples: [{ labels: {}, value: shared.reachable ? 1 : 0 }] };
    gauges.llm_proxy_cluster_usage_dropped = { help: "Requests whose usage was dropped while the shared state could not be reached.", samples: [{ labels: {}, value: shared.droppedUsage }] };
  }
  return gauges;
}

/** Errors raised outside a route (auth, size, unknown path) in the envelope the route's clients read. */
function errorFor(request: Request, path: string, error: ProxyError): Response {
  if (isGeminiRequest(request, path)) return googleErrorResponse(error);
  return isAnthropicRoute(path) ? anthropicErrorResponse(error) : openAIErrorResponse(error);
}

const ROUTE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/**
 * The methods a route is registered for at `path`. Middleware matches every method, so a method
 * counts only when it matches more handlers than a method nothing is registered for.
 */
function methodsServing(app: Hono<AppEnv>, path: string): string[] {
  const handlers = (method: string): number => app.router.match(method, path)[0].length;
  const everyMethod = handlers("NO-SUCH-METHOD");
  return ROUTE_METHODS.filter((method) => handlers(method) > everyMethod);
}

/** The OpenAI and Anthropic routes under /v1, and Google's under /v1beta (Gemini CLI). */
const API_PATHS = "/:api{v1|v1beta}/*";

export function createApp(ctx: ProxyContext): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const keyMatches = createKeyCheck(ctx.settings.proxyApiKey);

  app.use("*", observeRequests(ctx));

  const browserAccess = cors({ origin: "*", allowHeaders: [], exposeHeaders: EXPOSED_HEADERS, maxAge: 600 });
  // Only browsers send Origin, and only they read CORS headers (preflights are answered for anyone).
  // Hono's cors prepares a response before the route runs, which makes Hono copy the route's
  // response afterwards: skipping it for the SDKs and agents that make up nearly all traffic saves
  // that copy on every request.
  app.use("*", (c, next) => (c.req.method === "OPTIONS" || c.req.raw.headers.has("origin") ? browserAccess(c, next) : next()));

  const identity = { status: "ok", service: "llm-key-proxy", version: VERSION };
  // In cluster mode the answer also says whether the shared state is reachable; the proxy serves
  // either way (on its own view while Redis is away), so the status stays ok.
  const health = () => {
    const shared = ctx.store.health?.();
    return shared?.shared ? { ...identity, cluster: shared.reachable ? "ok" : "degraded" } : identity;
  };
  app.get("/", (c) => c.json(health()));
  app.get("/healthz", (c) => c.json(health()));
  app.get("/metrics", (c) => {
    if (ctx.settings.metricsRequireAuth && !keyMatches(c.req.raw.headers)) {
      return openAIErrorResponse({ status: 401, type: "authentication_error", code: "invalid_proxy_key", param: null, message: "GET /metrics needs the proxy key (or METRICS_REQUIRE_AUTH=false)." });
    }
    return c.body(ctx.metrics.render(keyGauges(ctx)), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  app.use(API_PATHS, async (c, next) => {
    // Google's clients may send the key as `?key=`; no other route takes a key from the URL.
    const gemini = isGeminiRequest(c.req.raw, c.req.path);
    if (keyMatches(c.req.raw.headers, gemini ? c.req.query("key") : undefined)) return next();
    return errorFor(c.req.raw, c.req.path, {
      status: 401,
      type: "authentication_error",
      code: "invalid_proxy_key",
      param: null,
      message: gemini
        ? "Missing or wrong proxy key: send x-goog-api-key: <PROXY_API_KEY> (or ?key=<PROXY_API_KEY>)."
        : "Missing or wrong proxy key: send Authorization: Bearer <PROXY_API_KEY> (or x-api-key).",
    });
  });

  app.use(
    API_PATHS,
    receiveBody({
      maxBytes: ctx.settings.maxBodyBytes,
      timeoutMs: ctx.settings.requestBodyTimeoutMs,
      onTooLarge: (c) =>
        errorFor(c.req.raw, c.req.path, {
          status: 413,
          type: "invalid_request_error",
          code: "request_too_large",
          param: null,
          message: `The request body is larger than ${Math.round(ctx.settings.maxBodyBytes / 1024 / 1024)} MiB (MAX_BODY_SIZE_MB).`,
        }),
      onTimeout: (c) =>
        errorFor(c.req.raw, c.req.path, {
          status: 408,
          type: "invalid_request_error",
          code: "request_timeout",
          param: null,
          message: `The request body did not arrive within ${ctx.settings.requestBodyTimeoutMs / 1000} s (REQUEST_BODY_TIMEOUT).`,
        }),
    }),
  );

  app.use(API_PATHS, detailedLog(ctx));

  // First: on /v1/models it hands every caller that does not speak Google's dialect on to infoRoutes.
  app.route("/", geminiNativeRoutes(ctx));
  app.route("/v1", chatRoutes(ctx));
  app.route("/v1", embeddingsRoutes(ctx));
  app.route("/v1", infoRoutes(ctx));
  app.route("/v1", messagesRoutes(ctx));
  app.route("/v1", responsesRoutes(ctx));
  app.route("/v1", adminRoutes(ctx));

  app.notFound((c) => {
    const allowed = methodsServing(app, c.req.path).filter((method) => method !== c.req.method);
    if (allowed.length > 0) {
      const response = errorFor(c.req.raw, c.req.path, {
        status: 405,
        type: "invalid_request_error",
        code: "method_not_allowed",
        param: null,
        message: `${c.req.path} does not take ${c.req.method}; use ${allowed.join(" or ")}.`,
      });
      response.headers.set("allow", allowed.join(", "));
      return response;
    }
    return errorFor(c.req.raw, c.req.path, {
      status: 404,
      type: "not_found_error",
      code: "unknown_route",
      param: null,
      message: `No route ${c.req.method} ${c.req.path}. See GET / for the service and the README for the routes.`,
    });
  });

  app.onError((error, c) => {
    ctx.log.error(`Unexpected error on ${c.req.method} ${c.req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return errorFor(c.req.raw, c.req.path, { status: 500, type: "internal_error", code: "internal_error", param: null, message: "The proxy hit an unexpected error; see its log for details." });
  });

  return app;
}
