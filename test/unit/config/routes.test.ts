/** Model routes from `ROUTE_<ID>` variables and a routes file: the syntax, and every mistake named. */

import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { discoverProviders } from "../../../src/config/discover-providers.ts";
import { ConfigError } from "../../../src/config/paths.ts";
import { MAX_ROUTE_TARGETS, parseRouteVar, readRoutes } from "../../../src/config/routes.ts";

const { providers } = discoverProviders({ GEMINI_API_KEY: "AIza-one", OPENROUTER_API_KEY: "sk-or-two", ANTHROPIC_API_KEY: "sk-ant-three", IGNORE_MODELS_GEMINI: "*-preview" });

function errorOf(vars: Record<string, string>, baseDir = tmpdir()): string {
  try {
    readRoutes(vars, providers, baseDir);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected the routes to be refused");
}

describe("ROUTE_<ID>", () => {
  test("a name of any characters a client sends, then its targets in order", () => {
    expect(parseRouteVar("ROUTE_1", " gpt-5.1-codex => gemini/gemini-2.5-pro,openrouter/google/gemini-2.5-pro ")).toEqual({
      name: "gpt-5.1-codex",
      strategy: "order",
      targets: [
        { model: "gemini/gemini-2.5-pro", weight: 1 },
        { model: "openrouter/google/gemini-2.5-pro", weight: 1 },
      ],
      source: "ROUTE_1",
    });
    // Colons and slashes belong to model names (Bedrock ids, Ollama tags, OpenRouter paths).
    expect(parseRouteVar("ROUTE_X", "team/model:v1 => anthropic/claude-sonnet-4-5").name).toBe("team/model:v1");
  });

  test("weighted: a share per target, 1 when unsaid", () => {
    expect(parseRouteVar("ROUTE_FAST", "fast => weighted: gemini/gemini-2.5-flash*3, openrouter/x/y").targets).toEqual([
      { model: "gemini/gemini-2.5-flash", weight: 3 },
      { model: "openrouter/x/y", weight: 1 },
    ]);
    expect(parseRouteVar("ROUTE_FAST", "fast => weighted: gemini/gemini-2.5-flash*3").strategy).toBe("weighted");
  });

  test("mistakes stop the start with the variable named", () => {
    expect(errorOf({ ROUTE_A: "smart gemini/gemini-2.5-pro" })).toContain('ROUTE_A must read "<model name> => <provider/model>');
    expect(errorOf({ ROUTE_A: "smart => gemini/gemini-2.5-pro*2" })).toContain("has a weight, but the route is not weighted");
    expect(errorOf({ ROUTE_A: "smart => groq/llama" })).toBe('ROUTE_A: the target "groq/llama" names the provider "groq", which has no keys configured.');
    expect(errorOf({ ROUTE_A: "smart => gemini-2.5-pro" })).toContain('must be "provider/model"');
    expect(errorOf({ ROUTE_A: "smart => gemini/gemini-3-pro-preview" })).toContain("filtered out");
    expect(errorOf({ ROUTE_A: "smart => gemini/a, gemini/a" })).toContain("listed twice");
    expect(errorOf({ ROUTE_A: "smart => gemini/a", ROUTE_B: "smart => anthropic/b" })).toBe('ROUTE_B: the route "smart" is already defined by ROUTE_A.');
    expect(errorOf({ ROUTE_A: "my model => gemini/a" })).toContain("no spaces");
    expect(errorOf({ ROUTE_A: " => gemini/a" })).toContain("no spaces");
    expect(errorOf({ ROUTE_A: "smart => " })).toContain("has no targets");
    const many = Array.from({ length: MAX_ROUTE_TARGETS + 1 }, (_, i) => `gemini/m${i}`).join(", ");
    expect(errorOf({ ROUTE_A: `smart => ${many}` })).toContain(`at most ${MAX_ROUTE_TARGETS}`);
  });

  test("a blank ROUTE_ variable is no route", () => {
    expect(readRoutes({ ROUTE_A: "  " }, providers, tmpdir())).toEqual([]);
  });
});

describe("ROUTES_FILE", () => {
  test("JSON routes, lists or objects with a strategy and weights, relative to the .env's folder, beside the variables", () => {
    const dir = mkdtempSync(join(tmpdir(), "lkp-routes-"));
    writeFileSync(
      join(dir, "routes.json"),
      JSON.stringify({ routes: { "claude-sonnet-4-5": ["anthropic/claude-sonnet-4-5", "openrouter/anthropic/claude-sonnet-4.5"], fast: { strategy: "weighted", targets: [{ model: "gemini/gemini-2.5-flash", weight: 2 }, "openrouter/x/y"] } } }),
    );
    const routes = readRoutes({ ROUTES_FILE: "routes.json", ROUTE_SMART: "smart => gemini/gemini-2.5-pro" }, providers, dir);
    expect(routes.map((route) => [route.name, route.strategy, route.targets.map((target) => `${target.model}*${target.weight}`)])).toEqual([
      ["smart", "order", ["gemini/gemini-2.5-pro*1"]],
      ["claude-sonnet-4-5", "order", ["anthropic/claude-sonnet-4-5*1", "openrouter/anthropic/claude-sonnet-4.5*1"]],
      ["fast", "weighted", ["gemini/gemini-2.5-flash*2", "openrouter/x/y*1"]],
    ]);
  });

  test("a file that is missing, not JSON or not of the shape is named with what is wrong", () => {
    const dir = mkdtempSync(join(tmpdir(), "lkp-routes-"));
    expect(errorOf({ ROUTES_FILE: "nope.json" }, dir)).toBe(`ROUTES_FILE names ${join(dir, "nope.json")}, which cannot be read (ENOENT).`);
    writeFileSync(join(dir, "bad.json"), "{ routes: ");
    expect(errorOf({ ROUTES_FILE: "bad.json" }, dir)).toContain("is not valid JSON");
    writeFileSync(join(dir, "shape.json"), JSON.stringify({ routes: { smart: { targets: [], strategy: "order" } } }));
    expect(errorOf({ ROUTES_FILE: "shape.json" }, dir)).toContain("routes.smart");
    writeFileSync(join(dir, "target.json"), JSON.stringify({ routes: { smart: ["mistral/large"] } }));
    expect(errorOf({ ROUTES_FILE: "target.json" }, dir)).toContain('the target "mistral/large" names the provider "mistral"');
  });
});
