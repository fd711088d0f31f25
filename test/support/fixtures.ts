/**
 * Small readers for the recorded provider fixtures in test/fixtures (see INDEX.md there).
 *
 * Paths are relative to test/fixtures, e.g. "openai/chat-text.json". Files are read once and
 * cached; JSON readers hand out a fresh copy each call so callers may mutate what they get
 * without corrupting the template for the next test.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Absolute path of the fixtures directory. */
export const FIXTURES_DIR = join(import.meta.dir, "..", "fixtures");

/** One event of a `text/event-stream` body. */
export interface SseEvent {
  /** The `event:` name, when the block had one. */
  event?: string;
  /** The `data:` lines joined with "\n" (the SSE rule for multi-line data). */
  data: string;
}

const textCache = new Map<string, string>();
const jsonCache = new Map<string, unknown>();

/** Absolute path of a fixture. */
export function fixturePath(relative: string): string {
  return join(FIXTURES_DIR, relative);
}

/** The exact bytes of a fixture as a string (error bodies are served verbatim from this). */
export function readFixtureText(relative: string): string {
  let text = textCache.get(relative);
  if (text === undefined) {
    text = readFileSync(fixturePath(relative), "utf8");
    textCache.set(relative, text);
  }
  return text;
}

/** A JSON fixture, parsed; a private copy per call. */
export function readFixtureJson<T = any>(relative: string): T {
  if (!jsonCache.has(relative)) jsonCache.set(relative, JSON.parse(readFixtureText(relative)));
  return structuredClone(jsonCache.get(relative)) as T;
}

/**
 * The HTTP status a fixture was recorded with, read from its `error-NNN-` file name prefix.
 * INDEX.md keeps statuses out of the body files, and the names are the only place they live.
 */
export function fixtureStatus(relative: string, fallback = 200): number {
  const match = /(?:^|\/)error-(\d{3})-[^/]*$/.exec(relative);
  return match ? Number(match[1]) : fallback;
}

/**
 * Split an SSE body into events. Handles `\n\n` and `\r\n\r\n` framing, skips `: comment`
 * keep-alives, and tolerates a missing final newline (go-vcr recordings lose it).
 */
export function parseSse(body: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of body.split(/\r?\n\r?\n/)) {
    const data: string[] = [];
    let event: string | undefined;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("data:")) data.push(stripFieldSpace(line.slice(5)));
      else if (line.startsWith("event:")) event = stripFieldSpace(line.slice(6));
    }
    if (data.length > 0) events.push(event === undefined ? { data: data.join("\n") } : { event, data: data.join("\n") });
  }
  return events;
}

/** The events of a recorded `*.sse.txt` fixture. */
export function readSseFixture(relative: string): SseEvent[] {
  return parseSse(readFixtureText(relative));
}

/** The JSON payloads of a recorded SSE fixture, without the `[DONE]` terminator. */
export function readSseJson<T = any>(relative: string): T[] {
  return readSseFixture(relative)
    .filter((e) => e.data !== "[DONE]")
    .map((e) => JSON.parse(e.data) as T);
}

/** The lines of a recorded `*.chunks.txt` fixture (one JSON payload each), blank lines dropped. */
export function readChunkLines(relative: string): string[] {
  return readFixtureText(relative)
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "");
}

/** The payloads of a recorded `*.chunks.txt` fixture, parsed. */
export function readChunksJson<T = any>(relative: string): T[] {
  return readChunkLines(relative).map((line) => JSON.parse(line) as T);
}

/** SSE allows exactly one optional space after the field colon. */
function stripFieldSpace(value: string): string {
  return value.startsWith(" ") ? value.slice(1) : value;
}
