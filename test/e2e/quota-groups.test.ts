/**
 * Declared quota groups end to end: `<P>_QUOTA_GROUP_<N>` says which keys draw on one quota (keys of
 * one Google project, one account's several keys). A rate-limit or quota refusal on one key of a
 * group cools that model on every key of it, so no request is wasted on its siblings; keys outside
 * the group keep serving.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { createLogger } from "../../src/logging/logger.ts";
import { keyId } from "../../src/key-identity.ts";
import { DEFAULT_CONTENT, startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { providerStanding } from "../support/key-standing.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { FAST_ENV, numberedKeys } from "./rig-helpers.ts";

const KEYS: [string, string, string] = ["group-a-key-00001", "group-a-key-00002", "solo-key-0000003"];
const MESSAGES = [{ role: "user" as const, content: "Hi" }];
let running: { mock: MockUpstream; proxy: ProxyHarness } | undefined;

afterEach(async () => {
  await running?.proxy.stop();
  await running?.mock.stop();
  running = undefined;
});

async function start(env: Record<string, string>) {
  const mock = await startMockUpstream();
  const proxy = await startProxy({ env: { ...FAST_ENV, POOL_API_BASE: mock.url, ...numberedKeys("POOL_API_KEY", KEYS), ...env }, log: createLogger({ level: "error", color: false, write: () => {} }) });
  running = { mock, proxy };
  return running;
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
