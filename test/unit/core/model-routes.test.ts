/** Route lookup and the order a request tries targets in: configured order, or a weighted first pick with the rest by weight. */

import { describe, expect, test } from "bun:test";
import { discoverProviders } from "../../../src/config/discover-providers.ts";
import { parseRouteVar } from "../../../src/config/routes.ts";
import { createEngine } from "../../../src/core/create-engine.ts";
import { createRouteTable, orderFor, resolveRouted, targetName } from "../../../src/core/model-routes.ts";
import { createMemoryStore } from "../../../src/store/memory.ts";

const { providers: settings } = discoverProviders({ A_API_BASE: "http://127.0.0.1:9/v1", A_API_KEY: "k-aaaaaaaa", B_API_BASE: "http://127.0.0.1:9/v1", B_API_KEY: "k-bbbbbbbb", C_API_BASE: "http://127.0.0.1:9/v1", C_API_KEY: "k-cccccccc" });
const engine = createEngine({ providers: settings, state: createMemoryStore(), resetMinuteUtc: 180 });
const table = createRouteTable([parseRouteVar("ROUTE_1", "smart => a/one, b/two, c/three"), parseRouteVar("ROUTE_2", "w => weighted: a/one*1, b/two*5, c/three*2")], engine.providers);
const names = (targets: readonly { runtime: { settings: { name: string } }; model: string }[]) => targets.map((target) => targetName(target as never));

describe("resolveRouted", () => {
  test("a route's name gives its targets; a provider/model gives itself; an unknown provider is the usual 404", () => {
    const routed = resolveRouted(table, engine.providers, "smart");
    expect(routed.ok && routed.routed.route?.name).toBe("smart");
    expect(routed.ok && names(routed.routed.targets)).toEqual(["a/one", "b/two", "c/three"]);
    const plain = resolveRouted(table, engine.providers, "b/x");
    expect(plain.ok && plain.routed.route).toBeUndefined();
    expect(plain.ok && names(plain.routed.targets)).toEqual(["b/x"]);
    const unknown = resolveRouted(table, engine.providers, "zz/x");
    expect(!unknown.ok && unknown.error.status).toBe(404);
  });
});

describe("orderFor", () => {
  test("weighted: the draw picks the first target by its share; the others follow by falling weight", () => {
    const route = table.get("w")!;
    // Total weight 8: [0, 1/8) → a, [1/8, 6/8) → b, [6/8, 1) → c.
    expect(names(orderFor(route, () => 0.05))).toEqual(["a/one", "b/two", "c/three"]);
    expect(names(orderFor(route, () => 0.5))).toEqual(["b/two", "c/three", "a/one"]);
    expect(names(orderFor(route, () => 0.9))).toEqual(["c/three", "b/two", "a/one"]);
    expect(names(orderFor(table.get("smart")!, () => 0.9))).toEqual(["a/one", "b/two", "c/three"]);
  });
});
