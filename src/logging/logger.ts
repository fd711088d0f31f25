/**
 * Console output: leveled lines, coloured on a terminal and plain otherwise (so log files and CI
 * stay readable). Nothing here ever receives a secret in clear; callers pass masked forms.
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

export function createLogger(options: LoggerOptions): Logger {
  const color = options.color ?? Boolean(process.stdout.isTTY);
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const threshold = RANK[options.level];
  const emit = (level: LogLevel, message: string): void => {
    if (RANK[level] < threshold) return;
    const time = new Date().toISOString().slice(11, 19);
    const tag = level.toUpperCase().padEnd(5);
    write(color ? `${DIM}${time}${RESET} ${COLOUR[level]}${tag}${RESET} ${message}` : `${time} ${tag} ${message}`);
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
