/**
 * A request that is still being built (signed, its token fetched) and cannot be, because the key
 * cannot authenticate, fails the attempt with the family's classified failure — before any upstream
 * call — while a request built at once goes out as before.
 */

import { afterAll, describe, expect, test } from "bun:test";
import { CredentialFailure, attemptJson, attemptStream, type UpstreamRequest } from "../../../src/providers/attempts.ts";

const TIMEOUTS = { connectMs: 2_000, firstByteMs: 2_000, maxResponseBytes: 1 << 20 };
let calls = 0;
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch: () => {
    calls += 1;
    return Response.json({ ok: true });
  },
});
afterAll(() => server.stop(true));

const refused = () => Promise.reject(new CredentialFailure({ class: "invalid_key", status: 401, message: "the token exchange refused the service account" }));
const request: UpstreamRequest = { url: `http://127.0.0.1:${server.port}/`, headers: {}, body: "{}" };
const decode = () => ({ ok: true as const, text: "answer" });

describe("CredentialFailure", () => {
  test("a refused credential fails a non-stream attempt as a dead key, with no upstream call", async () => {
    calls = 0;
    const result = await attemptJson([refused()], decode, new AbortController(), TIMEOUTS);
    expect(result).toEqual({ ok: false, failure: { class: "invalid_key", status: 401, message: "the token exchange refused the service account" } });
    expect(calls).toBe(0);
  });

  test("and a stream attempt the same way", async () => {
    calls = 0;
    const result = await attemptStream(refused(), new AbortController(), TIMEOUTS);
    expect(result).toMatchObject({ ok: false, failure: { class: "invalid_key" } });
    expect(calls).toBe(0);
  });

  test("a request built later (signed) and one built at once both go out", async () => {
    calls = 0;
    expect(await attemptJson([Promise.resolve(request), request], decode, new AbortController(), TIMEOUTS)).toMatchObject({ ok: true, value: { text: "answer" } });
    expect(calls).toBe(2);
  });

  test("any other error while building is a bug and is not hidden as a key failure", async () => {
    await expect(attemptJson([Promise.reject(new TypeError("bug"))], decode, new AbortController(), TIMEOUTS)).rejects.toThrow("bug");
  });
});
