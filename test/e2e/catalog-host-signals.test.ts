/**
 * Error shapes of catalog hosts that are not plain OpenAI's, end to end: the real proxy as `minimax/…`
 * and `zai/…` in front of the scripted OpenAI-compatible mock, called with the real `openai` client.
 * MiniMax reports failures as `base_resp` business codes inside an HTTP 200 (shape from its error-code
 * page; no recording exists); Z.ai sends an empty balance as business code 1113 on a 429.
 */

import { describe, expect, test } from "bun:test";
import { createLogger } from "../../src/logging/logger.ts";
import { keyId } from "../../src/key-identity.ts";
import { DEFAULT_CONTENT, startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { providerStanding } from "../support/key-standing.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { FAST_ENV, numberedKeys, stopRigAfterEach } from "./rig-helpers.ts";

const KEYS = ["host-key-first-0001", "host-key-second-002"];
const MESSAGES = [{ role: "user" as const, content: "Hi" }];

interface Rig {
  mock: MockUpstream;
  proxy: ProxyHarness;
}

const keep = stopRigAfterEach<Rig>((rig) => [rig.mock]);

async function start(provider: string): Promise<Rig> {
  const mock = await startMockUpstream();
  const upper = provider.toUpperCase();
  const proxy = await startProxy({ env: { ...FAST_ENV, [`${upper}_API_BASE`]: mock.url, ...numberedKeys(`${upper}_API_KEY`, KEYS) }, log: createLogger({ level: "error", color: false, write: () => {} }) });
  return keep({ mock, proxy });
}

const minimaxError = (code: number, message: string) => ({ kind: "raw" as const, status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ id: "05f1c0", choices: null, base_resp: { status_code: code, status_msg: message } }) });

const standingOf = (proxy: ProxyHarness, provider: string, key: string) => providerStanding(proxy, provider).keys.find((k) => k.id === keyId(key))!;

describe("MiniMax base_resp inside a 200", () => {
  test("insufficient balance (1008) disables the key and the next key answers; the client never sees the 200 error", async () => {
    const { mock, proxy } = await start("minimax");
    mock.script(KEYS[0]!, minimaxError(1008, "insufficient balance"));
    const completion = await proxy.openai().chat.completions.create({ model: "minimax/MiniMax-M2", messages: MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(mock.calls.map((call) => call.key)).toEqual(KEYS);
    expect(standingOf(proxy, "minimax", KEYS[0]!).disabledReason).toContain("billing");
  });

  test("rate limit (1002) cools the key for the model; invalid params (2013) goes back as a 400 with MiniMax's words, no rotation", async () => {
    const { mock, proxy } = await start("minimax");
    mock.script(KEYS[0]!, minimaxError(1002, "rate limit"));
    await proxy.openai().chat.completions.create({ model: "minimax/MiniMax-M2", messages: MESSAGES });
    expect(standingOf(proxy, "minimax", KEYS[0]!).coolingModels.map((cooling) => cooling.model)).toEqual(["MiniMax-M2"]);

    mock.reset();
    mock.setDefault(minimaxError(2013, "invalid params, tool call id is invalid"));
    const response = await proxy.request("/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: "minimax/MiniMax-M2", messages: MESSAGES }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error.message).toContain("invalid params");
    expect(mock.calls).toHaveLength(1);
  });
});

describe("Z.ai business codes", () => {
  test("1113 on a 429 is an empty balance: the key is disabled, not cooled, and the next key answers", async () => {
    const { mock, proxy } = await start("zai");
    mock.script(KEYS[0]!, { kind: "raw", status: 429, headers: { "content-type": "application/json" }, body: JSON.stringify({ error: { code: "1113", message: "Insufficient balance or no resource package. Please recharge." } }) });
    const completion = await proxy.openai().chat.completions.create({ model: "zai/glm-4.7", messages: MESSAGES });
    expect(completion.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    const first = standingOf(proxy, "zai", KEYS[0]!);
    expect(first.disabledUntil).toBeGreaterThan(Date.now());
    expect(first.coolingModels).toEqual([]);
  });
});
