/**
 * Each way a rotation can end without an answer, in the words and statuses a client gets: the
 * engine reports facts, and this one function gives them their status, code and sentence.
 */

import { expect, test } from "bun:test";
import type { RotationFailure } from "../../../src/engine/rotate.ts";
import { rotationFailureError } from "../../../src/errors/rotation-failure-error.ts";
import type { Failure } from "../../../src/outcome.ts";

const last: Failure = { class: "transient", status: 503, message: "overloaded" };

test.each<[RotationFailure, number, string, number | undefined]>([
  [{ kind: "request_rejected", failure: { class: "request", status: 422, message: "bad", param: "tools" } }, 422, "invalid_request_error", undefined],
  [{ kind: "request_rejected", failure: { class: "request", status: 200, message: "blocked" } }, 400, "invalid_request_error", undefined],
  [{ kind: "aborted" }, 499, "client_closed_request", undefined],
  [{ kind: "deadline", provider: "p", last }, 504, "deadline_exceeded", undefined],
  [{ kind: "at_capacity", provider: "p", model: "m" }, 429, "keys_at_capacity", 1],
  [{ kind: "all_keys_cooling", provider: "p", model: "m", poolSize: 2, retryAfterMs: 1_500, attempts: 0 }, 429, "all_keys_cooling", 2],
  [{ kind: "all_keys_disabled", provider: "p", poolSize: 2, reasons: ["key rejected as invalid (HTTP 401)"], retryAfterMs: 60_000, attempts: 2, last }, 503, "all_keys_disabled", 60],
  [{ kind: "all_keys_rate_limited", provider: "p", model: "m", attempts: 2, last, retryAfterMs: 9_001 }, 429, "all_keys_rate_limited", 10],
  [{ kind: "all_keys_failed", provider: "p", model: "m", attempts: 3, last }, 502, "all_keys_failed", undefined],
  [{ kind: "no_keys", provider: "p", model: "m" }, 503, "no_keys", undefined],
  [{ kind: "provider_incident", message: "p looks down", retryAfterMs: 4_200 }, 503, "provider_incident", 5],
])("%o → %d", (failure, status, codeOrType, retryAfterSeconds) => {
  const error = rotationFailureError(failure);
  expect(error.status).toBe(status);
  expect([error.code, error.type]).toContain(codeOrType);
  expect(error.retryAfterSeconds).toBe(retryAfterSeconds);
  expect(error.message.length).toBeGreaterThan(0);
});

test("the sentences name what changes the outcome and the last upstream error", () => {
  expect(rotationFailureError({ kind: "deadline", provider: "gemini", last }).message).toBe(
    "No answer from gemini within the request deadline (GLOBAL_TIMEOUT). The last error (HTTP 503, transient): overloaded",
  );
  expect(rotationFailureError({ kind: "at_capacity", provider: "groq", model: "m" }).message).toContain("MAX_CONCURRENT_REQUESTS_PER_KEY_GROQ");
  expect(rotationFailureError({ kind: "all_keys_disabled", provider: "p", poolSize: 1, reasons: ["r1"], retryAfterMs: 1, attempts: 1, last }).message).toContain(
    "POST /v1/keys/reset",
  );
});
