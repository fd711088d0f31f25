/**
 * The proxy's errors in Google's envelope, `{"error":{"code","message","status"}}`, as the
 * Generative Language API writes them and `@google/genai` parses them (it reads `error.code`,
 * `error.message` and `error.status`). The HTTP status stays the proxy's honest one; `status` is
 * Google's canonical name for it.
 */

const STATUS_NAMES: ReadonlyMap<number, string> = new Map([
  [400, "INVALID_ARGUMENT"],
  [401, "UNAUTHENTICATED"],
  [402, "FAILED_PRECONDITION"],
  [403, "PERMISSION_DENIED"],
  [404, "NOT_FOUND"],
  [409, "ABORTED"],
  [413, "INVALID_ARGUMENT"],
  [429, "RESOURCE_EXHAUSTED"],
  [499, "CANCELLED"],
  [500, "INTERNAL"],
  [501, "UNIMPLEMENTED"],
  [502, "UNAVAILABLE"],
  [503, "UNAVAILABLE"],
  [504, "DEADLINE_EXCEEDED"],
]);

export interface GoogleErrorBody {
  error: { code: number; message: string; status: string };
}

export function googleStatusName(status: number): string {
  return STATUS_NAMES.get(status) ?? (status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT");
}

export function googleErrorBody(status: number, message: string): GoogleErrorBody {
  return { error: { code: status, message, status: googleStatusName(status) } };
}
