/**
 * Declared quota groups end to end: `<P>_QUOTA_GROUP_<N>` says which keys draw on one quota (keys of
 * one Google project, one account's several keys). A rate-limit or quota refusal on one key of a
 * group cools that model on every key of it, so no request is wasted on its siblings; keys outside
 * the group keep serving. And limits learnt from a success's own rate-limit headers: a key whose
 * remaining count is 0 is skipped until the reset the headers give, before the provider refuses it.
 */

import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/logging/logger.ts";
import { keyId } from "../../src/key-identity.ts";
import { DEFAULT_CONTENT, startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { providerStanding } from "../support/key-standing.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { FAST_ENV, numberedKeys, stopRigAfterEach } from "./rig-helpers.ts";

const KEYS: [string, string, string] = ["group-a-key-00001", "group-a-key-00002", "solo-key-0000003"];
const MESSAGES = [{ role: "user" as const, content: "Hi" }];
const keep = stopRigAfterEach<{ mock: MockUpstream; proxy: ProxyHarness }>((rig) => [rig.mock]);

async function start(env: Record<string, string>) {
  const mock = await startMockUpstream();
  const proxy = await startProxy({ env: { ...FAST_ENV, POOL_API_BASE: mock.url, ...numberedKeys("POOL_API_KEY", KEYS), ...env }, log: createLogger({ level: "error", color: false, write: () => {} }) });
  keep({ mock, proxy });
  return { mock, proxy };
}

const cooling = (proxy: ProxyHarness, key: string) => providerStanding(proxy, "pool").keys.find((k) => k.id === keyId(key))!.coolingModels;

describe("<P>_QUOTA_GROUP_<N>", () => {
  test("a 429 on one key of a group cools the model on its sibling too; the key outside the group serves, and keeps serving", async () => {
    const { mock, proxy } = await start({ POOL_QUOTA_GROUP_1: "project-a", POOL_QUOTA_GROUP_2: "project-a" });
    mock.script(KEYS[0]!, { kind: "rate_limit", retryAfterSeconds: 30 });
    const completion = await proxy.openai().chat.completions.create({ model: "pool/m", messages: MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(mock.calls.map((call) => call.key)).toEqual([KEYS[0], KEYS[2]]);
    const [first, second] = [cooling(proxy, KEYS[0]!), cooling(proxy, KEYS[1]!)];
    expect(second).toEqual([expect.objectContaining({ model: "m", until: first[0]!.until })]);
    expect(second[0]!.reason).toContain("sharing its quota");

    for (let i = 0; i < 4; i++) await proxy.openai().chat.completions.create({ model: "pool/m", messages: MESSAGES });
    expect(mock.calls.slice(2).map((call) => call.key)).toEqual([KEYS[2], KEYS[2], KEYS[2], KEYS[2]]);
    // Another model of the group is not touched.
    await proxy.openai().chat.completions.create({ model: "pool/other", messages: MESSAGES });
    expect(mock.calls.at(-1)!.key).not.toBe(KEYS[2]);
  });

  test("without a declared group, keys cool one by one", async () => {
    const { mock, proxy } = await start({});
    mock.script(KEYS[0]!, { kind: "rate_limit", retryAfterSeconds: 30 });
    await proxy.openai().chat.completions.create({ model: "pool/m", messages: MESSAGES });
    expect(mock.calls.map((call) => call.key)).toEqual([KEYS[0], KEYS[1]]);
    expect(cooling(proxy, KEYS[1]!)).toEqual([]);
  });
});

describe("limits learnt from a success's headers", () => {
  const completion = (content: string) =>
    JSON.stringify({ id: "chatcmpl-x", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });

  test("remaining 0 with its reset: the answer is delivered, and the key is skipped until the reset, before any 429", async () => {
    const { mock, proxy } = await start({});
    mock.script(KEYS[0], { kind: "raw", status: 200, headers: { "content-type": "application/json", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20s", "x-ratelimit-remaining-tokens": "5000" }, body: completion("last one") });
    const first = await proxy.openai().chat.completions.create({ model: "pool/m", messages: MESSAGES });
    expect(first.choices[0]!.message.content).toBe("last one");
    const [skipped] = cooling(proxy, KEYS[0]);
    expect(skipped!.reason).toContain("x-ratelimit-remaining-requests");
    expect(skipped!.until).toBeGreaterThan(Date.now() + 15_000);
    expect(skipped!.until).toBeLessThanOrEqual(Date.now() + 20_500);
    expect(skipped!.strikes).toBe(0);
    for (let i = 0; i < 3; i++) await proxy.openai().chat.completions.create({ model: "pool/m", messages: MESSAGES });
    expect(mock.calls.map((call) => call.key)).toEqual([KEYS[0], KEYS[1], KEYS[2], KEYS[1]]);
  });

  test("Anthropic's remaining-0 headers with an RFC 3339 reset count too; a remaining count above 0 changes nothing", async () => {
    const { mock, proxy } = await start({});
    const reset = new Date(Date.now() + 40_000).toISOString();
    mock.script(KEYS[0], { kind: "raw", status: 200, headers: { "content-type": "application/json", "anthropic-ratelimit-tokens-remaining": "0", "anthropic-ratelimit-tokens-reset": reset }, body: completion("a") });
    mock.script(KEYS[1], { kind: "raw", status: 200, headers: { "content-type": "application/json", "x-ratelimit-remaining-requests": "7", "x-ratelimit-reset-requests": "20s" }, body: completion("b") });
    await proxy.openai().chat.completions.create({ model: "pool/m", messages: MESSAGES });
    await proxy.openai().chat.completions.create({ model: "pool/m", messages: MESSAGES });
    expect(cooling(proxy, KEYS[0])[0]!.until).toBe(Date.parse(reset));
    expect(cooling(proxy, KEYS[1])).toEqual([]);
  });
});
