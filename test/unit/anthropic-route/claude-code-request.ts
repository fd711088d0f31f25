/**
 * The recorded first request of Claude Code 2.1.332 (`/work/shared/fixtures/clients/`, see the
 * README there): `POST /v1/messages?beta=true` with `messages = [user, system]`, adaptive thinking
 * with `display: "omitted"`, `output_config.effort`, `context_management`, a deferred tool and the
 * full `anthropic-beta` list. Shared by the unit tests here and test/e2e/claude-code-request.test.ts.
 *
 * The client recordings live beside the repository (`../shared/fixtures`), not in test/fixtures.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";

export const CLAUDE_CODE_REQUEST_PATH = join(import.meta.dir, "..", "..", "..", "..", "shared", "fixtures", "clients", "claude-code-2.1.332-messages-request.json");

export interface RecordedClientRequest {
  method: string;
  /** Path with its query, e.g. "/v1/messages?beta=true". */
  path: string;
  headers: Record<string, string>;
  body: Record<string, any>;
}

let recorded: RecordedClientRequest | undefined;

/** A private copy per call, so a test may change the model or `stream` without touching the next one's. */
export function readClaudeCodeRequest(): RecordedClientRequest {
  recorded ??= JSON.parse(readFileSync(CLAUDE_CODE_REQUEST_PATH, "utf8")) as RecordedClientRequest;
  return structuredClone(recorded);
}

