/**
 * The live key check against a loopback server standing in for each provider family: the
 * right request and headers, recorded provider answers classified, and every failure
 * reported as a sentence rather than thrown.
 */

import { afterAll, describe, expect, test } from "bun:test";
import { checkKey, checkTarget, type KeyCheckStatus } from "../../../setup/check-key.ts";
import type { WireFamily } from "../../../src/providers/catalog.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFixtureText } from "../../support/fixtures.ts";
import { startMockVertex } from "../../support/mock-vertex.ts";

interface Seen {
  path: string;
  headers: Headers;
}

const seen: Seen[] = [];
let answer: () => Response | Promise<Response> = () => Response.json({ object: "list", data: [] });
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  idleTimeout: 0,
  fetch: (request) => {
    const url = new URL(request.url);
    seen.push({ path: url.pathname + url.search, headers: request.headers });
    return answer();
  },
});
const BASE = `http://127.0.0.1:${server.port}/v1`;
const KEY = "sk-test-key-0123456789abcd";

afterAll(() => server.stop(true));

function respond(status: number, body: string): void {
  answer = () => new Response(body, { status, headers: { "content-type": "application/json" } });
}

describe("requests per family", () => {
  test("OpenAI-compatible: GET /models with a Bearer key", async () => {
    respond(200, readFixtureText("cerebras/models-list.json"));
    const result = await checkKey({ family: "openai", baseUrl: BASE, key: KEY });
    expect(result).toEqual({ status: "ok", message: `accepted by 127.0.0.1:${server.port}` });
    const last = seen.at(-1)!;
    expect(last.path).toBe("/v1/models");
    expect(last.headers.get("authorization")).toBe(`Bearer ${KEY}`);
  });

  test("Gemini: the key in x-goog-api-key, not in the URL", async () => {
    respond(200, readFixtureText("google/models-list.json"));
    expect((await checkKey({ family: "gemini", baseUrl: `${BASE}beta/`, key: "AIzaTestKey123" })).status).toBe("ok");
    const last = seen.at(-1)!;
    expect(last.path).toBe("/v1beta/models?pageSize=1");
    expect(last.headers.get("x-goog-api-key")).toBe("AIzaTestKey123");
    expect(last.headers.get("authorization")).toBeNull();
  });

  test("Anthropic: x-api-key and anthropic-version", async () => {
    respond(200, JSON.stringify({ data: [], has_more: false }));
    expect((await checkKey({ family: "anthropic", baseUrl: BASE, key: "sk-ant-test" })).status).toBe("ok");
    const last = seen.at(-1)!;
    expect(last.path).toBe("/v1/models?limit=1");
    expect(last.headers.get("x-api-key")).toBe("sk-ant-test");
    expect(last.headers.get("anthropic-version")).toBe("2023-06-01");
  });
});

describe("answers", () => {
  // Recorded provider answers, and what the user is told about the key.
  const answers: { what: string; family: WireFamily; status: number; fixture: string; verdict: KeyCheckStatus; says: string }[] = [
    {
      what: "401 is a rejected key, with the provider's message",
      family: "openai",
      status: 401,
      fixture: "openai/error-401-invalid-api-key.json",
      verdict: "rejected",
      says: "refused the key (HTTP 401): Incorrect API key provided",
    },
    {
      what: "Gemini's 400 API_KEY_INVALID is a rejected key",
      family: "gemini",
      status: 400,
      fixture: "google/error-400-api-key-invalid.json",
      verdict: "rejected",
      says: "says the key is not valid (HTTP 400): API key not valid",
    },
    {
      what: "403 (Gemini API disabled for the key's project) is rejected and says why",
      family: "gemini",
      status: 403,
      fixture: "google/error-403-service-disabled.json",
      verdict: "rejected",
      says: "Generative Language API has not been used",
    },
    {
      what: "429 means the provider knows the key: ok, with a warning",
      family: "gemini",
      status: 429,
      fixture: "google/error-429-paid-tier-quota-full.json",
      verdict: "ok",
      says: "rate-limited or out of quota",
    },
    {
      what: "a server error neither accepts nor rejects: reported as not checked",
      family: "gemini",
      status: 503,
      fixture: "google/error-503-unavailable-overloaded.json",
      verdict: "unreachable",
      says: "answered HTTP 503",
    },
  ];
  for (const answer of answers) {
    test(answer.what, async () => {
      respond(answer.status, readFixtureText(answer.fixture));
      const result = await checkKey({ family: answer.family, baseUrl: BASE, key: KEY });
      expect(result.status).toBe(answer.verdict);
      expect(result.message).toContain(answer.says);
      // The provider's text is cut short: one line on the user's screen, not a page of JSON.
      expect(result.message.length).toBeLessThan(260);
    });
  }

  test("a redirect is not followed, so the key goes nowhere else", async () => {
    answer = () => new Response(null, { status: 302, headers: { location: "http://127.0.0.1:1/elsewhere" } });
    const result = await checkKey({ family: "openai", baseUrl: BASE, key: KEY });
    expect(result.status).toBe("unreachable");
    expect(result.message).toContain("HTTP 302");
  });

  test("a provider echoing the key never gets it printed", async () => {
    respond(401, JSON.stringify({ error: { message: `Key ${KEY} is revoked` } }));
    const result = await checkKey({ family: "openai", baseUrl: BASE, key: KEY });
    expect(result.message).not.toContain(KEY);
    expect(result.message).toContain("Key …abcd is revoked");
  });
});

describe("failures to reach the provider", () => {
  test("a silent server times out with a sentence", async () => {
    answer = () => new Promise<Response>(() => {});
    const started = performance.now();
    const result = await checkKey({ family: "openai", baseUrl: BASE, key: KEY, timeoutMs: 200 });
    expect(result).toEqual({ status: "unreachable", message: `no answer from 127.0.0.1:${server.port} within 0.2 s` });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  test("a refused connection", async () => {
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const port = closed.port;
    await closed.stop(true);
    const result = await checkKey({ family: "openai", baseUrl: `http://127.0.0.1:${port}/v1`, key: KEY });
    expect(result).toEqual({ status: "unreachable", message: `could not reach 127.0.0.1:${port} (connection refused)` });
  });

  test("a cancelled check ends at once", async () => {
    answer = () => new Promise<Response>(() => {});
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    expect(await checkKey({ family: "openai", baseUrl: BASE, key: KEY, signal: abort.signal })).toEqual({
      status: "unreachable",
      message: "check cancelled",
    });
  });
});

describe("checkTarget", () => {
  test("the catalog, overridden by <P>_API_BASE; custom providers need their base", () => {
    expect(checkTarget(new Map(), "groq")).toEqual({ family: "openai", baseUrl: "https://api.groq.com/openai/v1" });
    expect(checkTarget(new Map([["GEMINI_API_BASE", "http://127.0.0.1:9/v1beta/"]]), "gemini")).toEqual({
      family: "gemini",
      baseUrl: "http://127.0.0.1:9/v1beta",
    });
    expect(checkTarget(new Map([["LOCAL_API_BASE", "http://h/v1"]]), "local")).toEqual({ family: "openai", baseUrl: "http://h/v1" });
    expect(checkTarget(new Map(), "local")).toBeUndefined();
  });
});

describe("Vertex AI: keys kept in files, and the token exchange", () => {
  test("a service-account file is read and exchanged for a token; a refused exchange or a missing file is a rejection; an API key is checked as it is", async () => {
    const vertex = await startMockVertex();
    try {
      const account = await vertex.createAccount("check", "check-project");
      const file = join(mkdtempSync(join(tmpdir(), "lkp-check-")), "sa.json");
      writeFileSync(file, account.json);
      const target = { ...checkTarget(new Map([["VERTEX_API_BASE", vertex.url]]), "vertex")!, timeoutMs: 5_000 };
      expect(target).toMatchObject({ family: "vertex", keyFiles: true });

      expect(await checkKey({ ...target, key: file })).toMatchObject({ status: "ok" });
      expect(vertex.tokenExchanges).toEqual([{ email: account.email, granted: true, scope: "https://www.googleapis.com/auth/cloud-platform" }]);

      vertex.refuseTokens(account.email, "invalid_grant");
      const refused = await checkKey({ ...target, key: file });
      expect(refused.status).toBe("rejected");
      expect(refused.message).toContain(account.email);

      const missing = await checkKey({ ...target, key: join(tmpdir(), "no-such-sa.json") });
      expect(missing).toMatchObject({ status: "rejected" });
      expect(missing.message).toContain("cannot be read (ENOENT)");

      vertex.addApiKey("AQ.check-api-key-0001");
      expect(await checkKey({ ...target, key: "AQ.check-api-key-0001" })).toMatchObject({ status: "ok" });
      expect(await checkKey({ ...target, key: "AQ.unknown-key-0002" })).toMatchObject({ status: "rejected" });
    } finally {
      await vertex.stop();
    }
  });
});
