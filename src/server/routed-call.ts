/**
 * A request whose model is a route, served the same way by every front (chat, embeddings,
 * Messages, Responses, Gemini) through the core's `overRoute`: the front's handling of one target
 * runs with that target's step on the request context, where its key calls (proxied-call.ts) find
 * it. A target that could not serve leaves its answer unsent. The serving target is named in
 * `x-proxy-route`, the request log line and the route metrics.
 */

import type { Context } from "hono";
import { overRoute, targetName, type RoutedTargets } from "../core/model-routes.ts";
import type { ModelTarget } from "../core/resolve-model.ts";
import type { AttemptTrace } from "../engine/rotate.ts";
import type { AppEnv } from "./app-env.ts";
import type { ProxyContext } from "./proxy-context.ts";

/** Serve `routed` with `serve`, the front's handling of one target (it builds its key calls with callFace). */
export async function serveRouted(c: Context<AppEnv>, ctx: ProxyContext, routed: RoutedTargets, serve: (target: ModelTarget) => Promise<Response>): Promise<Response> {
  const route = routed.route;
  if (route === undefined) return serve(routed.targets[0]!);
  const passed: { target: string; trace: AttemptTrace[] }[] = [];
  const { result: response, target } = await overRoute(
    routed,
    ctx.settings.globalTimeoutMs,
    async (target, step) => {
      c.set("routeStep", step);
      // The log line and metrics are the serving target's: a target that opens no key call leaves none.
      c.set("call", undefined);
      try {
        return await serve(target);
      } finally {
        c.set("routeStep", undefined);
      }
    },
    async (target, response) => {
      ctx.metrics.observeRouteTarget(route.name, targetName(target), "fell_through");
      passed.push({ target: targetName(target), trace: c.get("call")?.trace ?? [] });
      await response.body?.cancel();
    },
  );
  const call = c.get("call");
  if (call) {
    call.route = route.name;
    if (passed.length > 0) call.fellThrough = passed;
  }
  ctx.metrics.observeRouteTarget(route.name, targetName(target), response.ok ? "served" : "failed");
  response.headers.set("x-proxy-route", `${route.name}=${targetName(target)}`);
  return response;
}
