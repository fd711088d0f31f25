/** .env.example documents every variable, and every example value in it is valid. */

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnvFile } from "../../../src/config/env-file.ts";
import { EXAMPLE_PROXY_API_KEY, loadSettings } from "../../../src/config/settings.ts";

const EXAMPLE = readFileSync(join(import.meta.dir, "../../../.env.example"), "utf8");

async function loadText(text: string) {
  const cwd = mkdtempSync(join(tmpdir(), "lkp-example-"));
  writeFileSync(join(cwd, ".env"), text);
  return loadSettings({ cli: { command: "serve" }, env: {}, cwd, execPath: join(cwd, "x"), isCompiled: false });
}

describe(".env.example", () => {
  test("mentions every variable", () => {
    for (const name of [
      "PROXY_API_KEY",
      "_API_KEY_2",
      "_API_BASE",
      "IGNORE_MODELS_",
      "WHITELIST_MODELS_",
      "MAX_CONCURRENT_REQUESTS_PER_KEY_",
      "HOST",
      "PORT",
      "GLOBAL_TIMEOUT",
      "CONNECT_TIMEOUT",
      "FIRST_BYTE_TIMEOUT",
      "STREAM_IDLE_TIMEOUT",
      "DAILY_RESET_TIME_UTC",
      "REQUEST_LOGGING",
      "LOG_LEVEL",
      "DATA_DIR",
      "LOG_DIR",
      "MAX_BODY_SIZE_MB",
      "REQUEST_BODY_TIMEOUT",
      "MAX_UPSTREAM_RESPONSE_MB",
      "MODELS_CACHE_TTL",
      "_RESPONSES",
      "RESPONSES_TTL_DAYS",
      "RESPONSES_STORE_MAX_MB",
      "RATE_LIMIT_",
    ]) {
      expect(EXAMPLE).toMatch(new RegExp(`^#? ?[A-Z_0-9]*${name}[A-Z_0-9]*=`, "m"));
    }
  });

  test("ships the placeholder that start-up refuses", () => {
    expect(parseEnvFile(EXAMPLE).get("PROXY_API_KEY")).toBe(EXAMPLE_PROXY_API_KEY);
  });

  test("with a real secret and every optional line uncommented, it loads", async () => {
    const text = EXAMPLE.replace(EXAMPLE_PROXY_API_KEY, "a-real-secret-0123456789").replace(/^# ([A-Z][A-Z0-9_]*=)/gm, "$1");
    const s = await loadText(text);
    expect(s.providers.map((p) => p.name)).toEqual(["openai", "gemini", "groq", "nvidia_nim", "openrouter", "vllm", "ollama", "lmstudio", "azure", "bedrock", "cloudflare", "vertex"]);
    expect(s.providers.find((p) => p.name === "openai")!.keys).toHaveLength(2);
    expect(s.providers.find((p) => p.name === "vllm")!.custom).toBe(true);
    expect(s.providers.find((p) => p.name === "vllm")!.keys).toEqual([{ secret: "token-abc123" }, { secret: "token-def456", baseUrl: "http://10.0.0.2:8000/v1" }]);
    expect(s.providers.find((p) => p.name === "ollama")!.keys).toEqual([{ secret: "", baseUrl: "http://localhost:11434/v1" }]);
    expect(s.providers.find((p) => p.name === "azure")!.keys).toEqual([{ secret: "your-azure-key", options: { resource: "my-resource", api_version: "2024-10-21" } }]);
    expect(s.providers.find((p) => p.name === "bedrock")!.keys[0]!.options).toEqual({ region: "us-east-1" });
    expect(s.providers.find((p) => p.name === "vertex")!.keys).toEqual([{ secret: "your-vertex-api-key", options: { project: "your-project-id", location: "us-central1" } }]);
    expect(s.routes.map((route) => [route.name, route.strategy, route.targets.length])).toEqual([
      ["smart", "order", 2],
      ["fast", "weighted", 2],
    ]);
    expect(s.providers.find((p) => p.name === "gemini")!.rateLimits!.map((rule) => rule.source)).toEqual(["RATE_LIMIT_GEMINI", "RATE_LIMIT_GEMINI_PRO"]);
    expect(s.providers.find((p) => p.name === "openai")!.rateLimits).toEqual([{ scope: "provider", limits: { requestsPerMinute: 5000 }, source: "RATE_LIMIT_OPENAI_ORG" }]);
    expect(s.warnings).toEqual([]);
  });
});
