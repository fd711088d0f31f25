/**
 * `failures.log`: one redacted JSON line per failed attempt, and size-based rotation that keeps
 * the configured number of older files and drops the oldest.
 */

import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFailureLog, FAILURE_LOG_NAME, type FailureRecord } from "../../../src/logging/failure-log.ts";
import { createRedactor } from "../../../src/logging/redact.ts";

const KEY = "sk-live-abcdefghijklmnop7777";
const redactor = createRedactor([KEY]);

function failure(overrides: Partial<FailureRecord> = {}): FailureRecord {
  return {
    requestId: "req-1",
    provider: "openai",
    model: "gpt-4o",
    keyId: "0123456789ab",
    keyMasked: "…7777",
    status: 429,
    class: "rate_limit",
    message: "Rate limit reached",
    action: "cooling until 2024-05-01T12:35:56.000Z",
    attempt: 1,
    ...overrides,
  };
}

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

describe("createFailureLog", () => {
  test("appends one JSON line per failure with an ISO time, creating the folder, redacted", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "lkp-failures-")), "logs");
    const log = createFailureLog({ dir, redactor, now: () => Date.UTC(2024, 4, 1, 12, 34, 56) });
    log.record(failure({ message: `Incorrect API key provided: ${KEY} at https://x/v1?key=${KEY}` }));
    log.record(failure({ requestId: "req-2", status: 0, class: "transient", message: "connection reset", action: undefined, attempt: 2 }));
    await log.flush();

    const text = readFileSync(join(dir, FAILURE_LOG_NAME), "utf8");
    expect(text).not.toContain(KEY);
    expect(text.endsWith("\n")).toBe(true);
    const [first, second] = lines(join(dir, FAILURE_LOG_NAME));
    expect(first).toEqual({
      time: "2024-05-01T12:34:56.000Z",
      requestId: "req-1",
      provider: "openai",
      model: "gpt-4o",
      keyId: "0123456789ab",
      keyMasked: "…7777",
      attempt: 1,
      status: 429,
      class: "rate_limit",
      message: "Incorrect API key provided: …7777 at https://x/v1?key=[redacted]",
      action: "cooling until 2024-05-01T12:35:56.000Z",
    });
    expect(second).toMatchObject({ requestId: "req-2", status: 0, class: "transient", attempt: 2 });
    expect(second).not.toHaveProperty("action");
  });

  test("rotates at maxBytes: failures.log → .1 → .2, the oldest dropped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lkp-failures-"));
    const maxBytes = 1000;
    const log = createFailureLog({ dir, redactor, maxBytes, backups: 2 });
    const lineBytes = Buffer.byteLength(`${JSON.stringify({ ...failure(), time: new Date().toISOString() })}\n`);
    const perFile = Math.floor(maxBytes / lineBytes);
    const total = perFile * 5;
    for (let i = 0; i < total; i++) log.record(failure({ requestId: `req-${String(i).padStart(4, "0")}` }));
    await log.flush();

    const file = join(dir, FAILURE_LOG_NAME);
    for (const path of [file, `${file}.1`, `${file}.2`]) expect(statSync(path).size).toBeLessThanOrEqual(maxBytes);
    expect(existsSync(`${file}.3`)).toBe(false);
    const kept = [...lines(`${file}.2`), ...lines(`${file}.1`), ...lines(file)].map((line) => line.requestId);
    // Three full-or-partial files hold the newest lines, in order, ending with the last one written.
    expect(kept.at(-1)).toBe(`req-${String(total - 1).padStart(4, "0")}`);
    expect(kept).toEqual(kept.toSorted());
    expect(kept.length).toBeGreaterThan(perFile * 2);
    expect(kept).not.toContain("req-0000");
    expect(lines(`${file}.1`)).toHaveLength(perFile);
  });

  test("picks up the size of an existing file after a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lkp-failures-"));
    // Room for one line, not two.
    const maxBytes = Buffer.byteLength(`${JSON.stringify({ ...failure({ requestId: "before-restart" }), time: new Date().toISOString() })}\n`) + 10;
    const first = createFailureLog({ dir, redactor, maxBytes });
    first.record(failure({ requestId: "before-restart" }));
    await first.flush();
    const second = createFailureLog({ dir, redactor, maxBytes });
    second.record(failure({ requestId: "after-restart" }));
    await second.flush();
    const file = join(dir, FAILURE_LOG_NAME);
    expect(lines(`${file}.1`).map((line) => line.requestId)).toEqual(["before-restart"]);
    expect(lines(file).map((line) => line.requestId)).toEqual(["after-restart"]);
  });
});
