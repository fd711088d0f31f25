/**
 * Gemini key rotation, errors and key secrecy end to end: the real proxy in front of the scripted
 * Gemini mock, which answers each key with Google's own (recorded) error bodies. Each test checks
 * what the client sees (status, body, headers, SSE bytes), which keys reached Google in which order,
 * and the pool's standing afterwards:
 *
 * - a per-minute 429 cools (key, model) for RetryInfo.retryDelay; other models keep the key;
 * - a per-day 429 cools (key, model) until the next midnight in Los Angeles (Google's reset), and
 *   the proxy's own daily reset (DAILY_RESET_TIME_UTC), which comes earlier, must not end it;
 * - API_KEY_INVALID (400) and PERMISSION_DENIED (403) disable the key;
 * - 503 rotates to the next key at once (a single key is retried once); three keys failing that way
 *   is a provider incident;
 * - a hung key is given up after FIRST_BYTE_TIMEOUT; a client that leaves ends the upstream call;
 * - a bad request goes back with Gemini's message after one call, blaming no key;
 * - an error as the first stream event, or an empty answer, rotates without the client noticing;
 * - an error after content ends the stream with the content, one error event and `[DONE]`;
 * - a blocked prompt is an answer: finish_reason content_filter with the reason in `refusal`;
 * - keys travel only in `x-goog-api-key` and never show in anything the client receives.
 */

import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { readFixtureJson } from "../support/fixtures.ts";
import { DEFAULT_TEXT, type ErrorFraming } from "../support/mock-gemini.ts";
import { EMBEDDING, FLASH, PRO, USER_MESSAGE, contentPieces, coolingUntil, errorBody, errorEvents, expectNoSecret, finishReasons, generateCalls, keyStanding, keysTried, laWallClock, nextLosAngelesMidnight, parseClientStream, postChat, postEmbeddings, proxyModel, readClientStream, refusalPieces, shownKey, standing, totalInFlight, useGeminiRig, waitFor } from "./gemini-helpers.ts";

const start = useGeminiRig();

const BAD_REQUEST_MESSAGE: string = readFixtureJson("google/error-400-thinking-level-unsupported.json").error.message;

/** Status, headers and body of a response as one text, for leak checks. */
async function everythingVisible(response: Response): Promise<string> {
  return `${response.status}\n${[...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n")}\n\n${await response.text()}`;
}

describe("rate limits and quotas", () => {
  test("per-minute 429 on key 1: key 2 serves; key 1 cools for RetryInfo.retryDelay on THAT model only and still serves another model", async () => {
    const { mock, proxy, client, keys } = await start();
    const [k1, k2] = keys as [string, string];
    mock.script(k1, [{ kind: "rate_limit_minute", retryDelay: "20s" }, { kind: "text" }]);

    const before = Date.now();
    const { data, response } = await client.chat.completions.create({ model: proxyModel(FLASH), messages: [USER_MESSAGE] }).withResponse();
    const after = Date.now();
    expect(data.choices[0]!.message.content).toBe(DEFAULT_TEXT);
    expect(response.headers.get("x-proxy-attempts")).toBe("2");
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(k2));
    expect(keysTried(mock)).toEqual([k1, k2]);

    const until = coolingUntil(proxy, k1, FLASH)!;
    expect(until).toBeGreaterThanOrEqual(before + 20_000);
    expect(until).toBeLessThanOrEqual(after + 20_000);
    expect(keyStanding(proxy, k1).coolingModels.map((cooling) => cooling.model)).toEqual([FLASH]);
    expect(keyStanding(proxy, k1).disabledUntil).toBe(0);
    expect(keyStanding(proxy, k2).coolingModels).toEqual([]);

    // The same model skips key 1 without touching it …
    const again = await postChat(proxy, {});
    expect(again.status).toBe(200);
    expect(again.headers.get("x-proxy-key")).toBe(shownKey(k2));
    // … while another model is served by key 1 (its least recently used key).
    const other = await postChat(proxy, { model: proxyModel(PRO) });
    expect(other.status).toBe(200);
    expect(other.headers.get("x-proxy-key")).toBe(shownKey(k1));
    expect(other.headers.get("x-proxy-attempts")).toBe("1");
    expect(generateCalls(mock).map((call) => [call.key, call.model])).toEqual([
      [k1, FLASH],
      [k2, FLASH],
      [k2, FLASH],
      [k1, PRO],
    ]);
  });

  test("per-day 429: key 2 serves; key 1 cools for that model until the next midnight in Los Angeles, not disabled", async () => {
    const { mock, proxy, client, keys } = await start();
    const [k1, k2] = keys as [string, string];
    mock.script(k1, { kind: "rate_limit_day" });

    const before = Date.now();
    const { response } = await client.chat.completions.create({ model: proxyModel(FLASH), messages: [USER_MESSAGE] }).withResponse();
    const after = Date.now();
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(k2));
    expect(keysTried(mock)).toEqual([k1, k2]);

    const until = coolingUntil(proxy, k1, FLASH)!;
    expect([nextLosAngelesMidnight(before), nextLosAngelesMidnight(after)]).toContain(until);
    expect(laWallClock(until)).toMatchObject({ hour: 0, minute: 0, second: 0 });
    expect(until - after).toBeLessThanOrEqual(25 * 60 * 60 * 1000);
    expect(keyStanding(proxy, k1).coolingModels.map((cooling) => cooling.model)).toEqual([FLASH]);
    expect(keyStanding(proxy, k1).disabledUntil).toBe(0);

    await postChat(proxy, {});
    expect(keysTried(mock)).toEqual([k1, k2, k2]);
  });

  test("a 429 saying `limit: 0` (no free quota for that model at all) cools until midnight Los Angeles, not for its 20 s retry hint", async () => {
    const { mock, proxy, keys } = await start();
    const [k1, k2] = keys as [string, string];
    const body = readFixtureJson("google/error-429-resource-exhausted-quotafailure-retryinfo.json");
    body.error.message = `Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0, model: ${PRO}. Please retry in 20s.`;
    body.error.details.find((detail: any) => detail["@type"].endsWith("RetryInfo")).retryDelay = "20s";
    mock.script(k1, { kind: "raw", status: 429, headers: { "content-type": "application/json; charset=UTF-8" }, body: JSON.stringify(body, null, 2) });

    const before = Date.now();
    const response = await postChat(proxy, { model: proxyModel(PRO) });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(k2));
    expect([nextLosAngelesMidnight(before), nextLosAngelesMidnight(Date.now())]).toContain(coolingUntil(proxy, k1, PRO)!);
    expect(keyStanding(proxy, k1).disabledUntil).toBe(0);
  });
});

describe("the proxy's daily reset and Google's per-day reset", () => {
  test("a per-day cooldown outlives a daily reset (DAILY_RESET_TIME_UTC, 03:00 UTC) that passes before midnight in Los Angeles", async () => {
    const { mock, proxy, keys } = await start();
    const [k1, k2] = keys as [string, string];
    mock.script(k1, { kind: "rate_limit_day" });
    const before = Date.now();
    await postChat(proxy, {});
    const until = coolingUntil(proxy, k1, FLASH)!;
    expect([nextLosAngelesMidnight(before), nextLosAngelesMidnight(Date.now())]).toContain(until);

    // The proxy was stopped and comes back after its daily reset time, while Google's per-day quota
    // is still exhausted (it only resets at `until`). Simulated by dating its last reset a day back,
    // which makes start-up catch up on the reset it "missed".
    proxy.ctx.store.setMeta("last_daily_reset", String(Date.now() - 25 * 60 * 60 * 1000));
    const restarted = await proxy.restart();
    try {
      // Google has not reset the quota: the key must stay out until midnight Los Angeles,
      // not be tried again just to collect the same 429.
      const response = await postChat(restarted, {});
      expect(response.status).toBe(200);
      expect(keysTried(mock)).toEqual([k1, k2, k2]);
      expect(response.headers.get("x-proxy-attempts")).toBe("1");
      expect(coolingUntil(restarted, k1, FLASH)).toBe(until);
    } finally {
      await restarted.stop();
    }
  });
});

describe("dead keys", () => {
  test.each([
    ["400 API_KEY_INVALID", "invalid_key" as const, false],
    ["400 API_KEY_INVALID on the stream endpoint", "invalid_key" as const, true],
    ["403 PERMISSION_DENIED", "permission_denied" as const, false],
  ])("%s: the key is disabled, key 2 serves, and key 1 is never tried again (any model)", async (_name, kind, stream) => {
    const { mock, proxy, keys } = await start();
    const [k1, k2] = keys as [string, string];
    mock.script(k1, { kind });

    const first = await postChat(proxy, { stream });
    expect(first.status).toBe(200);
    expect(first.headers.get("x-proxy-key")).toBe(shownKey(k2));
    if (stream) expect(contentPieces((await readClientStream(first)).payloads).join("")).toBe(DEFAULT_TEXT);
    else expect(((await first.json()) as any).choices[0].message.content).toBe(DEFAULT_TEXT);

    const dead = keyStanding(proxy, k1);
    expect(dead.disabledUntil).toBeGreaterThan(Date.now());
    expect(dead.disabledReason).toContain(kind === "invalid_key" ? "HTTP 400" : "HTTP 403");
    expect(standing(proxy)).toMatchObject({ healthy: 1, disabled: 1 });

    for (const model of [FLASH, PRO]) {
      const next = await postChat(proxy, { model: proxyModel(model) });
      expect(next.headers.get("x-proxy-key")).toBe(shownKey(k2));
      expect(next.headers.get("x-proxy-attempts")).toBe("1");
    }
    expect(mock.callsFor(k1)).toHaveLength(1);
  });
});

describe("transient failures", () => {
  test("503 once: the next key serves at once; the first is neither cooled nor taken out", async () => {
    const { mock, proxy, keys } = await start();
    const [k1, k2] = keys as [string, string];
    mock.script(k1, [{ kind: "unavailable" }, { kind: "text" }]);

    const response = await postChat(proxy, {});
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(k2));
    expect(keysTried(mock)).toEqual([k1, k2]);
    expect(standing(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0, failing: 0 });
  });

  test("503 once with a single key: the same key is retried and serves", async () => {
    const { mock, proxy, keys } = await start({ keyCount: 1 });
    const [k1] = keys as [string];
    mock.script(k1, [{ kind: "unavailable" }, { kind: "text" }]);

    const response = await postChat(proxy, {});
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(k1));
    expect(keysTried(mock)).toEqual([k1, k1]);
  });

  test("503 on all three keys: each tried once, then 503 provider_incident; no key is cooled or disabled", async () => {
    const { mock, proxy, keys } = await start({ keyCount: 3 });
    const [k1, k2, k3] = keys as [string, string, string];
    for (const key of keys) mock.script(key, { kind: "unavailable" });

    const response = await postChat(proxy, {});
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    const error = await errorBody(response);
    expect(error.type).toBe("provider_incident");
    expect(error.code).toBe("provider_incident");
    expect(error.message).toContain("gemini");
    expect(keysTried(mock)).toEqual([k1, k2, k3]);
    expect(standing(proxy)).toMatchObject({ healthy: 3, cooling: 0, disabled: 0 });
  });

  test.each(["bare", "sse"] as ErrorFraming[])("an error as the first stream event (%s framing) rotates invisibly: the client gets key 2's answer", async (framing) => {
    const { mock, proxy, keys } = await start();
    const [k1, k2] = keys as [string, string];
    mock.script(k1, { kind: "error_first_event", framing });

    const response = await postChat(proxy, { stream: true });
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(k2));
    const { payloads } = await readClientStream(response);
    expect(errorEvents(payloads)).toEqual([]);
    expect(contentPieces(payloads).join("")).toBe(DEFAULT_TEXT);
    expect(finishReasons(payloads)).toEqual(["stop"]);
    // 503 UNAVAILABLE is transient: with key 2 ready, the proxy rotates at once.
    expect(keysTried(mock)).toEqual([k1, k2]);
    expect(standing(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });

  test.each([false, true])("an empty answer (stream %p) rotates invisibly: the client gets key 2's answer", async (stream) => {
    const { mock, proxy, keys } = await start();
    const [k1, k2] = keys as [string, string];
    mock.script(k1, { kind: "empty" });

    const response = await postChat(proxy, { stream });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-proxy-key")).toBe(shownKey(k2));
    if (stream) {
      const { payloads } = await readClientStream(response);
      expect(errorEvents(payloads)).toEqual([]);
      expect(contentPieces(payloads).join("")).toBe(DEFAULT_TEXT);
    } else {
      expect(((await response.json()) as any).choices[0].message.content).toBe(DEFAULT_TEXT);
    }
    // An empty answer is a glitch, handled as transient: key 2 answers at once.
    expect(keysTried(mock)).toEqual([k1, k2]);
  });
});

describe("hung upstreams and clients that leave", () => {
  test("a hung key: after FIRST_BYTE_TIMEOUT it is not retried; key 2 answers well within GLOBAL_TIMEOUT", async () => {
    const { mock, proxy, keys } = await start({ env: { FIRST_BYTE_TIMEOUT: "0.25" } });
    const [k1, k2] = keys as [string, string];
    mock.script(k1, { kind: "hang" });

    const started = Date.now();
    const response = await postChat(proxy, { stream: true });
    const { payloads } = await readClientStream(response);
    expect(contentPieces(payloads).join("")).toBe(DEFAULT_TEXT);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(keysTried(mock)).toEqual([k1, k2]);
    // The abandoned attempt was really cut, not left hanging upstream.
    await waitFor(() => mock.openConnections() === 0, "hung upstream calls aborted");
    expect(generateCalls(mock)[0]!.aborted).toBe(true);
  });

  test("a client that leaves mid-stream ends the upstream call and frees the key", async () => {
    const { mock, proxy } = await start();
    mock.setDefault({ kind: "text", text: "one two three four five six seven eight", chunks: 8, chunkDelayMs: 150 });

    const controller = new AbortController();
    const response = await proxy.request("/v1/chat/completions", {
      method: "POST",
      body: JSON.stringify({ model: proxyModel(FLASH), messages: [USER_MESSAGE], stream: true }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let seen = "";
    while (!seen.includes('"content":"one')) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();

    await waitFor(() => mock.openConnections() === 0, "upstream call closed");
    expect(generateCalls(mock)[0]!.aborted).toBe(true);
    await waitFor(() => totalInFlight(proxy) === 0, "key released");
    expect(standing(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });
});

describe("request faults", () => {
  test("a bad request (non-stream) comes back as 400 with Gemini's message after ONE upstream call; no key is blamed", async () => {
    const { mock, proxy, client } = await start();
    mock.setDefault({ kind: "bad_request" });

    const error = await client.chat.completions.create({ model: proxyModel(FLASH), messages: [USER_MESSAGE] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.status).toBe(400);
    expect(apiError.message).toContain(BAD_REQUEST_MESSAGE);
    expect(apiError.type).toBe("invalid_request_error");
    expect(apiError.headers?.get("x-proxy-attempts")).toBe("1");
    expect(generateCalls(mock)).toHaveLength(1);
    expect(standing(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });

  test("a bad request on a stream comes back as a plain 400 JSON error (not a stream) after ONE upstream call", async () => {
    const { mock, proxy } = await start();
    mock.setDefault({ kind: "bad_request", message: "Invalid JSON payload received. Unknown name \"foo\": Cannot find field." });

    const response = await postChat(proxy, { stream: true });
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toContain("application/json");
    const error = await errorBody(response);
    expect(error.message).toContain('Invalid JSON payload received. Unknown name "foo"');
    expect(error.type).toBe("invalid_request_error");
    expect(generateCalls(mock)).toHaveLength(1);
    expect(standing(proxy)).toMatchObject({ healthy: 2, cooling: 0, disabled: 0 });
  });
});

describe("streams that break after content", () => {
  test.each(["bare", "sse"] as ErrorFraming[])("an error after 2 events (%s framing): the client gets that content, then exactly one error event, then [DONE]", async (framing) => {
    const { mock, proxy, keys } = await start();
    const [k1] = keys as [string, string];
    mock.script(k1, { kind: "error_mid_stream", afterChunks: 2, framing });

    const response = await postChat(proxy, { stream: true });
    const { payloads } = await readClientStream(response);

    const pieces = contentPieces(payloads);
    expect(pieces).toHaveLength(2);
    expect(DEFAULT_TEXT.startsWith(pieces.join(""))).toBe(true);
    const errors = errorEvents(payloads);
    expect(errors).toHaveLength(1);
    expect(payloads.at(-1)).toBe(errors[0]);
    expect(errors[0].error.message).toContain("The operation was cancelled.");
    expect(typeof errors[0].error.type).toBe("string");
    expect(finishReasons(payloads)).toEqual([]);
    // Committed after the first content: no rotation, no second key.
    expect(keysTried(mock)).toEqual([k1]);
  });

  test("the SDK surfaces the mid-stream error after yielding the content", async () => {
    const { mock, client, keys } = await start();
    mock.script(keys[0]!, { kind: "error_mid_stream", afterChunks: 2 });

    const stream = await client.chat.completions.create({ model: proxyModel(FLASH), messages: [USER_MESSAGE], stream: true });
    let text = "";
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    })().catch((e: unknown) => e);
    expect(text.length).toBeGreaterThan(0);
    expect(DEFAULT_TEXT.startsWith(text)).toBe(true);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain("The operation was cancelled.");
  });
});

describe("blocked prompt", () => {
  test("non-stream: 200 with finish_reason content_filter, no content, the block reason in refusal; no rotation", async () => {
    const { mock, client } = await start();
    mock.setDefault({ kind: "blocked" });

    const completion = await client.chat.completions.create({ model: proxyModel(FLASH), messages: [USER_MESSAGE] });

    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("content_filter");
    expect(choice.message.content).toBeNull();
    expect(choice.message.refusal).toContain("SAFETY");
    expect(generateCalls(mock)).toHaveLength(1);
  });

  test("stream: a refusal delta with the block reason, finish_reason content_filter, no content, one [DONE]; no rotation", async () => {
    const { mock, proxy } = await start();
    mock.setDefault({ kind: "blocked" });

    const { payloads } = await readClientStream(await postChat(proxy, { stream: true }));

    expect(refusalPieces(payloads).join("")).toContain("SAFETY");
    expect(finishReasons(payloads)).toEqual(["content_filter"]);
    expect(contentPieces(payloads)).toEqual([]);
    expect(errorEvents(payloads)).toEqual([]);
    expect(generateCalls(mock)).toHaveLength(1);
  });
});

describe("key secrecy", () => {
  test("every upstream call (chat, stream, embeddings, model pages, a rotation) carries the key in x-goog-api-key, never in the URL", async () => {
    const { mock, proxy, client, keys } = await start();
    const [k1] = keys as [string, string];
    mock.script(k1, [{ kind: "rate_limit_minute", retryDelay: "20s" }, { kind: "text" }]);

    await client.chat.completions.create({ model: proxyModel(FLASH), messages: [USER_MESSAGE] });
    await readClientStream(await postChat(proxy, { model: proxyModel(PRO), stream: true }));
    expect((await postEmbeddings(proxy, { input: Array.from({ length: 120 }, (_, i) => `text ${i}`) })).status).toBe(200);
    expect((await proxy.request("/v1/models")).status).toBe(200);
    expectNoSecret(await everythingVisible(await proxy.request("/v1/providers")), keys);

    const paths = new Set(mock.calls.map((call) => call.path.replace(/^\/v1beta\/models\/[^:]+:/, ":")));
    expect(paths).toEqual(new Set([":generateContent", ":streamGenerateContent", ":batchEmbedContents", "/v1beta/models"]));
    expect(new Set(mock.calls.map((call) => call.key))).toEqual(new Set(keys));
    for (const call of mock.calls) {
      expect(keys).toContain(call.key);
      expect(call.keyInUrl).toBe(false);
      expectNoSecret(decodeURIComponent(call.path + call.query), keys);
    }
    expect(mock.calls.filter((call) => call.path.endsWith(`${EMBEDDING}:batchEmbedContents`))).toHaveLength(2);
  });

  test("a Gemini error that echoes the key (400, non-stream and stream) reaches the client masked", async () => {
    const { mock, proxy, keys } = await start();
    for (const key of keys) mock.script(key, { kind: "bad_request", message: `Request contains an invalid argument (caller ${key}).` });

    for (const stream of [false, true]) {
      const response = await postChat(proxy, { stream });
      expect(response.status).toBe(400);
      const visible = await everythingVisible(response);
      expect(visible).toContain("Request contains an invalid argument");
      expectNoSecret(visible, keys);
    }
  });

  test("every key failing with errors that echo it: the 502 the client gets names the failure but no key", async () => {
    const { mock, proxy, keys } = await start();
    for (const key of keys) {
      mock.script(key, {
        kind: "raw",
        status: 500,
        headers: { "content-type": "application/json; charset=UTF-8" },
        body: JSON.stringify({ error: { code: 500, message: `Internal error encountered for key ${key}.`, status: "INTERNAL" } }),
      });
    }

    const response = await postChat(proxy, {});
    expect(response.status).toBe(502);
    const visible = await everythingVisible(response);
    expect(visible).toContain("Internal error encountered");
    expectNoSecret(visible, keys);
  });

  test("an error event after content that echoes the key: the stream's error event shows it masked", async () => {
    const { mock, proxy, keys } = await start();
    const [k1] = keys as [string, string];
    const text = { candidates: [{ content: { parts: [{ text: "Partial answer" }], role: "model" }, index: 0 }] };
    const failure = { error: { code: 500, message: `Internal error encountered for key ${k1}.`, status: "INTERNAL" } };
    mock.script(k1, {
      kind: "raw",
      status: 200,
      headers: { "content-type": "text/event-stream" },
      body: `data: ${JSON.stringify(text)}\r\n\r\ndata: ${JSON.stringify(failure)}\r\n\r\n`,
    });

    const response = await postChat(proxy, { stream: true });
    expect(response.status).toBe(200);
    const visible = await everythingVisible(response);
    const { payloads } = parseClientStream(visible.slice(visible.indexOf("\n\n") + 2));
    expect(contentPieces(payloads)).toEqual(["Partial answer"]);
    expect(errorEvents(payloads)).toHaveLength(1);
    expect(errorEvents(payloads)[0].error.message).toContain("Internal error encountered");
    expectNoSecret(visible, keys);
  });
});
