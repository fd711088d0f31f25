/**
 * Server-sent events, incrementally. Upstream bytes arrive in arbitrary pieces; the parser hands
 * back whole events with their original text, so a pass-through proxy can forward an event
 * untouched and only look inside the few it must (errors, usage).
 */

export interface SseEvent {
  /** The event block as received, without the blank line that ended it (CRLF normalised to LF). */
  raw: string;
  /** Joined `data:` lines, or undefined for comment-only / field-less blocks. */
  data: string | undefined;
  /** The `event:` name when present. */
  event: string | undefined;
  /** A line of the block is neither a field nor a comment: the bytes are not SSE. */
  malformed?: true;
  /** The input ended inside this block (no blank line after it): it may be cut short. */
  unterminated?: true;
}

export interface SseParser {
  /** Feed decoded text; returns the events it completed. */
  push(text: string): SseEvent[];
  /** End of input: returns a final event that had no trailing blank line. */
  end(): SseEvent[];
  /** No part of an event is waiting for more text. */
  idle(): boolean;
}

export function createSseParser(): SseParser {
  let buffer = "";
  // A CR at the end of a piece may be the first half of a CRLF split across two pieces.
  let pendingCr = false;

  const take = (): SseEvent[] => {
    const events: SseEvent[] = [];
    let start = 0;
    for (let boundary = buffer.indexOf("\n\n"); boundary !== -1; boundary = buffer.indexOf("\n\n", start)) {
      const block = buffer.slice(start, boundary);
      start = boundary + 2;
      if (block.length > 0) events.push(parseBlock(block));
    }
    buffer = buffer.slice(start);
    return events;
  };

  return {
    push(text) {
      if (pendingCr) text = `\r${text}`;
      pendingCr = text.endsWith("\r");
      if (pendingCr) text = text.slice(0, -1);
      buffer += text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
      return take();
    },
    idle: () => buffer.length === 0 && !pendingCr,
    end() {
      if (pendingCr) buffer += "\n";
      pendingCr = false;
      const rest = buffer.trim();
      buffer = "";
      return rest.length > 0 ? [{ ...parseBlock(rest), unterminated: true }] : [];
    },
  };
}

function parseBlock(block: string): SseEvent {
  let data: string | undefined;
  let event: string | undefined;
  let malformed = false;
  for (const line of block.split("\n")) {
    if (line.startsWith("data:")) {
      const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      data = data === undefined ? value : `${data}\n${value}`;
    } else if (line.startsWith("event:")) {
      event = line.slice(6).trim();
    } else if (!isOtherLine(line)) {
      malformed = true;
    }
  }
  return malformed ? { raw: block, data, event, malformed } : { raw: block, data, event };
}

/** A comment, or one of the fields this parser has no use for. */
function isOtherLine(line: string): boolean {
  return line.charCodeAt(0) === COLON || line.startsWith("id:") || line.startsWith("retry:");
}

/**
 * Whether an event is well-formed with JSON data (or none): SSE lines only, and data that is one
 * object. Inside a stream only its ends are looked at, which is cheap and catches garbage; a block
 * the input ended in may be cut anywhere, so its data must parse.
 */
export function isJsonEvent(event: SseEvent): boolean {
  if (event.malformed) return false;
  const data = event.data;
  if (data === undefined) return true;
  if (event.unterminated) return parsesAsObject(data);
  const text = data.trim();
  return text.charCodeAt(0) === OPEN_BRACE && text.charCodeAt(text.length - 1) === CLOSE_BRACE;
}

function parsesAsObject(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

/**
 * Whether a piece of whole events (ending in a blank line) holds only comments, `event:` lines and
 * one-line `data:` objects — so it may pass untouched. Checks each line's ends only; whatever it
 * lets pass, `isJsonEvent` would accept too.
 */
export function holdsOnlyJsonEvents(text: string): boolean {
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf("\n", start);
    if (end === -1) return false;
    if (end > start && !isPlainJsonLine(text, start, end)) return false;
    start = end + 1;
  }
  return true;
}

function isPlainJsonLine(text: string, start: number, end: number): boolean {
  const first = text.charCodeAt(start);
  if (first === COLON) return true;
  if (text.startsWith("event:", start)) return true;
  if (!text.startsWith("data:", start)) return false;
  const value = text.charCodeAt(start + 5) === 32 ? start + 6 : start + 5;
  return text.charCodeAt(value) === OPEN_BRACE && text.charCodeAt(end - 1) === CLOSE_BRACE;
}

const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

/** One `data:` event, framed. */
export function sseData(payload: string): string {
  return `data: ${payload}\n\n`;
}

export const SSE_DONE = "data: [DONE]\n\n";
