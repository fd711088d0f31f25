/**
 * What routing costs a request, in-process (no HTTP): resolving the requested model — a route of
 * 3 targets among 1,000 configured routes, a weighted route, and a plain `provider/model` — and the
 * prompt-cache affinity work (a conversation key for a Claude Code-sized prefix, and the table
 * lookup). Target (issue 17): each ≤ 5 µs and independent of the number of routes. Run:
 * `npx bun bench/route-resolution.ts`; prints a markdown table.
 */

import { discoverProviders } from "../src/config/discover-providers.ts";
import { parseRouteVar } from "../src/config/routes.ts";
import { chatConversationKey } from "../src/core/conversation-key.ts";
import { createEngine } from "../src/core/create-engine.ts";
import { createRouteTable, resolveRouted } from "../src/core/model-routes.ts";
import { createAffinity } from "../src/engine/affinity.ts";
import type { ChatRequest } from "../src/formats/openai-requests.ts";
import { createMemoryStore } from "../src/store/memory.ts";

const ROUNDS = 500_000;

function microseconds(run: (i: number) => void, rounds = ROUNDS): number {
  for (let i = 0; i < rounds / 10; i++) run(i);
  const started = performance.now();
  for (let i = 0; i < rounds; i++) run(i);
  return ((performance.now() - started) * 1000) / rounds;
}

const { providers: settings } = discoverProviders({ A_API_BASE: "http://127.0.0.1:9/v1", A_API_KEY: "k-aaaaaaaa", B_API_BASE: "http://127.0.0.1:9/v1", B_API_KEY: "k-bbbbbbbb", C_API_BASE: "http://127.0.0.1:9/v1", C_API_KEY: "k-cccccccc" });
const engine = createEngine({ providers: settings, state: createMemoryStore(), resetMinuteUtc: 180 });

function table(routeCount: number) {
  const routes = Array.from({ length: routeCount }, (_, i) => parseRouteVar(`ROUTE_${i}`, `route-${i} => a/one-${i}, b/two-${i}, c/three-${i}`));
  routes.push(parseRouteVar("ROUTE_W", "weighted-route => weighted: a/x*3, b/y*1, c/z*1"));
  return createRouteTable(routes, engine.providers);
}

const small = table(10);
const large = table(1_000);
const system = "You are Claude Code. ".repeat(350);
const chat = { model: "a/m", messages: [{ role: "system", content: system }, { role: "user", content: "Explain the repository layout." }, { role: "assistant", content: "It has src and test." }, { role: "user", content: "And bench?" }] } as unknown as ChatRequest;
const affinity = createAffinity({ ttlMs: 300_000, capacity: 10_000 });
for (let i = 0; i < 10_000; i++) affinity.set("a", "m", `conversation-${i}`, "key");

const rows = [
  ["route of 3 targets, 10 routes configured", microseconds((i) => resolveRouted(small, engine.providers, `route-${i % 10}`))],
  ["route of 3 targets, 1,000 routes configured", microseconds((i) => resolveRouted(large, engine.providers, `route-${i % 1000}`))],
  ["weighted route (draw + order)", microseconds(() => resolveRouted(large, engine.providers, "weighted-route"))],
  ["plain provider/model, 1,000 routes configured", microseconds(() => resolveRouted(large, engine.providers, "b/some-model"))],
  ["conversation key, 7 KB system prompt", microseconds(() => chatConversationKey(chat, undefined), 100_000)],
  ["affinity lookup, 10,000 conversations", microseconds((i) => affinity.get("a", "m", `conversation-${i % 10_000}`))],
] as const;

console.log(["| operation | µs per request | target |", "|---|---:|---|", ...rows.map(([what, us]) => `| ${what} | ${us.toFixed(3)} | ≤ 5 µs ${us <= 5 ? "(pass)" : "(MISS)"} |`)].join("\n"));
engine.stop();
