/**
 * Detailed request logging (`--enable-request-logging`): each request gets a folder
 * `<logDir>/detailed_logs/<YYYYMMDD_HHMMSS>_<request id>/` holding
 * - `request.json`: what the client sent (headers and body),
 * - `streaming_chunks.jsonl`: for streams, each chunk as sent, with ms since the request began,
 * - `final_response.json`: the response, or for a stream the message assembled from its chunks,
 * - `metadata.json`: provider, model, status, timings, usage and the decision trace.
 *
 * The request path only records (timestamps, a snapshot of the body); parsing, redaction and
 * every file operation happen later on the write queue. Retention keeps the folder count and the
 * total size under their caps by removing the oldest folders first.
 */

import type { Dirent } from "node:fs";
import { appendFile, mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSseParser } from "../formats/sse.ts";
import type { Redactor } from "./redact.ts";
import { createWriteQueue, type WriteQueue } from "./write-queue.ts";
import { isRecord } from "../formats/is-record.ts";

export const DETAILED_LOGS_DIR = "detailed_logs";

const REQUEST_FILE = "request.json";
const CHUNKS_FILE = "streaming_chunks.jsonl";
const FINAL_FILE = "final_response.json";
const METADATA_FILE = "metadata.json";

/** Only folders named like ours are ever counted or removed. */
const FOLDER_NAME = /^\d{8}_\d{6}_/;
const RETENTION_INTERVAL_MS = 1000;

export interface RequestLogOptions {
  /** The log folder (`settings.logDir`); request folders go in `<dir>/detailed_logs/`. */
  dir: string;
  enabled: boolean;
  redactor: Redactor;
  /** Most request folders kept; default 2000. */
  maxFolders?: number;
  /** Most bytes kept across all request folders; default 512 MiB. */
  maxBytes?: number;
  queue?: WriteQueue;
  now?: () => number;
}

export interface RequestStart {
  requestId: string;
  /** The route as the client called it (`/v1/chat/completions`). */
  route: string;
  method: string;
  headers: Headers;
  /**
   * The client body: its text as received (logged as JSON when it is JSON), or a value, which is
   * snapshotted at once so later changes to it are not logged.
   */
  body: unknown;
  /** Epoch ms. */
  startedAt: number;
}

export interface RequestResult {
  status: number;
  /** The response body (non-stream, or the error of a stream that never started). */
  body?: unknown;
  streamed?: boolean;
  provider?: string;
  model?: string;
  /** The model route the client named, when it named one; `provider`/`model` are its serving target. */
  modelRoute?: string;
  /** The route's targets tried first, which could not serve, with their attempts. */
  fellThrough?: unknown[];
  usage?: object;
  /** The rotation's decision trace: one entry per attempt. */
  trace?: unknown[];
  /** Keys passed over, with why (cooling until …, disabled, at cap). */
  skipped?: unknown[];
  timings: { totalMs: number; firstByteMs?: number };
}

export interface RequestLogEntry {
  /** The request's folder. */
  readonly folder: string;
  /** One chunk of a stream, exactly as sent to the client. */
  chunk(text: string): void;
  /**
   * Writes the final response and the metadata. Call it once for every begun request, failed or
   * not: until then retention leaves the folder alone. Later calls, and chunks after it, are ignored.
   */
  finish(result: RequestResult): void;
}

export interface RequestLog {
  /** Starts a request's log; undefined when request logging is off. */
  begin(info: RequestStart): RequestLogEntry | undefined;
  flush(): Promise<void>;
}

export function createRequestLog(options: RequestLogOptions): RequestLog {
  const root = join(options.dir, DETAILED_LOGS_DIR);
  const maxFolders = options.maxFolders ?? 2000;
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  const clock = options.now ?? Date.now;
  const queue = options.queue ?? createWriteQueue({ maxPending: 1000 });
  const { redactor } = options;
  // Bytes per folder: counted as this process writes, measured once for folders found on disk.
  const sizes = new Map<string, number>();
  // Folders whose request is still running: never removed by retention.
  const active = new Set<string>();
  let lastSweepAt = Number.NEGATIVE_INFINITY;
  let sweepQueued = false;

  const serialise = (value: unknown, indent?: number): string => JSON.stringify(redactor.value(value), null, indent);

  const sweep = async (): Promise<void> => {
    let listing: Dirent[];
    try {
      listing = await readdir(root, { withFileTypes: true });
    } catch {
      return;
    }
    const names = listing.filter((entry) => entry.isDirectory() && FOLDER_NAME.test(entry.name)).map((entry) => entry.name);
    // The name starts with the UTC start time, so name order is age order.
    names.sort();
    const present = new Set(names);
    for (const name of sizes.keys()) if (!present.has(name) && !active.has(name)) sizes.delete(name);
    let total = 0;
    for (const name of names) {
      let size = sizes.get(name);
      if (size === undefined) {
        size = await treeBytes(join(root, name));
        sizes.set(name, size);
      }
      total += size;
    }
    let count = names.length;
    for (const name of names) {
      if (count <= maxFolders && total <= maxBytes) break;
      if (active.has(name)) continue;
      await rm(join(root, name), { recursive: true, force: true });
      count--;
      total -= sizes.get(name) ?? 0;
      sizes.delete(name);
    }
  };

  // At most one sweep a second: listing thousands of folders per request would cost more than the
  // brief overshoot of the caps between sweeps.
  const scheduleSweep = (): void => {
    const now = clock();
    if (sweepQueued || now - lastSweepAt < RETENTION_INTERVAL_MS) return;
    lastSweepAt = now;
    sweepQueued = queue.enqueue(async () => {
      try {
        await sweep();
      } finally {
        sweepQueued = false;
      }
    });
  };

  const begin = (info: RequestStart): RequestLogEntry => {
    const { startedAt } = info;
    const name = folderName(startedAt, redactor.text(info.requestId));
    const folder = join(root, name);
    const headers = Object.fromEntries(info.headers);
    const body = snapshot(info.body);
    let bytes = 0;
    // Set when any write of this request was dropped; the metadata says so.
    let incomplete = false;
    // Chunks wait here until a queued write takes them all at once, so a burst of chunks costs one
    // append; once a chunk write is dropped the stream is no longer recorded.
    let waitingChunks: { t: number; text: string }[] = [];
    let chunkWriteQueued = false;
    let chunksLost = false;
    let chunkCount = 0;
    let firstChunkMs: number | undefined;
    let finished = false;
    const events = createSseParser();
    const assembler = createStreamAssembler(info.route === "/v1/chat/completions" ? "chat" : "events");

    let created = false;
    // node:fs/promises, not Bun.write: Bun.write does its system calls on the JS thread, which
    // under load stalls every response behind the disk (measured in bench/: 45% of that thread).
    const write = async (file: string, content: string, append = false): Promise<void> => {
      if (!created) {
        await mkdir(folder, { recursive: true });
        created = true;
      }
      await (append ? appendFile : writeFile)(join(folder, file), content);
      bytes += Buffer.byteLength(content);
      sizes.set(name, bytes);
    };

    const writeChunks = async (): Promise<void> => {
      chunkWriteQueued = false;
      const batch = waitingChunks;
      waitingChunks = [];
      let lines = "";
      for (const { t, text } of batch) {
        for (const event of events.push(text)) assembler.add(event.data);
        lines += `${serialise({ t, chunk: chunkValue(text) })}\n`;
      }
      await write(CHUNKS_FILE, lines, true);
    };

    const enqueue = (operation: () => Promise<void>): boolean => {
      const queued = queue.enqueue(operation);
      if (!queued) incomplete = true;
      return queued;
    };

    active.add(name);
    enqueue(() =>
      write(REQUEST_FILE, serialise({ requestId: info.requestId, route: info.route, method: info.method, startedAt: new Date(startedAt).toISOString(), headers: redactor.headers(headers), body: body() }, 2)),
    );

    return {
      folder,
      chunk(text) {
        if (finished) return;
        const t = clock() - startedAt;
        chunkCount++;
        firstChunkMs ??= t;
        if (chunksLost) return;
        waitingChunks.push({ t, text });
        if (chunkWriteQueued) return;
        chunkWriteQueued = enqueue(writeChunks);
        if (!chunkWriteQueued) {
          chunksLost = true;
          waitingChunks = [];
        }
      },
      finish(result) {
        if (finished) return;
        finished = true;
        const finishedAt = clock();
        const queued = enqueue(async () => {
          try {
            // Every waiting chunk has a write queued ahead of this one; only a final event without
            // its closing blank line can still be in the parser.
            for (const event of events.end()) assembler.add(event.data);
            const streamed = result.streamed === true && chunkCount > 0;
            await write(FINAL_FILE, serialise(streamed ? assembler.result() : jsonOrText(result.body), 2));
            const metadata = {
              requestId: info.requestId,
              route: info.route,
              method: info.method,
              ...(result.modelRoute !== undefined ? { model_route: result.modelRoute, fell_through: result.fellThrough ?? [] } : {}),
              provider: result.provider,
              model: result.model,
              status: result.status,
              streamed: result.streamed === true,
              startedAt: new Date(startedAt).toISOString(),
              finishedAt: new Date(finishedAt).toISOString(),
              timings: {
                totalMs: result.timings.totalMs,
                firstByteMs: result.timings.firstByteMs ?? firstChunkMs,
                upstreamMs: (result.trace ?? []).map((attempt) => (isRecord(attempt) && typeof attempt.durationMs === "number" ? attempt.durationMs : null)),
              },
              usage: result.usage,
              chunks: result.streamed === true ? chunkCount : undefined,
              attempts: result.trace ?? [],
              skipped: result.skipped ?? [],
              incomplete: incomplete || undefined,
            };
            await write(METADATA_FILE, serialise(metadata, 2));
          } finally {
            active.delete(name);
          }
        });
        if (!queued) active.delete(name);
        scheduleSweep();
      },
    };
  };

  return {
    begin: (info) => (options.enabled ? begin(info) : undefined),
    flush: () => queue.flush(),
  };
}

/** `<YYYYMMDD_HHMMSS>_<id>` in UTC; the id is cut down to characters safe in any file system. */
export function folderName(startedAt: number, requestId: string): string {
  const iso = new Date(startedAt).toISOString();
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
  const id = requestId.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100);
  return `${stamp}_${id || "request"}`;
}

/**
 * A copy of the body taken now and parsed back when the log is written: the server may rework the
 * parsed body afterwards, and the log should show what the client sent.
 */
function snapshot(body: unknown): () => unknown {
  // Text as the client sent it is immutable already; it is parsed when written, off the request path.
  if (typeof body === "string") return () => jsonOrText(body);
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch {
    // Not JSON (a cycle, a BigInt): logging must never fail the request.
    return () => "[body not serialisable as JSON]";
  }
  return () => (text === undefined ? null : JSON.parse(text));
}

/** A body as JSON when it is JSON text, else as it came. */
function jsonOrText(body: unknown): unknown {
  if (typeof body !== "string") return body ?? null;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** A chunk holding one `data:` event with a JSON payload is logged as that payload, else as text. */
function chunkValue(text: string): unknown {
  const parser = createSseParser();
  const parsed = [...parser.push(text), ...parser.end()];
  const data = parsed.length === 1 ? parsed[0]!.data : undefined;
  if (data !== undefined) {
    try {
      return JSON.parse(data);
    } catch {
      // `[DONE]` and other non-JSON payloads fall through to the raw text.
    }
  }
  return text;
}

interface StreamAssembler {
  add(data: string | undefined): void;
  result(): unknown;
}

interface ToolCallState {
  id?: string;
  type: string;
  name: string;
  arguments: string;
}

interface ChoiceState {
  role?: string;
  content: string | null;
  reasoning: string;
  refusal: string | null;
  toolCalls: Map<number, ToolCallState>;
  finishReason: unknown;
}

/**
 * Rebuilds what a stream said. The chat route's chunks fold into one `chat.completion` (content,
 * reasoning, tool calls joined by index, finish reason, usage); the other dialects' events
 * (Anthropic Messages, the Responses API, Gemini) have no single merged form worth inventing here,
 * so they are kept as the ordered list of event payloads. The route says which — guessing from the
 * first event once took a Responses stream for an Anthropic one.
 */
function createStreamAssembler(kind: "chat" | "events"): StreamAssembler {
  const events: unknown[] = [];
  const choices = new Map<number, ChoiceState>();
  const head: { id?: unknown; created?: unknown; model?: unknown; system_fingerprint?: unknown } = {};
  let usage: unknown;
  let error: unknown;

  const addOpenAI = (chunk: Record<string, unknown>): void => {
    head.id ??= chunk.id;
    head.created ??= chunk.created;
    head.model ??= chunk.model;
    head.system_fingerprint ??= chunk.system_fingerprint ?? undefined;
    if (isRecord(chunk.usage)) usage = chunk.usage;
    if (chunk.error !== undefined) error = chunk.error;
    for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) {
      if (!isRecord(choice)) continue;
      const index = typeof choice.index === "number" ? choice.index : 0;
      let state = choices.get(index);
      if (!state) {
        state = { content: null, reasoning: "", refusal: null, toolCalls: new Map(), finishReason: null };
        choices.set(index, state);
      }
      const delta = isRecord(choice.delta) ? choice.delta : {};
      if (typeof delta.role === "string") state.role = delta.role;
      if (typeof delta.content === "string") state.content = (state.content ?? "") + delta.content;
      if (typeof delta.refusal === "string") state.refusal = (state.refusal ?? "") + delta.refusal;
      // Providers differ on the name of the reasoning field.
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (typeof reasoning === "string") state.reasoning += reasoning;
      for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
        if (!isRecord(call)) continue;
        const callIndex = typeof call.index === "number" ? call.index : state.toolCalls.size;
        let toolCall = state.toolCalls.get(callIndex);
        if (!toolCall) {
          toolCall = { type: "function", name: "", arguments: "" };
          state.toolCalls.set(callIndex, toolCall);
        }
        if (typeof call.id === "string") toolCall.id = call.id;
        if (typeof call.type === "string") toolCall.type = call.type;
        const fn = isRecord(call.function) ? call.function : {};
        if (typeof fn.name === "string") toolCall.name += fn.name;
        if (typeof fn.arguments === "string") toolCall.arguments += fn.arguments;
      }
      if (choice.finish_reason !== undefined && choice.finish_reason !== null) state.finishReason = choice.finish_reason;
    }
  };

  return {
    add(data) {
      if (data === undefined || data === "[DONE]") return;
      let payload: unknown;
      try {
        payload = JSON.parse(data);
      } catch {
        return;
      }
      if (!isRecord(payload)) return;
      if (kind === "events") events.push(payload);
      else addOpenAI(payload);
    },
    result() {
      if (kind === "events") return events;
      return {
        id: head.id,
        object: "chat.completion",
        created: head.created,
        model: head.model,
        system_fingerprint: head.system_fingerprint,
        choices: [...choices.entries()]
          .sort(([a], [b]) => a - b)
          .map(([index, state]) => ({
            index,
            message: {
              role: state.role ?? "assistant",
              content: state.content,
              reasoning_content: state.reasoning === "" ? undefined : state.reasoning,
              refusal: state.refusal ?? undefined,
              tool_calls:
                state.toolCalls.size === 0
                  ? undefined
                  : [...state.toolCalls.entries()]
                      .sort(([a], [b]) => a - b)
                      .map(([, call]) => ({ id: call.id, type: call.type, function: { name: call.name, arguments: call.arguments } })),
            },
            finish_reason: state.finishReason,
          })),
        usage,
        error,
      };
    },
  };
}

/** Bytes under a folder, counted when a folder from an earlier run is first seen. */
async function treeBytes(path: string): Promise<number> {
  let total = 0;
  let entries: Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) total += await treeBytes(child);
    else total += await stat(child).then((info) => info.size, () => 0);
  }
  return total;
}
