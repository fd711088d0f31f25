/**
 * The `.env` as an editable document. Setup changes a few variables in a file the user may
 * have written by hand, so the document keeps every byte it does not change: comments,
 * blank lines, unknown variables, ordering, `export ` prefixes, inline comments, quoting,
 * CRLF line ends. Rendering an untouched document gives back the exact input text.
 *
 * Editing functions are pure: each returns a new document and leaves its argument alone, so
 * the wizard can keep the original for "cancel" and compare before writing. Values are read
 * with the proxy's own reader (`parseEnvFile`), so the editor and the server never disagree
 * about what a line means.
 *
 * `readEnvText`, `loadEnvDocument` and `writeEnvFileAtomic` are the only functions here that
 * touch the disk.
 */

import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, realpath, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { providerOfKeyVar } from "../src/config/discover-providers.ts";
import { parseEnvFile } from "../src/config/env-file.ts";
import { ConfigError } from "../src/config/paths.ts";
import { EXAMPLE_PROXY_API_KEY } from "../src/config/settings.ts";
import { catalogEntry } from "../src/providers/catalog.ts";

export interface EnvLine {
  /** The exact text, line end included; several physical lines for a quoted multi-line value. */
  readonly raw: string;
  /** Variable name, for `NAME=value` lines only. */
  readonly name?: string;
  /** The value as the proxy reads it, for `NAME=value` lines only. */
  readonly value?: string;
}

export interface EnvDocument {
  readonly lines: readonly EnvLine[];
  /** Line end for new lines: CRLF when the file already uses it, so Windows files stay uniform. */
  readonly eol: "\n" | "\r\n";
}

export interface AddedKey {
  name: string;
  key: string;
}

export interface AddKeysResult {
  doc: EnvDocument;
  /** Keys written, with the variable each went to. */
  added: AddedKey[];
  /** Keys not written because the provider already has them (or they repeat in the input). */
  skipped: string[];
}

export interface RemoveKeyResult {
  doc: EnvDocument;
  /** Variables deleted (one key can sit in several variables; all go). */
  removed: string[];
  /** `<NAME>_API_BASE` deleted with the last key of a custom provider, which cannot start without one. */
  removedBase?: string;
}

export interface ProviderKeyVar {
  name: string;
  key: string;
}

/** Text of a `.env` created by setup, before any variable is added. */
export const NEW_ENV_TEXT =
  "# llm-key-proxy settings, written by `llm-key-proxy setup`.\n" +
  "# Edit freely: setup keeps comments and every line it does not change. .env.example describes each variable.\n" +
  "\n";

/** How a saved file's permissions are described to the user; Windows has no owner-only mode bits. */
export const PERMISSIONS_NOTE = process.platform === "win32" ? "" : " (owner-only permissions)";

const ASSIGNMENT = /^(\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=)(.*)$/s;
const COMMENTED_ASSIGNMENT = /^\s*#\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;
const LINE_END = /(\r\n|\r|\n)$/;
/** Values made only of these characters are written bare; anything else is quoted. */
const BARE_VALUE = /^[A-Za-z0-9_\-.:/+=@%~,]*$/;

/**
 * Parses `.env` text. Throws the reader's ConfigError (naming a line, never its text) on a
 * broken file; `source` names the file in that message.
 */
export function parseEnvDocument(text: string, source?: string): EnvDocument {
  // Validate with the reader the proxy uses, so setup refuses exactly the files the proxy refuses.
  parseEnvFile(text, source);
  const physical = text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
  const lines: EnvLine[] = [];
  for (let i = 0; i < physical.length; i++) {
    let raw = physical[i]!;
    const body = raw.replace(/^\uFEFF/, "").replace(LINE_END, "");
    const match = ASSIGNMENT.exec(body.trimStart().startsWith("#") ? "" : body);
    if (match === null) {
      lines.push({ raw });
      continue;
    }
    // A quoted value may continue over following lines; gather them into one entry.
    while (quoteEnd(valueText(raw)) === null && i + 1 < physical.length) raw += physical[++i]!;
    const name = match[2]!;
    lines.push({ raw, name, value: parseEnvFile(raw).get(name) ?? "" });
  }
  return { lines, eol: text.includes("\r\n") ? "\r\n" : "\n" };
}

/** The document as text: byte-identical to the parsed input where nothing was changed. */
export function renderEnvDocument(doc: EnvDocument): string {
  return doc.lines.map((line) => line.raw).join("");
}

/** Variables in first-appearance order; a later duplicate's value wins, as when the proxy reads the file. */
export function envVars(doc: EnvDocument): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of doc.lines) if (line.name !== undefined) vars.set(line.name, line.value!);
  return vars;
}

/** The effective value of a variable, or undefined when the file does not set it. */
export function getVar(doc: EnvDocument, name: string): string | undefined {
  return envVars(doc).get(name);
}

/** Non-blank key variables of a provider in file order, each key once (the first variable holding it). */
export function providerKeys(doc: EnvDocument, provider: string): ProviderKeyVar[] {
  const seen = new Set<string>();
  const result: ProviderKeyVar[] = [];
  for (const [name, value] of envVars(doc)) {
    const key = value.trim();
    if (providerOfKeyVar(name) !== provider || key === "" || seen.has(key)) continue;
    seen.add(key);
    result.push({ name, key });
  }
  return result;
}

/** Providers with at least one non-blank key, in the order of their first key. */
export function configuredProviders(doc: EnvDocument): string[] {
  const providers = new Set<string>();
  for (const [name, value] of envVars(doc)) {
    const provider = providerOfKeyVar(name);
    if (provider !== null && value.trim() !== "") providers.add(provider);
  }
  return [...providers];
}

/**
 * Adds keys to a provider. Keys it already has, and repeats within `keys`, are skipped.
 * Blank key lines of the provider (`GROQ_API_KEY=` from a copied template) are filled first;
 * then new variables `<P>_API_KEY_<N>` continue after the highest existing N (a bare
 * `<P>_API_KEY` counts as 1). New lines go after the provider's last key line, else beside
 * a commented-out example of its variable, else after the last key of any provider, else at
 * the end. `baseUrl` sets `<P>_API_BASE`, placed just before the provider's first key.
 */
export function addProviderKeys(
  doc: EnvDocument,
  provider: string,
  keys: readonly string[],
  options: { baseUrl?: string } = {},
): AddKeysResult {
  const prefix = `${provider.toUpperCase()}_API_KEY`;
  const known = new Set(providerKeys(doc, provider).map((k) => k.key));
  const added: AddedKey[] = [];
  const skipped: string[] = [];
  let lines = [...doc.lines];

  const fresh: string[] = [];
  for (const raw of keys) {
    const key = raw.trim();
    if (key === "") continue;
    if (known.has(key)) skipped.push(key);
    else fresh.push(key);
    known.add(key);
  }

  // Only a name's last assignment counts when the file is read, so only that one is filled.
  const blanks = lines
    .map((line, index) => ({ line, index }))
    .filter(
      ({ line, index }) =>
        line.name !== undefined &&
        providerOfKeyVar(line.name) === provider &&
        line.value!.trim() === "" &&
        lines.findLastIndex((l) => l.name === line.name) === index,
    );
  for (const { line, index } of blanks) {
    const key = fresh.shift();
    if (key === undefined) break;
    lines[index] = withValue(line, key);
    added.push({ name: line.name!, key });
  }

  if (fresh.length > 0) {
    let next = highestKeyIndex(lines, prefix) + 1;
    const taken = new Set(lines.flatMap((l) => (l.name === undefined ? [] : [l.name])));
    const newLines = fresh.map((key) => {
      while (taken.has(`${prefix}_${next}`)) next++;
      const name = `${prefix}_${next++}`;
      added.push({ name, key });
      return assignmentLine(name, key, doc.eol);
    });
    lines = insertAt(lines, keyInsertionPoint(lines, provider), newLines, doc.eol);
  }

  let result: EnvDocument = { ...doc, lines };
  if (options.baseUrl !== undefined) result = setProviderBase(result, provider, options.baseUrl);
  return { doc: result, added, skipped };
}

/**
 * Removes a key from a provider: every variable of that provider holding it. When that was
 * the last key of a custom provider, its `<NAME>_API_BASE` goes too, because the proxy
 * refuses to start with a custom base that has no key.
 */
export function removeProviderKey(doc: EnvDocument, provider: string, key: string): RemoveKeyResult {
  const target = key.trim();
  const removed: string[] = [];
  const lines = doc.lines.filter((line) => {
    const match = line.name !== undefined && providerOfKeyVar(line.name) === provider && line.value!.trim() === target;
    if (match) removed.push(line.name!);
    return !match;
  });
  let result: EnvDocument = { ...doc, lines };
  const baseName = `${provider.toUpperCase()}_API_BASE`;
  if (removed.length > 0 && providerKeys(result, provider).length === 0 && catalogEntry(provider) === undefined && getVar(result, baseName) !== undefined) {
    result = unsetVar(result, baseName);
    return { doc: result, removed, removedBase: baseName };
  }
  return { doc: result, removed };
}

/**
 * Sets a variable. An existing assignment is changed in place (the last one, which is the
 * one that counts), keeping its `export `, spacing and inline comment. A new one goes after
 * a commented-out example of it (`# PORT=8000`), so it lands in its section, else at the end.
 */
export function setVar(doc: EnvDocument, name: string, value: string): EnvDocument {
  const lines = [...doc.lines];
  const last = lines.findLastIndex((line) => line.name === name);
  if (last !== -1) {
    lines[last] = withValue(lines[last]!, value);
    return { ...doc, lines };
  }
  const example = lines.findLastIndex((line) => COMMENTED_ASSIGNMENT.exec(line.raw)?.[1] === name);
  const at = example === -1 ? lines.length : example + 1;
  return { ...doc, lines: insertAt(lines, at, [assignmentLine(name, value, doc.eol)], doc.eol) };
}

/** Removes every assignment of a variable; comments mentioning it stay. */
export function unsetVar(doc: EnvDocument, name: string): EnvDocument {
  return { ...doc, lines: doc.lines.filter((line) => line.name !== name) };
}

/** A new proxy secret: 32 random bytes, base64url, with a recognisable prefix (47 characters). */
export function generateProxyKey(): string {
  return `lkp-${randomBytes(32).toString("base64url")}`;
}

/** True when PROXY_API_KEY must be generated: unset, blank, or still the public .env.example placeholder. */
export function proxyKeyMissing(value: string | undefined): boolean {
  return value === undefined || value.trim() === "" || value.trim() === EXAMPLE_PROXY_API_KEY;
}

/** The file's text, or null when it does not exist. */
export async function readEnvText(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    throw new ConfigError(`${path} could not be read (${code ?? String(error)}).`);
  }
}

/**
 * Opens a `.env` for editing: its text as it was (null when there is no file yet, which then
 * starts from NEW_ENV_TEXT) and the document. The wizard and `setup --flags` both start here,
 * so they read, create and refuse files alike.
 */
export async function loadEnvDocument(path: string): Promise<{ original: string | null; doc: EnvDocument }> {
  const original = await readEnvText(path);
  return { original, doc: parseEnvDocument(original ?? NEW_ENV_TEXT, path) };
}

/**
 * Replaces a file's contents so that a crash or a full disk leaves either the old or the new
 * file, never half of one: a temp file in the same folder (rename is only atomic within one
 * file system) is written, flushed to disk, then renamed over the target. The result is
 * readable by its owner only, because it holds secrets. A symlinked `.env` stays a symlink:
 * its target is replaced.
 */
export async function writeEnvFileAtomic(path: string, text: string): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    // The mode given to open() is reduced by the umask; set it outright.
    await chmod(target, 0o600);
  } catch (error) {
    await rm(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(`Could not write ${path} (${code}); the file was left as it was.`);
  }
  await syncFolder(dir);
}

/** The highest N among `<prefix>_<N>` variables; a bare `<prefix>` counts as 1; 0 when there are none. */
function highestKeyIndex(lines: readonly EnvLine[], prefix: string): number {
  let highest = 0;
  for (const { name } of lines) {
    if (name === undefined) continue;
    const upper = name.toUpperCase();
    if (upper === prefix) highest = Math.max(highest, 1);
    const suffix = upper.startsWith(`${prefix}_`) ? upper.slice(prefix.length + 1) : "";
    if (/^\d+$/.test(suffix)) highest = Math.max(highest, Number(suffix));
  }
  return highest;
}

/** Where a provider's new key lines belong (an index to insert before). */
function keyInsertionPoint(lines: readonly EnvLine[], provider: string): number {
  const isKeyVar = (name: string | undefined) => name !== undefined && providerOfKeyVar(name) !== null;
  const commented = (line: EnvLine) => COMMENTED_ASSIGNMENT.exec(line.raw)?.[1];
  const candidates = [
    lines.findLastIndex((l) => l.name !== undefined && providerOfKeyVar(l.name) === provider),
    lines.findLastIndex((l) => { const n = commented(l); return n !== undefined && providerOfKeyVar(n) === provider; }),
    lines.findLastIndex((l) => isKeyVar(l.name)),
    lines.findLastIndex((l) => isKeyVar(commented(l))),
  ];
  const found = candidates.find((index) => index !== -1);
  return found === undefined ? lines.length : found + 1;
}

/** Sets `<P>_API_BASE` in place, or inserts it right before the provider's first key line. */
function setProviderBase(doc: EnvDocument, provider: string, baseUrl: string): EnvDocument {
  const name = `${provider.toUpperCase()}_API_BASE`;
  if (doc.lines.some((line) => line.name === name)) return setVar(doc, name, baseUrl);
  const firstKey = doc.lines.findIndex((l) => l.name !== undefined && providerOfKeyVar(l.name) === provider);
  const at = firstKey === -1 ? doc.lines.length : firstKey;
  return { ...doc, lines: insertAt([...doc.lines], at, [assignmentLine(name, baseUrl, doc.eol)], doc.eol) };
}

/** Inserts lines before index `at`, giving a last line without a line end one first. */
function insertAt(lines: EnvLine[], at: number, added: EnvLine[], eol: string): EnvLine[] {
  const before = lines[at - 1];
  if (before !== undefined && !LINE_END.test(before.raw)) lines[at - 1] = { ...before, raw: before.raw + eol };
  lines.splice(at, 0, ...added);
  return lines;
}

function assignmentLine(name: string, value: string, eol: string): EnvLine {
  return { raw: `${name}=${formatValue(value)}${eol}`, name, value };
}

/** The same line with a new value, keeping everything around the value. */
function withValue(line: EnvLine, value: string): EnvLine {
  const eol = LINE_END.exec(line.raw)?.[0] ?? "";
  const body = line.raw.slice(0, line.raw.length - eol.length);
  const match = ASSIGNMENT.exec(body)!;
  const head = match[1]!;
  const rest = match[3]!;
  const end = quoteEnd(rest);
  // The spaces around the value and an inline comment after it stay as the user wrote them.
  const lead = rest.slice(0, rest.length - rest.trimStart().length);
  const tail = end !== null && end > 0 ? rest.slice(end) : unquotedTail(rest);
  return { raw: `${head}${lead}${formatValue(value)}${tail}${eol}`, name: line.name, value };
}

/** Text after the `=` of an assignment line (which may span lines). */
function valueText(raw: string): string {
  const match = ASSIGNMENT.exec(raw.replace(/^\uFEFF/, ""));
  return match === null ? "" : match[3]!;
}

/**
 * For a value that starts (after spaces) with a quote: the index just past its closing quote,
 * or null when it is not closed yet. For an unquoted value: 0.
 */
function quoteEnd(text: string): number | null {
  const start = text.length - text.trimStart().length;
  const quote = text[start];
  if (quote !== '"' && quote !== "'") return 0;
  for (let i = start + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === "\\") i++;
    else if (text[i] === quote) return i + 1;
  }
  return null;
}

/** The inline comment of an unquoted value, with the whitespace before it; "" when there is none. */
function unquotedTail(rest: string): string {
  const comment = /\s#/.exec(rest);
  if (comment === null) return "";
  const beforeComment = rest.slice(0, comment.index + 1);
  const spaces = beforeComment.length - beforeComment.trimEnd().length;
  return rest.slice(comment.index + 1 - spaces);
}

/**
 * A value as the reader will read it back: bare when safe, single-quoted when it has no
 * single quote or line break (nothing inside is special), else double-quoted with escapes.
 */
function formatValue(value: string): string {
  if (BARE_VALUE.test(value)) return value;
  if (!/['\r\n]/.test(value)) return `'${value}'`;
  const escaped = value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r");
  return `"${escaped}"`;
}

/** Flushes the rename itself to disk where the platform allows opening a folder (not Windows). */
async function syncFolder(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The data is written and renamed; a folder that cannot be flushed only weakens crash safety.
  }
}
