/**
 * Console lines: control characters escaped so no line can be forged, and the server's logger
 * masking every known secret in whatever a line quotes.
 */

import { describe, expect, test } from "bun:test";
import { createLogger, escapeControl, redactingLogger } from "../../../src/logging/logger.ts";
import { createRedactor } from "../../../src/logging/redact.ts";

function capture(level: "debug" | "info" = "debug") {
  const lines: string[] = [];
  return { lines, log: createLogger({ level, color: false, write: (line) => lines.push(line) }) };
}

describe("console lines", () => {
  test("control characters are escaped; a newline cannot start a forged line", () => {
    const { lines, log } = capture();
    log.info("model m1\n19:00:00 ERROR FORGED\u0000\u001b[2J");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEndWith("INFO  model m1\\n19:00:00 ERROR FORGED\\u0000\\u001b[2J");
    expect(escapeControl("tab\tstays")).toBe("tab\tstays");
  });

  test("the redacting logger masks every configured secret at every level, whatever its shape", () => {
    const { lines, log } = capture();
    const secret = "custom-token-0123456789";
    const redacting = redactingLogger(log, createRedactor([secret, "proxy-key-abcdef"]).text);
    redacting.debug(`upstream said: bad token ${secret}`);
    redacting.info(`reset key ${secret}`);
    redacting.warn(`model list failed: ${secret}`);
    redacting.error(`Unexpected error: at fetch(https://x/?key=${secret}) with proxy-key-abcdef`);
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain("proxy-key-abcdef");
    }
    expect(lines[1]).toEndWith("reset key …6789");
  });

  test("levels below the threshold are skipped, and enabled() says so", () => {
    const { lines, log } = capture("info");
    const redacting = redactingLogger(log, (text) => text);
    redacting.debug("hidden");
    expect(lines).toEqual([]);
    expect(redacting.enabled("debug")).toBe(false);
    expect(redacting.enabled("warn")).toBe(true);
  });
});
