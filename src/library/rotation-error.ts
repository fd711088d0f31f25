/**
 * The one error the library throws when a call gets no answer: what the server would have answered
 * (status, type, code, message, Retry-After), the decision trace, and a `kind` to branch on.
 */

import type { AttemptTrace, RotationFailure } from "../engine/rotate.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import { rotationFailureError } from "../errors/rotation-failure-error.ts";

export type RotationErrorKind = "request_rejected" | "all_keys_cooling" | "all_keys_disabled" | "all_keys_failed" | "provider_incident" | "deadline" | "aborted";

/** The engine's finer reasons, folded into the kinds a caller acts on. */
const KIND_OF: Record<RotationFailure["kind"], RotationErrorKind> = {
  request_rejected: "request_rejected",
  aborted: "aborted",
  deadline: "deadline",
  at_capacity: "all_keys_cooling",
  all_keys_cooling: "all_keys_cooling",
  all_keys_rate_limited: "all_keys_cooling",
  all_keys_disabled: "all_keys_disabled",
  all_keys_failed: "all_keys_failed",
  no_keys: "all_keys_failed",
  provider_incident: "provider_incident",
};

export class RotationError extends Error {
  override readonly name = "RotationError";
  readonly kind: RotationErrorKind;
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly retryAfterSeconds: number | undefined;
  /** Every attempt, key by key (ids and masked forms only, never a key). */
  readonly trace: readonly AttemptTrace[];

  constructor(kind: RotationErrorKind, error: ProxyError, trace: readonly AttemptTrace[] = []) {
    super(error.message);
    this.kind = kind;
    this.status = error.status;
    this.type = error.type;
    this.code = error.code;
    this.param = error.param;
    this.retryAfterSeconds = error.retryAfterSeconds;
    this.trace = trace;
  }

  /** From the engine's account of a run that got no answer. */
  static fromFailure(failure: RotationFailure, trace: readonly AttemptTrace[]): RotationError {
    return new RotationError(KIND_OF[failure.kind], rotationFailureError(failure), trace);
  }

  /** A request refused before any key was tried (invalid body, unknown provider or model). */
  static rejected(error: ProxyError): RotationError {
    return new RotationError("request_rejected", error);
  }
}
