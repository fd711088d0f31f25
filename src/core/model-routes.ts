/**
 * Routes as every face uses them: the configured routes (config/routes.ts) bound to the providers'
 * runtimes once, and the one lookup a request does — a route name gives its targets in the order
 * this request tries them; any other name is a single `provider/model` target. Both are O(1) in the
 * number of routes (a map lookup; a weighted pick walks the route's few targets).
 */

import type { RouteSettings, RouteStrategy } from "../config/routes.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import type { ProviderRuntime } from "./provider-runtime.ts";
import { resolveModel, type ModelTarget } from "./resolve-model.ts";

export interface Route {
  name: string;
  strategy: RouteStrategy;
  targets: readonly ModelTarget[];
  /** Per target, its share of first picks (weighted routes). */
  weights: readonly number[];
  /** Target indices by falling weight, configured order among equals: the fallbacks after a weighted pick. */
  byWeight: readonly number[];
}

export type RouteTable = ReadonlyMap<string, Route>;

/** A request's model: the targets to try in order, and the route they came from when it was one. */
export interface RoutedTargets {
  route?: Route;
  targets: readonly ModelTarget[];
}

/** Binds each route's targets to their runtimes; the configuration was checked, so each resolves. */
export function createRouteTable(routes: readonly RouteSettings[], providers: ReadonlyMap<string, ProviderRuntime>): RouteTable {
  const table = new Map<string, Route>();
  for (const settings of routes) {
    const targets = settings.targets.map((target) => {
      const resolved = resolveModel(providers, target.model);
      if (!resolved.ok) throw new Error(`route "${settings.name}": ${resolved.error.message}`);
      return resolved.target;
    });
    const weights = settings.targets.map((target) => target.weight);
    const byWeight = weights.map((_, index) => index).sort((a, b) => weights[b]! - weights[a]! || a - b);
    table.set(settings.name, { name: settings.name, strategy: settings.strategy, targets, weights, byWeight });
  }
  return table;
}

/** The targets for a requested model: a route's, in this request's order, or the one `provider/model`. */
export function resolveRouted(
  routes: RouteTable,
  providers: ReadonlyMap<string, ProviderRuntime>,
  requested: string,
  random: () => number = Math.random,
): { ok: true; routed: RoutedTargets } | { ok: false; error: ProxyError } {
  const route = routes.get(requested);
  if (route !== undefined) return { ok: true, routed: { route, targets: orderFor(route, random) } };
  const resolved = resolveModel(providers, requested);
  return resolved.ok ? { ok: true, routed: { targets: [resolved.target] } } : resolved;
}

/** `order`: as configured. `weighted`: one target drawn by weight first, then the others by falling weight. */
export function orderFor(route: Route, random: () => number = Math.random): readonly ModelTarget[] {
  if (route.strategy === "order" || route.targets.length === 1) return route.targets;
  let total = 0;
  for (const weight of route.weights) total += weight;
  let draw = random() * total;
  let first = route.weights.length - 1;
  for (let index = 0; index < route.weights.length; index++) {
    draw -= route.weights[index]!;
    if (draw < 0) {
      first = index;
      break;
    }
  }
  return [route.targets[first]!, ...route.byWeight.filter((index) => index !== first).map((index) => route.targets[index]!)];
}

/** How a target is named in headers, logs and metrics. */
export function targetName(target: ModelTarget): string {
  return `${target.runtime.settings.name}/${target.model}`;
}

/** How the key calls of one target of a route run, and what they found. */
export interface RouteStep {
  /** The request's deadline, shared by every target. */
  deadline: number;
  /** Another target follows this one: its key calls do not wait (RotationRequest.fallbackFollows). */
  fallbackFollows: boolean;
  /** Set by a key call that found the provider unable to serve (engine/rotate.ts `cannotServe`). */
  unavailable: boolean;
}

/**
 * Serve a request's targets in order, the recipe of every face: the next target only when this one
 * could not serve (its key calls say so through the step), never after a request fault or a
 * stream's first byte (those are answers), and not once the deadline has passed. A plain
 * `provider/model` is served once, without a step. `fellThrough` hears of each target left behind.
 */
export async function overRoute<R>(
  routed: RoutedTargets,
  budgetMs: number,
  serve: (target: ModelTarget, step: RouteStep | undefined) => Promise<R>,
  fellThrough?: (target: ModelTarget, result: R) => void | Promise<void>,
): Promise<{ result: R; target: ModelTarget }> {
  const { route, targets } = routed;
  if (route === undefined) return { result: await serve(targets[0]!, undefined), target: targets[0]! };
  const deadline = Date.now() + budgetMs;
  for (let index = 0; ; index++) {
    const target = targets[index]!;
    const step: RouteStep = { deadline, fallbackFollows: index < targets.length - 1, unavailable: false };
    const result = await serve(target, step);
    if (!(step.unavailable && step.fallbackFollows && Date.now() < deadline)) return { result, target };
    await fellThrough?.(target, result);
  }
}
