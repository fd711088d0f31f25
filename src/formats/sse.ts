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
      return rest.length > 0 ? [parseBlock(rest)] : [];
    },
  };
}

function parseBlock(block: string): SseEvent {
  let data: string | undefined;
  let event: string | undefined;
  for (const line of block.split("\n")) {
    if (line.startsWith("data:")) {
      const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      data = data === undefined ? value : `${data}\n${value}`;
    } else if (line.startsWith("event:")) {
      event = line.slice(6).trim();
    }
  }
  return { raw: block, data, event };
}

/** One `data:` event, framed. */
export function sseData(payload: string): string {
  return `data: ${payload}\n\n`;
}

export const SSE_DONE = "data: [DONE]\n\n";
