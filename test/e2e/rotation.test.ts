/**
 * Key rotation end to end: the real proxy in front of a scripted mock upstream, driven with the
 * real `openai` SDK (and raw fetch where status, headers or bytes matter). Each test scripts what
 * the upstream answers per key and checks what the client sees, which keys the upstream saw, and
 * the pool's standing afterwards:
 *
 * - rate limits cool (key, model) for the upstream's hint, or the 10 s ladder step without one;
 * - a request fault goes back to the client after one call and blames no key;
 * - a rejected key or an empty wallet disables the key until the daily reset;
 * - a transient failure rotates to the next key at once; only a key with no other to take over is
 *   retried once; a key failing again and again is taken out by its circuit (its own test file:
 *   partial-outage.test.ts);
 * - with every key down the client gets an honest 502 / 429 (+ Retry-After), or waits when a key
 *   returns within the deadline;
 * - several keys failing the same transient way is a provider incident (503), not the keys' fault;
 * - cooldowns survive a restart.
 *
 * Timeouts, streams and disconnects: rotation-streams.test.ts; load and caps:
 * rotation-concurrency.test.ts; key secrecy: rotation-secrets.test.ts.
 */

import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { readFixtureJson } from "../support/fixtures.ts";
import { DEFAULT_CONTENT, type Behavior } from "../support/mock-upstream.ts";
import { chat, coolingUntil, errorBody, farResetEnv, keyStanding, sdkChat, shownKey, standing, testKeys, timed, useRotationRig, waitFor } from "./rotation-helpers.ts";

const rig = useRotationRig();

/** Next `HH:MM` UTC after `now` (the default DAILY_RESET_TIME_UTC is 03:00). */
function nextResetAt(now: number, hour = 3, minute = 0): number {
  const day = new Date(now);
  const at = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour, minute);
  return at > now ? at : at + 24 * 60 * 60 * 1000;
}

/** A `rate_limit` behaviour with a hint long enough that the key stays out for the whole test. */
const LONG_429 = (seconds: number): Behavior => ({ kind: "rate_limit", retryAfterSeconds: seconds });

describe("rate limits", () => {
  test("a 429 on the first key rotates to the second: 200, x-proxy-attempts 2, and the 429 key is skipped afterwards", async () => {
    const { mock, proxy, keys } = await rig.start();
    const [a, b] = keys as [string, string];
    mock.script(a, LONG_429(20));

    const before = Date.now();
    const { data, response } = await sdkChat(proxy);
    expect(data.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(b));
    expect(mock.callsFor(a, "/chat/completions")).toHaveLength(1);
    expect(mock.callsFor(b, "/chat/completions")).toHaveLength(1);

    // The 429 key cools for this model for the hinted 20 s; the healthy key does not.
    const until = coolingUntil(proxy, a)!;
    expect(until).toBeGreaterThanOrEqual(before + 20_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 20_000);
    expect(keyStanding(proxy, a).disabledUntil).toBe(0);
    expect(keyStanding(proxy, b).coolingModels).toEqual([]);
    expect(standing(proxy)).toMatchObject({ healthy: 1, cooling: 1, disabled: 0 });

    // Later requests go straight to the healthy key.
    for (let i = 0; i < 3; i++) {
      const next = await sdkChat(proxy);
      expect(next.response.headers.get("x-proxy-attempts")).toBe("1");
      expect(next.response.headers.get("x-proxy-key")).toBe(shownKey(b));
    }
    expect(mock.callsFor(a)).toHaveLength(1);
    expect(mock.callsFor(b)).toHaveLength(4);
  });

  test.each([
    ["retry-after: 2", { retryAfterSeconds: 2 }, 2000],
    ["retry-after-ms: 1200", { retryAfterMs: 1200 }, 1200],
    ["x-ratelimit-reset-requests: 1.5s", { resetRequests: "1.5s" }, 1500],
    ["retry-after-ms: 200 (below the 1 s floor)", { retryAfterMs: 200 }, 1000],
  ] as const)("the hint %s keeps the key out for exactly that long, then it serves again", async (_name, hint, expectedMs) => {
    const { mock, proxy, keys } = await rig.start();
    const [a, b] = keys as [string, string];
    mock.script(a, [{ kind: "rate_limit", ...hint }, { kind: "success" }]);

    const before = Date.now();
    const first = await chat(proxy);
    const after = Date.now();
    expect(first.status).toBe(200);
    expect(first.headers.get("x-proxy-key")).toBe(shownKey(b));
    const until = coolingUntil(proxy, a)!;
    expect(until).toBeGreaterThanOrEqual(before + expectedMs);
    expect(until).toBeLessThanOrEqual(after + expectedMs + 5);

    // While it cools, every request is served by the other key without touching it.
    const during = await chat(proxy);
    expect(during.headers.get("x-proxy-key")).toBe(shownKey(b));
    expect(mock.callsFor(a)).toHaveLength(1);

    // Once the hint has passed it is back, and (least recently used) it is the one picked.
    await Bun.sleep(until - Date.now() + 20);
    const back = await chat(proxy);
    expect(back.status).toBe(200);
    expect(back.headers.get("x-proxy-key")).toBe(shownKey(a));
    expect(back.headers.get("x-proxy-attempts")).toBe("1");
    expect(mock.callsFor(a)).toHaveLength(2);
    expect(coolingUntil(proxy, a)).toBeUndefined();
  });

  test("a 429 without any hint cools the key for the first ladder step, 10 s", async () => {
    const { mock, proxy, keys } = await rig.start();
    const [a] = keys as [string, string];
    mock.script(a, { kind: "rate_limit", noHint: true });

    const before = Date.now();
    expect((await chat(proxy)).status).toBe(200);
    const until = coolingUntil(proxy, a)!;
    expect(until).toBeGreaterThanOrEqual(before + 10_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 10_000);
    expect(keyStanding(proxy, a).coolingModels[0]!.strikes).toBe(1);
  });
});

describe("request faults", () => {
  test.each([
    ["400 unsupported parameter", { kind: "bad_request" } as Behavior, 400],
    ["404 model not found", { kind: "not_found" } as Behavior, 404],
  ])("an upstream %s goes back to the client as-is after one call, and no key is blamed", async (_name, behavior, status) => {
    const { mock, proxy, keys } = await rig.start();
    const [a] = keys as [string, string];
    mock.script(a, behavior);

    const error = await sdkChat(proxy).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(status);
    expect(apiError.headers?.get("x-proxy-attempts")).toBe("1");
    if (status === 400) {
      const recorded = readFixtureJson("openai/error-400-unsupported-parameter-max-tokens.json").error;
      expect(apiError.message).toContain(recorded.message);
      expect(apiError.param).toBe("max_tokens");
      expect(apiError.code).toBe("unsupported_parameter");
      expect(apiError.type).toBe("invalid_request_error");
    } else {
      expect(apiError.message).toContain("The model `gpt-4o-mini` does not exist");
    }
    expect(mock.calls).toHaveLength(1);
    expect(standing(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });
});

describe("dead keys", () => {
  test.each([
    ["401 invalid key", { kind: "invalid_key" } as Behavior, "invalid"],
    ["insufficient_quota (billing)", { kind: "insufficient_quota" } as Behavior, "billing"],
  ])("a %s disables the key until the daily reset, rotates, and later requests never try it", async (_name, behavior, reason) => {
    const { mock, proxy, keys } = await rig.start();
    const [a, b] = keys as [string, string];
    mock.script(a, behavior);

    const { data, response } = await sdkChat(proxy);
    expect(data.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(b));

    const dead = keyStanding(proxy, a);
    expect(dead.disabledUntil).toBe(nextResetAt(Date.now()));
    expect(dead.disabledReason).toContain(reason);
    expect(standing(proxy)).toMatchObject({ healthy: 1, cooling: 0, disabled: 1 });

    for (let i = 0; i < 3; i++) expect((await chat(proxy)).headers.get("x-proxy-key")).toBe(shownKey(b));
    expect(mock.callsFor(a)).toHaveLength(1);
  });
});

describe("transient failures", () => {
  test.each([
    ["HTTP 500", { kind: "server_error", status: 500 } as Behavior],
    ["HTTP 502", { kind: "server_error", status: 502 } as Behavior],
    ["a connection reset", { kind: "reset_mid_stream", afterChunks: 0 } as Behavior],
    ["a 200 with half a JSON body", { kind: "malformed_json" } as Behavior],
    ["a 200 that is not JSON at all", { kind: "raw", status: 200, headers: { "content-type": "application/json" }, body: "<html>gateway</html>" } as Behavior],
    ["a 200 that ends mid-usage", { kind: "raw", status: 200, headers: { "content-type": "application/json" }, body: '{"choices":[],"usage":{"prompt_tokens":1' } as Behavior],
  ])("%s once: the next key answers at once, and the first stays in service", async (_name, failure) => {
    const { mock, proxy, keys } = await rig.start();
    const [a, b] = keys as [string, string];
    mock.script(a, [failure, { kind: "success" }]);

    const { value, ms } = await timed(sdkChat(proxy));
    const { data, response } = value;
    expect(data.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(b));
    // No backoff before another key may answer.
    expect(ms).toBeLessThan(400);
    expect(mock.calls.map((call) => call.key)).toEqual([a, b]);
    // One failure is the provider's bad moment, not the key's: it is still healthy and serves next.
    expect(standing(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0, failing: 0 });
    expect((await chat(proxy)).headers.get("x-proxy-key")).toBe(shownKey(a));
  });

  test.each([
    ["HTTP 500", { kind: "server_error", status: 500 } as Behavior],
    ["a connection reset", { kind: "reset_mid_stream", afterChunks: 0 } as Behavior],
    ["a 200 with half a JSON body", { kind: "malformed_json" } as Behavior],
  ])("with a single key, %s once is retried on the same key after a short backoff", async (_name, failure) => {
    const { mock, proxy, keys } = await rig.start({ keys: testKeys(1) });
    const [a] = keys as [string];
    mock.script(a, [failure, { kind: "success" }]);

    const { data, response } = await sdkChat(proxy);
    expect(data.choices[0]!.message.content).toBe(DEFAULT_CONTENT);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(a));
    expect(mock.callsFor(a)).toHaveLength(2);
    expect(standing(proxy)).toMatchObject({ healthy: 1, cooling: 0, disabled: 0, failing: 0 });
  });

  test("503 on both keys: each is tried once, the last one again, then 502; nothing is cooled or disabled", async () => {
    const { mock, proxy, keys } = await rig.start();
    const [a, b] = keys as [string, string];
    for (const key of keys) mock.script(key, { kind: "server_error", status: 503 });

    const response = await chat(proxy);
    expect(response.status).toBe(502);
    expect((await errorBody(response)).code).toBe("all_keys_failed");
    expect(mock.calls.map((call) => call.key)).toEqual([a, b, b]);
    expect(standing(proxy)).toMatchObject({ cooling: 0, disabled: 0 });
  });
});

describe("every key down", () => {
  test("every key answers 401: 503 all_keys_disabled naming the last failure, the same on the request that disabled them as on the next", async () => {
    const { mock, proxy, keys } = await rig.start({ env: farResetEnv() });
    for (const key of keys) mock.script(key, { kind: "invalid_key" });

    const response = await chat(proxy);
    expect(response.status).toBe(503);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    const error = await errorBody(response);
    expect(error.type).toBe("service_unavailable");
    expect(error.code).toBe("all_keys_disabled");
    expect(error.message).toContain("HTTP 401");
    expect(error.message).toContain("Incorrect API key provided");
    expect(keys.map((key) => mock.callsFor(key).length)).toEqual([1, 1]);
    expect(standing(proxy)).toMatchObject({ healthy: 0, disabled: 2 });

    const next = await chat(proxy);
    expect(next.status).toBe(503);
    const nextError = await errorBody(next);
    expect([nextError.type, nextError.code]).toEqual([error.type, error.code]);
    expect(keys.map((key) => mock.callsFor(key).length)).toEqual([1, 1]);
  });

  test("every key rate-limited with long hints: 429 with Retry-After at the earliest return, then 429 at once without upstream calls", async () => {
    const { mock, proxy, keys } = await rig.start({ env: { GLOBAL_TIMEOUT: "5" } });
    const [a, b] = keys as [string, string];
    mock.script(a, LONG_429(30));
    mock.script(b, LONG_429(60));

    const first = await chat(proxy);
    expect(first.status).toBe(429);
    expect(Number(first.headers.get("retry-after"))).toBeWithin(29, 31);
    const error = await errorBody(first);
    expect(error.type).toBe("rate_limit_error");
    expect(error.message).toContain("HTTP 429");
    expect(mock.calls).toHaveLength(2);

    // Both keys cool past the deadline: the next request is refused at once, upstream untouched.
    const { value: second, ms } = await timed(chat(proxy));
    expect(second.status).toBe(429);
    expect(ms).toBeLessThan(500);
    expect(Number(second.headers.get("retry-after"))).toBeWithin(28, 31);
    expect((await errorBody(second)).type).toBe("rate_limit_error");
    expect(mock.calls).toHaveLength(2);
    expect(standing(proxy)).toMatchObject({ healthy: 0, cooling: 2 });
  });

  test("a request arriving while every key cools waits for the earliest one when it returns within GLOBAL_TIMEOUT", async () => {
    const { mock, proxy, keys } = await rig.start({ env: { GLOBAL_TIMEOUT: "5" } });
    const [a, b] = keys as [string, string];
    mock.script(a, LONG_429(60));
    mock.script(b, [{ kind: "rate_limit", retryAfterMs: 1500 }, { kind: "success" }]);

    // Cool both keys with a first request; whatever it answers, leave once b is cooling.
    const leave = new AbortController();
    const cooling = chat(proxy, { signal: leave.signal }).catch(() => undefined);
    await waitFor(() => coolingUntil(proxy, b) !== undefined, "key b cooling");
    leave.abort();
    await cooling;
    const bBack = coolingUntil(proxy, b)!;
    expect(coolingUntil(proxy, a)).toBeGreaterThan(Date.now() + 50_000);

    const { value: response, ms } = await timed(chat(proxy));
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(b));
    expect(response.headers.get("x-proxy-attempts")).toBe("1");
    expect(Date.now()).toBeGreaterThanOrEqual(bBack);
    expect(ms).toBeLessThan(1500 + 500);
    expect(mock.callsFor(a)).toHaveLength(1);
    expect(mock.callsFor(b)).toHaveLength(2);
  });

  test("one request whose attempts cool every key still waits for the earliest return within GLOBAL_TIMEOUT and succeeds", async () => {
    const { mock, proxy, keys } = await rig.start({ env: { GLOBAL_TIMEOUT: "5" } });
    const [a, b] = keys as [string, string];
    mock.script(a, [{ kind: "rate_limit", retryAfterMs: 1200 }, { kind: "success" }]);
    mock.script(b, LONG_429(60));

    const { value: response, ms } = await timed(chat(proxy));
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(a));
    expect(ms).toBeGreaterThanOrEqual(1100);
    expect(ms).toBeLessThan(3000);
    expect(mock.calls.map((call) => call.key)).toEqual([a, b, a]);
  });
});

describe("provider incident", () => {
  test("three keys all answering 503: 503 provider_incident with Retry-After; no key is cooled; the pause answers at once", async () => {
    const { mock, proxy, keys } = await rig.start({ keys: testKeys(3), env: { GLOBAL_TIMEOUT: "3" } });
    for (const key of keys) mock.script(key, { kind: "server_error", status: 503 });

    const response = await chat(proxy);
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBeWithin(1, 6);
    const error = await errorBody(response);
    expect(error.type).toBe("provider_incident");
    expect(error.message).toContain("HTTP 503");
    for (const key of keys) expect(mock.callsFor(key).length).toBeGreaterThanOrEqual(1);
    expect(standing(proxy)).toMatchObject({ healthy: 3, cooling: 0, disabled: 0 });

    // During the pause the provider is not touched at all.
    const seen = mock.calls.length;
    const { value: again, ms } = await timed(chat(proxy));
    expect(again.status).toBe(503);
    expect(ms).toBeLessThan(500);
    expect((await errorBody(again)).type).toBe("provider_incident");
    expect(again.headers.get("retry-after")).not.toBeNull();
    expect(mock.calls).toHaveLength(seen);
  });

  test("with the default GLOBAL_TIMEOUT (longer than the pause) the answer is still 503 provider_incident", async () => {
    const { mock, proxy, keys } = await rig.start({ keys: testKeys(3) });
    for (const key of keys) mock.script(key, { kind: "server_error", status: 503 });

    const response = await chat(proxy);
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).not.toBeNull();
    expect((await errorBody(response)).type).toBe("provider_incident");
    expect(standing(proxy)).toMatchObject({ healthy: 3, cooling: 0, disabled: 0 });
  }, 15_000);
});

describe("restart", () => {
  test("a cooldown survives a restart: the cooling key is skipped and still shown cooling", async () => {
    const started = await rig.start();
    const { mock, keys } = started;
    const [a, b] = keys as [string, string];
    mock.script(a, LONG_429(600));

    expect((await chat(started.proxy)).headers.get("x-proxy-key")).toBe(shownKey(b));
    const until = coolingUntil(started.proxy, a)!;
    expect(until).toBeGreaterThan(Date.now() + 590_000);

    started.proxy = await started.proxy.restart();
    const proxy = started.proxy;
    expect(coolingUntil(proxy, a)).toBe(until);
    expect(keyStanding(proxy, a).coolingModels[0]!.strikes).toBe(1);

    for (let i = 0; i < 2; i++) {
      const response = await chat(proxy);
      expect(response.status).toBe(200);
      expect(response.headers.get("x-proxy-attempts")).toBe("1");
      expect(response.headers.get("x-proxy-key")).toBe(shownKey(b));
    }
    expect(mock.callsFor(a)).toHaveLength(1);
  });
});
