/**
 * The recorded first request of Claude Code 2.1.332 (test/fixtures/clients/, see the README there):
 * `POST /v1/messages?beta=true` with `messages = [user, system]`, adaptive thinking with
 * `display: "omitted"`, `output_config.effort`, `context_management`, a deferred tool and the full
 * `anthropic-beta` list. Shared by the unit tests here and test/e2e/claude-code-request.test.ts.
 */

import { readFixtureJson } from "../../support/fixtures.ts";

export interface RecordedClientRequest {
  method: string;
  /** Path with its query, e.g. "/v1/messages?beta=true". */
  path: string;
  headers: Record<string, string>;
  body: Record<string, any>;
}

/** A private copy per call, so a test may change the model or `stream` without touching the next one's. */
export function readClaudeCodeRequest(): RecordedClientRequest {
  return readFixtureJson<RecordedClientRequest>("clients/claude-code-2.1.332-messages-request.json");
}
