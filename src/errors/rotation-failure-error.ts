/**
 * A rotation failure in words: the status, type, code and sentence a client gets, the same for
 * every face (the server's error bodies and the library's RotationError). The sentences name the
 * settings and the routes that change the outcome, which the engine does not know of.
 */

import type { RotationFailure } from "../engine/rotate.ts";
import type { Failure } from "../outcome.ts";
import type { ProxyError } from "./proxy-error.ts";

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

function describeFailure(failure: Failure): string {
  return `last error (HTTP ${failure.status}, ${failure.class}): ${failure.message}`;
}

function triedFirst(last: Failure | undefined, attempts: number): string {
  return last ? ` ${attempts} attempt(s) failed first; ${describeFailure(last)}` : "";
}

export function rotationFailureError(failure: RotationFailure): ProxyError {
  switch (failure.kind) {
    case "request_rejected": {
      const { status, code, param, message } = failure.failure;
      return { status: status >= 400 && status < 500 ? status : 400, type: "invalid_request_error", code: code ?? null, param: param ?? null, message };
    }
    case "aborted":
      return { status: 499, type: "client_closed_request", code: "client_closed_request", param: null, message: "The client closed the request before an answer was ready." };
    case "provider_incident":
      return { status: 503, type: "provider_incident", code: "provider_incident", param: null, message: `${failure.message}.`, retryAfterSeconds: seconds(failure.retryAfterMs) };
    case "deadline":
      return {
        status: 504,
        type: "timeout_error",
        code: "deadline_exceeded",
        param: null,
        message: `No answer from ${failure.provider} within the request deadline (GLOBAL_TIMEOUT).${failure.last ? ` The ${describeFailure(failure.last)}` : ""}`,
      };
    case "at_capacity":
      return {
        status: 429,
        type: "rate_limit_error",
        code: "keys_at_capacity",
        param: null,
        message: `Every ${failure.provider} key is at its concurrency cap (MAX_CONCURRENT_REQUESTS_PER_KEY_${failure.provider.toUpperCase()}) for ${failure.model} and none was released before the deadline.`,
        retryAfterSeconds: 1,
      };
    case "all_keys_cooling":
      if (failure.limit !== undefined) {
        return {
          status: 429,
          type: "rate_limit_error",
          code: "declared_limit_reached",
          param: null,
          message: `Every ${failure.provider} key that could serve ${failure.model} is at a declared limit or cooling; the first frees in ${seconds(failure.retryAfterMs)} s (${failure.limit}).${triedFirst(failure.last, failure.attempts)}`,
          retryAfterSeconds: seconds(failure.retryAfterMs),
        };
      }
      return {
        status: 429,
        type: "rate_limit_error",
        code: "all_keys_cooling",
        param: null,
        message: `All ${failure.poolSize} ${failure.provider} key(s) are cooling down or disabled for ${failure.model}; the earliest is back in ${seconds(failure.retryAfterMs)} s.${triedFirst(failure.last, failure.attempts)}`,
        retryAfterSeconds: seconds(failure.retryAfterMs),
      };
    case "all_keys_disabled":
      // Nothing will change before the daily reset: this is not a rate limit the client can wait out quickly.
      return {
        status: 503,
        type: "service_unavailable",
        code: "all_keys_disabled",
        param: null,
        message: `All ${failure.poolSize} ${failure.provider} key(s) are disabled (${failure.reasons.join("; ")}) until the daily reset in ${seconds(failure.retryAfterMs)} s; replace them in the .env and restart, or POST /v1/keys/reset once they work again.${triedFirst(failure.last, failure.attempts)}`,
        retryAfterSeconds: seconds(failure.retryAfterMs),
      };
    case "all_keys_rate_limited":
    case "all_keys_failed": {
      const limited = failure.kind === "all_keys_rate_limited";
      return {
        status: limited ? 429 : 502,
        type: limited ? "rate_limit_error" : "upstream_error",
        code: failure.kind,
        param: null,
        message: `All ${failure.attempts} attempt(s) on ${failure.provider} failed for ${failure.model}; ${describeFailure(failure.last)}`,
        ...(limited && failure.retryAfterMs !== undefined ? { retryAfterSeconds: seconds(failure.retryAfterMs) } : {}),
      };
    }
    case "no_keys":
      return { status: 503, type: "service_unavailable", code: "no_keys", param: null, message: `No ${failure.provider} key can serve ${failure.model}.` };
  }
}
