/**
 * Console output: leveled lines, coloured on a terminal and plain otherwise (so log files and CI
 * stay readable). Nothing here ever receives a secret in clear; callers pass masked forms. Leveled
 * messages carry client-chosen text (model names, paths), so their control characters are escaped:
 * a newline in a model name must not start a forged line, nor an escape sequence drive the terminal.
 */

import type { LogLevel } from "../config/settings.ts";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const COLOUR: Record<LogLevel, string> = { debug: "\x1b[36m", info: "\x1b[32m", warn: "\x1b[33m", error: "\x1b[31m" };
const RESET = "\x1b[0m";
const DIM = "\x1b[2m";

export interface Logger {
  /** Whether a message at `level` would be written (lets callers skip building it). */
  enabled(level: LogLevel): boolean;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Plain text without level or time: banners and help. */
  print(message: string): void;
}

export interface LoggerOptions {
  level: LogLevel;
  color?: boolean;
  write?: (line: string) => void;
}

// Tab is harmless on one line; U+2028 / U+2029 end lines for some log viewers.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/g;

/** `\n`, `\r` and `\uXXXX` in place of the control characters that could break or forge a line. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

export function createLogger(options: LoggerOptions): Logger {
  const color = options.color ?? Boolean(process.stdout.isTTY);
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const threshold = RANK[options.level];
  const emit = (level: LogLevel, message: string): void => {
    if (RANK[level] < threshold) return;
    const time = new Date().toISOString().slice(11, 19);
    const tag = level.toUpperCase().padEnd(5);
    const text = escapeControl(message);
    write(color ? `${DIM}${time}${RESET} ${COLOUR[level]}${tag}${RESET} ${text}` : `${time} ${tag} ${text}`);
  };
  return {
    enabled: (level) => RANK[level] >= threshold,
    debug: (message) => emit("debug", message),
    info: (message) => emit("info", message),
    warn: (message) => emit("warn", message),
    error: (message) => emit("error", message),
    print: (message) => write(message),
  };
}

/** A logger for tests and embedding: drops everything. */
export const silentLogger: Logger = { enabled: () => false, debug() {}, info() {}, warn() {}, error() {}, print() {} };

/**
 * The same logger with `redact` applied to every leveled message, so no console line can carry a
 * secret in clear — whoever wrote it, whatever text (a model name, an upstream message, an error
 * stack) it quotes. Banners (`print`) are the program's own text and pass unchanged.
 */
export function redactingLogger(log: Logger, redact: (text: string) => string): Logger {
  return {
    enabled: log.enabled,
    debug: (message) => log.debug(redact(message)),
    info: (message) => log.info(redact(message)),
    warn: (message) => log.warn(redact(message)),
    error: (message) => log.error(redact(message)),
    print: log.print,
  };
}
