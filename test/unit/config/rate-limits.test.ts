/**
 * `RATE_LIMIT_<P>…` as the user writes it: the forms, the mistakes that stop the start, which
 * provider a variable belongs to, and which rule decides a model's limits.
 */

import { describe, expect, test } from "bun:test";
import { limitsLookup, parseRateLimit, readRateLimits } from "../../../src/config/rate-limits.ts";
import { ConfigError } from "../../../src/config/paths.ts";
import type { ProviderSettings } from "../../../src/config/discover-providers.ts";

const provider = (name: string) => ({ name }) as ProviderSettings;

describe("parseRateLimit", () => {
  test("every model, per key", () => {
    expect(parseRateLimit("RATE_LIMIT_GEMINI", "10 rpm, 250 rpd")).toEqual({ scope: "key", limits: { requestsPerMinute: 10, requestsPerDay: 250 }, source: "RATE_LIMIT_GEMINI" });
  });

  test("a model glob, units in any case, k and m counts, no spaces", () => {
    expect(parseRateLimit("V", "gemini-2.5-flash*: 10RPM,250k tpm, 1.5m tpd")).toEqual({
      model: "gemini-2.5-flash*",
      scope: "key",
      limits: { requestsPerMinute: 10, tokensPerMinute: 250_000, tokensPerDay: 1_500_000 },
      source: "V",
    });
  });

  test("a model name with colons of its own (OpenRouter's :free, Ollama's tags)", () => {
    expect(parseRateLimit("V", "deepseek/deepseek-r1:free: 20 rpm, 50 rpd").model).toBe("deepseek/deepseek-r1:free");
    expect(parseRateLimit("V", "llama3:8b: 5 rpm").model).toBe("llama3:8b");
  });

  test("per provider, and * for every model", () => {
    expect(parseRateLimit("V", "*: 500 rpm per provider")).toEqual({ scope: "provider", limits: { requestsPerMinute: 500 }, source: "V" });
    expect(parseRateLimit("V", "5 rpd per key").scope).toBe("key");
  });

  test.each([
    ["10 rpx", /"10 rpx" is not a count and a unit/],
    ["ten rpm", /is not a count and a unit/],
    ["", /declares no limit/],
    [": 10 rpm", /nothing before ":"/],
    ["10 rpm, 20 rpm", /gives rpm twice/],
    ["0 rpm", /at least 1/],
  ])("%p stops the start with the variable named", (value, message) => {
    expect(() => parseRateLimit("RATE_LIMIT_GEMINI", value)).toThrow(ConfigError);
    expect(() => parseRateLimit("RATE_LIMIT_GEMINI", value)).toThrow(message);
    expect(() => parseRateLimit("RATE_LIMIT_GEMINI", value)).toThrow("RATE_LIMIT_GEMINI");
  });
});

describe("readRateLimits", () => {
  test("each variable goes to its provider, the longest name first; the part after it only names the rule", () => {
    const { rules, warnings } = readRateLimits(
      {
        RATE_LIMIT_NVIDIA_NIM: "40 rpm",
        RATE_LIMIT_NVIDIA_FREE: "2 rpm",
        RATE_LIMIT_GEMINI_PRO: "gemini-2.5-pro: 5 rpm",
        RATE_LIMIT_GEMINI: "15 rpm",
        RATE_LIMIT_GROQ: "",
        UNRELATED: "1 rpm",
      },
      [provider("nvidia"), provider("nvidia_nim"), provider("gemini")],
    );
    expect([...rules.keys()].sort()).toEqual(["gemini", "nvidia", "nvidia_nim"]);
    expect(rules.get("nvidia_nim")!.map((r) => r.source)).toEqual(["RATE_LIMIT_NVIDIA_NIM"]);
    expect(rules.get("nvidia")!.map((r) => r.source)).toEqual(["RATE_LIMIT_NVIDIA_FREE"]);
    expect(rules.get("gemini")!.map((r) => r.source)).toEqual(["RATE_LIMIT_GEMINI_PRO", "RATE_LIMIT_GEMINI"]);
    expect(warnings).toEqual([]);
  });

  test("a variable for a provider that is not configured is reported, not enforced", () => {
    const { rules, warnings } = readRateLimits({ RATE_LIMIT_MISTRAL: "1 rpm" }, [provider("gemini")]);
    expect(rules.size).toBe(0);
    expect(warnings).toEqual(["RATE_LIMIT_MISTRAL names no configured provider (configured: gemini); it has no effect."]);
  });
});

describe("limitsLookup", () => {
  const lookup = limitsLookup("gemini", [
    parseRateLimit("ALL", "15 rpm, 1000 rpd"),
    parseRateLimit("FLASH", "gemini-2.5-flash*: 10 rpm, 250000 tpm"),
    parseRateLimit("FLASH_LITE", "gemini-2.5-flash-lite: 30 rpm"),
    parseRateLimit("ORG", "2000 rpm per provider"),
  ])!;

  test("per unit, the most specific matching rule decides; the rest fill in what it leaves", () => {
    expect(lookup("gemini-2.5-flash-lite")).toEqual({
      perKey: { requestsPerMinute: 30, tokensPerMinute: 250_000, requestsPerDay: 1000 },
      perProvider: { requestsPerMinute: 2000 },
      source: "FLASH_LITE, FLASH, ALL, ORG",
    });
    expect(lookup("gemini-2.5-flash")!.perKey).toEqual({ requestsPerMinute: 10, tokensPerMinute: 250_000, requestsPerDay: 1000 });
    expect(lookup("gemini-2.5-pro")!.perKey).toEqual({ requestsPerMinute: 15, requestsPerDay: 1000 });
  });

  test("a glob written with the provider prefix matches too; no rule, no lookup", () => {
    expect(limitsLookup("gemini", [parseRateLimit("P", "gemini/gemini-2.5-pro: 5 rpm")])!("gemini-2.5-pro")!.perKey).toEqual({ requestsPerMinute: 5 });
    expect(limitsLookup("gemini", [parseRateLimit("P", "gemini-2.5-pro: 5 rpm")])!("gemini-2.5-flash")).toBeUndefined();
    expect(limitsLookup("gemini", undefined)).toBeUndefined();
    expect(limitsLookup("gemini", [])).toBeUndefined();
  });
});
