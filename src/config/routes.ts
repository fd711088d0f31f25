/**
 * Model routes: a model name of the user's choosing (`smart`, or a client's own default such as
 * `claude-sonnet-4-5` or `gpt-5.1-codex`) that stands for an ordered list of `provider/model`
 * targets. A request to it is served by the first target that can serve; with `weighted`, the
 * first target is drawn by weight and the others follow as fallbacks.
 *
 * Two forms, which may be mixed:
 * - `ROUTE_<ID>=<name> => <target>, <target>, …`, or `<name> => weighted: <target>*3, <target>*1`.
 *   The name is everything before `=>`, so it may hold dashes, dots, slashes and colons.
 * - `ROUTES_FILE=<path>`: a JSON file `{"routes": {"<name>": ["<target>", …] | {"strategy":
 *   "order" | "weighted", "targets": ["<target>" | {"model": "<target>", "weight": 3}, …]}}}`.
 *
 * Every target must name a configured provider and a model its filters allow; a mistake stops the
 * start with the variable (or file) named.
 */

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { modelAllowed, type ProviderSettings } from "./discover-providers.ts";
import { ConfigError } from "./paths.ts";

export type RouteStrategy = "order" | "weighted";

export interface RouteTargetSettings {
  /** `provider/model`. */
  model: string;
  /** Relative share of first picks under `weighted`; 1 under `order`. */
  weight: number;
}

export interface RouteSettings {
  name: string;
  strategy: RouteStrategy;
  targets: RouteTargetSettings[];
  /** Where it was configured (`ROUTE_SMART`, `routes.json`), for error messages. */
  source: string;
}

/** The longest route a request may walk: more targets than this is a configuration mistake. */
export const MAX_ROUTE_TARGETS = 16;
const ROUTE_VAR = /^ROUTE_[A-Z0-9_]+$/;
const ARROW = "=>";
const WEIGHTED = /^weighted\s*:\s*/i;
const WEIGHT_SUFFIX = /\*(\d+(?:\.\d+)?)$/;

/** The routes of `ROUTE_<ID>` variables and `ROUTES_FILE`, checked against the configured providers. */
export function readRoutes(vars: Readonly<Record<string, string | undefined>>, providers: readonly ProviderSettings[], baseDir: string): RouteSettings[] {
  const routes: RouteSettings[] = [];
  for (const [name, value] of Object.entries(vars)) {
    if (!ROUTE_VAR.test(name) || value === undefined || value.trim() === "") continue;
    routes.push(parseRouteVar(name, value));
  }
  const file = vars.ROUTES_FILE?.trim();
  if (file) routes.push(...readRoutesFile(resolve(baseDir, file)));
  return checkRoutes(routes, providers);
}

/** `<name> => <target>, …` or `<name> => weighted: <target>*<weight>, …`. */
export function parseRouteVar(variable: string, value: string): RouteSettings {
  const arrow = value.indexOf(ARROW);
  if (arrow === -1) throw new ConfigError(`${variable} must read "<model name> => <provider/model>, <provider/model>, …" (no "=>" found).`);
  const name = value.slice(0, arrow).trim();
  let list = value.slice(arrow + ARROW.length).trim();
  const weighted = WEIGHTED.test(list);
  if (weighted) list = list.replace(WEIGHTED, "");
  const targets = list
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "")
    .map((item) => {
      const weight = WEIGHT_SUFFIX.exec(item);
      if (weight && !weighted) throw new ConfigError(`${variable}: "${item}" has a weight, but the route is not weighted (write "${name} => weighted: …").`);
      return { model: weight ? item.slice(0, weight.index).trim() : item, weight: weight ? Number(weight[1]) : 1 };
    });
  return { name, strategy: weighted ? "weighted" : "order", targets, source: variable };
}

const fileTarget = z.union([z.string().min(1), z.object({ model: z.string().min(1), weight: z.number().positive().optional() }).strict()]);
const fileRoute = z.union([
  z.array(fileTarget).min(1),
  z.object({ strategy: z.enum(["order", "weighted"]).optional(), targets: z.array(fileTarget).min(1) }).strict(),
]);
/** The JSON a routes file holds; also the library's `routes` option. */
export const routesSchema = z.record(z.string().min(1), fileRoute);
const routesFileSchema = z.object({ routes: routesSchema }).strict();

/** The routes of the library's option or a file's `routes` object, in their order. */
export function routesFromObject(routes: z.output<typeof routesSchema>, source: string): RouteSettings[] {
  return Object.entries(routes).map(([name, route]) => {
    const list = Array.isArray(route) ? route : route.targets;
    const strategy: RouteStrategy = Array.isArray(route) ? "order" : (route.strategy ?? "order");
    const targets = list.map((item) => (typeof item === "string" ? { model: item, weight: 1 } : { model: item.model, weight: item.weight ?? 1 }));
    return { name, strategy, targets, source: `${source} (route "${name}")` };
  });
}

function readRoutesFile(path: string): RouteSettings[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`ROUTES_FILE names ${path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? "unreadable"}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`ROUTES_FILE ${path} is not valid JSON.`);
  }
  const parsed = routesFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`ROUTES_FILE ${path}: ${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message} (expected {"routes": {"<name>": ["<provider/model>", …]}}).`);
  }
  return routesFromObject(parsed.data.routes, path);
}

/** Names unique, targets `provider/model` of configured providers, allowed by their filters, each once. */
export function checkRoutes(routes: RouteSettings[], providers: readonly ProviderSettings[]): RouteSettings[] {
  const byName = new Map(providers.map((provider) => [provider.name, provider]));
  const seen = new Map<string, string>();
  for (const route of routes) {
    if (route.name === "" || /\s/.test(route.name)) throw new ConfigError(`${route.source}: the route name ${JSON.stringify(route.name)} must be one word a client can send as a model (no spaces).`);
    const earlier = seen.get(route.name);
    if (earlier !== undefined) throw new ConfigError(`${route.source}: the route "${route.name}" is already defined by ${earlier}.`);
    seen.set(route.name, route.source);
    if (route.targets.length === 0) throw new ConfigError(`${route.source}: the route "${route.name}" has no targets.`);
    if (route.targets.length > MAX_ROUTE_TARGETS) throw new ConfigError(`${route.source}: the route "${route.name}" has ${route.targets.length} targets; at most ${MAX_ROUTE_TARGETS}.`);
    const models = new Set<string>();
    for (const target of route.targets) {
      const slash = target.model.indexOf("/");
      const provider = byName.get(target.model.slice(0, Math.max(slash, 0)).toLowerCase());
      if (slash <= 0 || slash === target.model.length - 1) throw new ConfigError(`${route.source}: the target "${target.model}" must be "provider/model".`);
      if (provider === undefined) throw new ConfigError(`${route.source}: the target "${target.model}" names the provider "${target.model.slice(0, slash)}", which has no keys configured.`);
      if (!modelAllowed(provider, target.model.slice(slash + 1))) throw new ConfigError(`${route.source}: the target "${target.model}" is filtered out by IGNORE_MODELS / WHITELIST_MODELS of ${provider.name}.`);
      if (models.has(target.model)) throw new ConfigError(`${route.source}: the target "${target.model}" is listed twice.`);
      if (!(target.weight > 0) || !Number.isFinite(target.weight)) throw new ConfigError(`${route.source}: the target "${target.model}" needs a positive weight.`);
      models.add(target.model);
    }
  }
  return routes;
}
