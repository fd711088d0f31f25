/** ProxyError → Anthropic's error envelope, status and headers, as Anthropic's SDK reads them. */

import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { toAnthropicError } from "../../../src/formats/anthropic/anthropic-error.ts";
import type { ProxyError } from "../../../src/server/errors.ts";
import { readFixtureJson } from "../../support/fixtures.ts";

const proxyError = (status: number, fields: Partial<ProxyError> = {}): ProxyError => ({ status, type: "whatever", code: null, param: null, message: `failed with ${status}`, ...fields });

describe("status → error.type", () => {
  const table: [number, string][] = [
    [400, "invalid_request_error"],
    [401, "authentication_error"],
    [402, "billing_error"],
    [403, "permission_error"],
    [404, "not_found_error"],
    [413, "request_too_large"],
    [422, "invalid_request_error"],
    [429, "rate_limit_error"],
    [500, "api_error"],
    [502, "api_error"],
    [503, "overloaded_error"],
    [504, "timeout_error"],
    [529, "overloaded_error"],
    [599, "api_error"],
  ];
  for (const [status, type] of table) {
    test(`${status} → ${type}, status kept, message unchanged`, () => {
      expect(toAnthropicError(proxyError(status))).toStrictEqual({
        status,
        body: { type: "error", error: { type, message: `failed with ${status}` } },
        headers: { "content-type": "application/json" },
      });
    });
  }
});

test("retry-after carries retryAfterSeconds as whole seconds", () => {
  expect(toAnthropicError(proxyError(429, { retryAfterSeconds: 17 })).headers).toEqual({ "content-type": "application/json", "retry-after": "17" });
  expect(toAnthropicError(proxyError(503, { retryAfterSeconds: 2.2 })).headers["retry-after"]).toBe("3");
});

test("the body has the shape of Anthropic's own errors (recorded), with no wrapper", () => {
  const recorded = readFixtureJson("anthropic/error-404-not-found-model.json");
  const ours = toAnthropicError(proxyError(404, { message: "model: claude-sonet-4-5" })).body;
  expect(Object.keys(ours)).toEqual(["type", "error"]);
  expect(ours).toEqual({ type: recorded.type, error: { type: recorded.error.type, message: recorded.error.message } });
});

describe("Anthropic's SDK reads it", () => {
  async function sdkError(error: ProxyError) {
    const { status, body, headers } = toAnthropicError(error);
    const client = new Anthropic({ apiKey: "test", baseURL: "http://proxy.test", maxRetries: 0, fetch: async () => new Response(JSON.stringify(body), { status, headers }) });
    return client.messages.create({ model: "groq/llama", max_tokens: 1, messages: [{ role: "user", content: "Hi" }] }).catch((caught: unknown) => caught);
  }

  test("429 is a RateLimitError with the type, message and retry-after", async () => {
    const failure = (await sdkError(proxyError(429, { message: "All 3 groq key(s) are cooling down", retryAfterSeconds: 12 }))) as InstanceType<typeof Anthropic.RateLimitError>;
    expect(failure).toBeInstanceOf(Anthropic.RateLimitError);
    expect(failure.type).toBe("rate_limit_error");
    expect(failure.apiMessage).toBe("All 3 groq key(s) are cooling down");
    expect(failure.headers.get("retry-after")).toBe("12");
  });

  test("400 is a BadRequestError; 503 an InternalServerError typed overloaded_error", async () => {
    const bad = (await sdkError(proxyError(400, { message: "messages[0].role: must be \"user\" or \"assistant\"" }))) as InstanceType<typeof Anthropic.BadRequestError>;
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect(bad.type).toBe("invalid_request_error");
    const overloaded = (await sdkError(proxyError(503))) as InstanceType<typeof Anthropic.InternalServerError>;
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    expect(overloaded.type).toBe("overloaded_error");
  });
});
