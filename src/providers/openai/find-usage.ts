/**
 * The `usage` of an OpenAI-shaped answer read from its text, without parsing the whole answer:
 * the hot path passes the upstream's bytes on untouched and needs only the token counts, and a
 * long answer costs far more to parse than its few hundred bytes of usage.
 *
 * In valid JSON, `"usage"` preceded by `{` or `,` and followed by `:` can only be a key: inside a
 * string every quote is escaped. The last such key wins (OpenAI-compatible hosts put the top-level
 * usage after the choices; Groq's nested `x_groq.usage`, when present, repeats the same counts).
 */

/** The parsed usage value (`null` when the answer says so), or undefined when there is none or it cannot be read. */
export function findUsage(text: string): { found: true; value: unknown } | { found: false } {
  let at = text.lastIndexOf('"usage"');
  while (at > 0) {
    const value = valueAfterKey(text, at);
    if (value !== undefined) {
      try {
        return { found: true, value: JSON.parse(value) };
      } catch {
        return { found: false };
      }
    }
    at = text.lastIndexOf('"usage"', at - 1);
  }
  return { found: false };
}

/** Starts with `{` and ends with `}`: what a complete JSON object does (a cut-off body does not). */
export function isObjectText(text: string): boolean {
  let first = 0;
  let last = text.length - 1;
  while (first < last && text.charCodeAt(first) <= 32) first++;
  while (last > first && text.charCodeAt(last) <= 32) last--;
  return text[first] === "{" && text[last] === "}";
}

/** The JSON text of the object (or null) after the key that starts at `at`, if it is one. */
function valueAfterKey(text: string, at: number): string | undefined {
  let before = at - 1;
  while (before >= 0 && isSpace(text.charCodeAt(before))) before--;
  const opener = text[before];
  if (opener !== "{" && opener !== ",") return undefined;
  let index = at + '"usage"'.length;
  while (isSpace(text.charCodeAt(index))) index++;
  if (text[index] !== ":") return undefined;
  index++;
  while (isSpace(text.charCodeAt(index))) index++;
  if (text.startsWith("null", index)) return "null";
  if (text[index] !== "{") return undefined;
  const end = endOfObject(text, index);
  return end === undefined ? undefined : text.slice(index, end);
}

/** Index just past the object that opens at `start`, skipping over strings and their escapes. */
function endOfObject(text: string, start: number): number | undefined {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === QUOTE) {
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
    } else if (char === OPEN) {
      depth++;
    } else if (char === CLOSE) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN = 123;
const CLOSE = 125;

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}
