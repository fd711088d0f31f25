/** ProxyError → Anthropic's error envelope, status and headers, as Anthropic's SDK reads them. */

import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { toAnthropicError } from "../../../src/formats/anthropic/anthropic-error.ts";
import type { ProxyError } from "../../../src/errors/proxy-error.ts";
import { fixtureStatus, readFixtureJson } from "../../support/fixtures.ts";

const proxyError = (status: number, fields: Partial<ProxyError> = {}): ProxyError => ({ status, type: "whatever", code: null, param: null, message: `failed with ${status}`, ...fields });

const RECORDED_ERRORS = [
  "anthropic/error-400-invalid-request-effort.json",
  "anthropic/error-400-tool-result-without-tool-use.json",
  "anthropic/error-404-not-found-model.json",
  "anthropic/error-529-overloaded.json",
];

test.each(RECORDED_ERRORS)("%s: the status Anthropic answered with gets the type it gave, status and message kept", (fixture) => {
  const status = fixtureStatus(fixture);
  const recorded = readFixtureJson(fixture);
  expect(toAnthropicError(proxyError(status))).toStrictEqual({
    status,
    body: { type: "error", error: { type: recorded.error.type, message: `failed with ${status}` } },
    headers: { "content-type": "application/json" },
  });
});

test("a status without a type of its own falls back by whose fault it is", () => {
  expect(toAnthropicError(proxyError(422)).body.error.type).toBe("invalid_request_error");
  expect(toAnthropicError(proxyError(599)).body.error.type).toBe("api_error");
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
