/**
 * Recovery probes end to end: a key disabled as invalid is probed with its provider's model listing
 * on the RECOVERY_PROBES backoff (here 0.2 s, then 0.3 s), stays out while the listing is refused,
 * and is back in rotation as soon as it answers; every probe is a failures.log line. Cooling keys
 * are never probed, and RECOVERY_PROBES=off turns probing off.
 */

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/logging/logger.ts";
import { keyId } from "../../src/key-identity.ts";
import { startMockUpstream, type MockUpstream } from "../support/mock-upstream.ts";
import { providerStanding } from "../support/key-standing.ts";
import { startProxy, type ProxyHarness } from "../support/proxy-harness.ts";
import { waitFor } from "../support/wait-for.ts";
import { FAST_ENV, numberedKeys, stopRigAfterEach } from "./rig-helpers.ts";

const KEYS: [string, string] = ["probe-key-aaaa0001", "probe-key-bbbb0002"];
const MESSAGES = [{ role: "user" as const, content: "Hi" }];
const keep = stopRigAfterEach<{ mock: MockUpstream; proxy: ProxyHarness }>((rig) => [rig.mock]);

async function start(probes: string) {
  const mock = await startMockUpstream();
  const logDir = mkdtempSync(join(tmpdir(), "lkp-probes-"));
  const proxy = await startProxy({ env: { ...FAST_ENV, LOG_DIR: logDir, RECOVERY_PROBES: probes, POOL_API_BASE: mock.url, ...numberedKeys("POOL_API_KEY", KEYS) }, log: createLogger({ level: "error", color: false, write: () => {} }) });
  keep({ mock, proxy });
  return { mock, proxy, logDir };
}

const standing = (proxy: ProxyHarness, key: string) => providerStanding(proxy, "pool").keys.find((k) => k.id === keyId(key))!;
const listings = (mock: MockUpstream, key: string) => mock.callsFor(key, "/models").length;

describe("recovery probes", () => {
  test("a disabled key is probed on the backoff, stays out while refused, and is restored when its listing answers", async () => {
    const { mock, proxy, logDir } = await start("0.2,0.3");
    // The chat call and the first probe are refused; the second probe (and what follows) succeeds.
    mock.script(KEYS[0], [{ kind: "invalid_key" }, { kind: "invalid_key" }, { kind: "success" }]);
    await proxy.openai().chat.completions.create({ model: "pool/m", messages: MESSAGES });
    const disabledAt = Date.now();
    expect(standing(proxy, KEYS[0]).disabledUntil).toBeGreaterThan(disabledAt);

    await waitFor(() => standing(proxy, KEYS[0]).disabledUntil === 0, 5_000);
    // Not before the first wait, and after exactly two probes.
    expect(Date.now() - disabledAt).toBeGreaterThanOrEqual(450);
    expect(listings(mock, KEYS[0])).toBe(2);

    mock.reset();
    for (let i = 0; i < 4; i++) await proxy.openai().chat.completions.create({ model: "pool/m", messages: MESSAGES });
    expect(mock.calls.filter((call) => call.key === KEYS[0]).length).toBe(2);

    await proxy.ctx.failureLog.flush();
    const lines = readFileSync(join(logDir, "failures.log"), "utf8").trim().split("\n").map((line) => JSON.parse(line));
    const probes = lines.filter((line) => line.requestId === "recovery_probe");
    expect(probes.map((line) => [line.class, line.attempt, line.status])).toEqual([
      ["probe_failed", 1, 401],
      ["probe_ok", 2, 200],
    ]);
    expect(probes[0].action).toStartWith("still disabled; next probe at ");
    expect(probes[1].action).toBe("restored");
    expect(JSON.stringify(probes)).not.toContain(KEYS[0]);
  });

  test("a cooling key is never probed; RECOVERY_PROBES=off probes nothing", async () => {
    const first = await start("0.2");
    first.mock.script(KEYS[0], { kind: "rate_limit", retryAfterSeconds: 60 });
    await first.proxy.openai().chat.completions.create({ model: "pool/m", messages: MESSAGES });
    await Bun.sleep(700);
    expect(listings(first.mock, KEYS[0])).toBe(0);
    await first.proxy.stop();
    await first.mock.stop();

    const off = await start("off");
    off.mock.script(KEYS[0], { kind: "invalid_key" });
    await off.proxy.openai().chat.completions.create({ model: "pool/m", messages: MESSAGES });
    await Bun.sleep(700);
    expect(listings(off.mock, KEYS[0])).toBe(0);
    expect(standing(off.proxy, KEYS[0]).disabledUntil).toBeGreaterThan(Date.now());
  });
});
