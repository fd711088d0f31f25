/**
 * Request bodies at the edge: valid JSON, an object, no deeper than `MAX_JSON_DEPTH`, and the shape
 * the route needs — or a 400 that says precisely what is wrong (`messages[0].role: must be a string …`).
 */

import type { Context } from "hono";
import type { z } from "zod";
import { invalidRequest, schemaIssueError } from "../errors/proxy-error.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import { checkBody } from "../formats/check-body.ts";

/**
 * Most arrays and objects a body may nest. Real requests (tool schemas included) stay far below it;
 * the converters, the Gemini schema cleaner and JSON.stringify recurse, and a body 100,000 levels deep
 * overflowed their stacks (a 500 after most of a second of CPU) instead of getting a 400.
 */
export const MAX_JSON_DEPTH = 64;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ProxyError };

export async function readJsonRequest<S extends z.ZodType>(c: Context, schema: S): Promise<Parsed<z.infer<S>>> {
  const text = await c.req.text();
  // A test for any non-blank character stops at the first one; trim() would copy the whole body.
  if (!/\S/.test(text)) return { ok: false, error: invalidRequest("The request body is empty; send a JSON object.") };
  if (exceedsJsonDepth(text, MAX_JSON_DEPTH)) {
    return { ok: false, error: invalidRequest(`The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep; the limit is ${MAX_JSON_DEPTH}.`) };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : "parse error";
    return { ok: false, error: invalidRequest(`The request body is not valid JSON (${detail}).`) };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, error: invalidRequest("The request body must be a JSON object.") };
  }
  const result = checkBody(schema, body);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: schemaIssueError(result.error.issues[0]!) };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether JSON text opens more than `max` arrays and objects inside one another, found in one pass
 * without parsing and without recursion, so it runs before JSON.parse on every body. Brackets inside
 * strings do not count: a string is skipped with indexOf to its closing quote (a quote after an odd
 * run of backslashes is escaped). Malformed text gives some answer; JSON.parse reports what is wrong.
 */
export function exceedsJsonDepth(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = closingQuote(text, i + 1);
      if (i === -1) return false;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Index of the quote that closes the string whose content starts at `from`; -1 when none does. */
function closingQuote(text: string, from: number): number {
  for (let at = text.indexOf('"', from); at !== -1; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return -1;
}
