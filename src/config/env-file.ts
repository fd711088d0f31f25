/**
 * A small dotenv reader: `KEY=value` lines, `export ` prefixes, `#` comments, single and
 * double quotes, inline comments after unquoted values, CRLF line ends. Later duplicates
 * win, as they would if the file were sourced by a shell.
 *
 * A line that is not `KEY=value` is an error rather than skipped: a key pasted on a line of
 * its own would otherwise vanish without a word. Error messages name the line number only,
 * never its text, because the text is probably a secret.
 */

import { readFile } from "node:fs/promises";
import { ConfigError } from "./paths.ts";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const DOUBLE_QUOTE_ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\" };

/**
 * Parses dotenv text into an ordered map. A later duplicate overwrites the value but the
 * variable keeps its first position (Map semantics), and position decides provider order.
 * `source` only labels error messages.
 */
export function parseEnvFile(text: string, source = "the .env file"): Map<string, string> {
  const vars = new Map<string, string>();
  // Editors on Windows may save a BOM; CRLF becomes LF so quoted multi-line values are clean.
  const src = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  let pos = 0;
  let line = 1;

  while (pos < src.length) {
    const lineEnd = indexOrEnd(src, "\n", pos);
    const raw = src.slice(pos, lineEnd);
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      pos = lineEnd + 1;
      line++;
      continue;
    }

    let rest = trimmed.replace(/^export\s+/, "");
    const name = NAME.exec(rest)?.[0];
    if (name === undefined) throw lineError(source, line, "is not a KEY=value line");
    rest = rest.slice(name.length).trimStart();
    if (!rest.startsWith("=")) throw lineError(source, line, "is not a KEY=value line");
    const afterEquals = rest.slice(1);
    rest = afterEquals.trimStart();

    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      // A quoted value may run over several lines, so scan the whole text from the opening quote.
      const leading = raw.length - raw.trimStart().length;
      const open = pos + leading + (trimmed.length - rest.length);
      const scanned = scanQuoted(src, open, quote);
      if (scanned === null) throw lineError(source, line, `has a ${quote === '"' ? "double" : "single"} quote that is never closed`);
      const { value, end } = scanned;
      const afterEnd = indexOrEnd(src, "\n", end);
      const trailing = src.slice(end, afterEnd).trim();
      if (trailing !== "" && !trailing.startsWith("#")) throw lineError(source, line, "has text after the closing quote");
      vars.set(name, value);
      line += countNewlines(src, pos, afterEnd) + 1;
      pos = afterEnd + 1;
      continue;
    }

    // Unquoted: an inline comment starts at a `#` that follows whitespace, so `a#b` and
    // `KEY=#b` keep their `#` while `KEY= # note` is empty.
    const comment = /\s#/.exec(afterEquals);
    const value = (comment ? afterEquals.slice(0, comment.index) : afterEquals).trim();
    vars.set(name, value);
    pos = lineEnd + 1;
    line++;
  }
  return vars;
}

/** Reads and parses a .env file; null when the file does not exist. */
export async function readEnvFile(path: string): Promise<Map<string, string> | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    throw new ConfigError(`The env file ${path} could not be read (${code ?? "unknown error"}).`);
  }
  return parseEnvFile(text, path);
}

function lineError(source: string, line: number, what: string): ConfigError {
  return new ConfigError(`Line ${line} of ${source} ${what}.`);
}

/** Returns the unescaped value and the index just past the closing quote, or null when unclosed. */
function scanQuoted(src: string, open: number, quote: string): { value: string; end: number } | null {
  let value = "";
  for (let i = open + 1; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === quote) return { value, end: i + 1 };
    if (quote === '"' && ch === "\\" && i + 1 < src.length) {
      const next = src[i + 1]!;
      // Unknown escapes stay as written, so a Windows path like "C:\data" survives.
      value += DOUBLE_QUOTE_ESCAPES[next] ?? "\\" + next;
      i++;
      continue;
    }
    value += ch;
  }
  return null;
}

function indexOrEnd(text: string, search: string, from: number): number {
  const i = text.indexOf(search, from);
  return i === -1 ? text.length : i;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}
