/**
 * `failures.log`: one JSON line per failed upstream attempt, always on, so a key that keeps failing
 * can be traced after the fact without enabling request logging. Lines are redacted and written by
 * the background queue; the file rotates by size (`failures.log` → `.1` → `.2`, oldest dropped).
 */

import { appendFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Redactor } from "./redact.ts";
import { createWriteQueue, type WriteQueue } from "./write-queue.ts";

export const FAILURE_LOG_NAME = "failures.log";

export interface FailureLogOptions {
  /** The log folder (`settings.logDir`); the file is `<dir>/failures.log`. */
  dir: string;
  redactor: Redactor;
  /** Size at which the file rotates; default 5 MiB. */
  maxBytes?: number;
  /** Rotated files kept; default 2. */
  backups?: number;
  queue?: WriteQueue;
  now?: () => number;
}

export interface FailureRecord {
  requestId: string;
  provider: string;
  model: string;
  keyId: string;
  keyMasked: string;
  /** Upstream HTTP status; 0 when no response arrived. */
  status: number;
  /** The failure class (`rate_limit`, `quota`, …). */
  class: string;
  /** The upstream's message. */
  message: string;
  /** What was done to the key (`cooling until …`, `disabled until …`). */
  action?: string;
  /** 1 for the request's first attempt. */
  attempt: number;
}

export interface FailureLog {
  record(entry: FailureRecord): void;
  flush(): Promise<void>;
}

export function createFailureLog(options: FailureLogOptions): FailureLog {
  const maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
  const backups = options.backups ?? 2;
  const clock = options.now ?? Date.now;
  const queue = options.queue ?? createWriteQueue({ maxPending: 1000 });
  const file = join(options.dir, FAILURE_LOG_NAME);
  // Known once the first write has looked at the file; kept in memory after that so a line costs
  // no extra system call.
  let size: number | undefined;

  const rotate = async (): Promise<void> => {
    // Renaming over an existing file fails on some platforms, so the oldest goes first.
    await rm(`${file}.${backups}`, { force: true });
    for (let generation = backups - 1; generation >= 1; generation--) await renameIfPresent(`${file}.${generation}`, `${file}.${generation + 1}`);
    if (backups > 0) await renameIfPresent(file, `${file}.1`);
    else await rm(file, { force: true });
    size = 0;
  };

  const append = async (line: string): Promise<void> => {
    if (size === undefined) {
      await mkdir(options.dir, { recursive: true });
      size = await fileSize(file);
    }
    const bytes = Buffer.byteLength(line);
    if (size > 0 && size + bytes > maxBytes) await rotate();
    await appendFile(file, line);
    size += bytes;
  };

  return {
    record(entry) {
      const time = new Date(clock()).toISOString();
      const { requestId, provider, model, keyId, keyMasked, attempt, status, message, action } = entry;
      const fields = { time, requestId, provider, model, keyId, keyMasked, attempt, status, class: entry.class, message, action };
      // Failures are rare and small, and they are the one log that is always on: never dropped.
      queue.enqueue(() => append(`${JSON.stringify(options.redactor.value(fields))}\n`), { critical: true });
    },
    flush: () => queue.flush(),
  };
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function renameIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}
