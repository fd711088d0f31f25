/**
 * What people paste or type into setup, made into clean values: provider keys split out of
 * pasted text (one per line, comma- or space-separated), keys that look wrong flagged for a
 * second look, provider names, base URLs, host and port checked, and terminal paste handling.
 *
 * Odd-looking keys are flagged, never rejected: providers change their key formats, and a
 * local server may take any placeholder.
 */

import { discoverProviders } from "../src/config/discover-providers.ts";
import { ConfigError } from "../src/config/paths.ts";
import { catalogEntry } from "../src/providers/catalog.ts";

export interface FlaggedKey {
  key: string;
  /** Short phrases, e.g. `shorter than 8 characters`. */
  reasons: string[];
}

export interface PastedKeys {
  /** Distinct keys in the order pasted, flagged ones included. */
  keys: string[];
  /** Repeats dropped from the paste. */
  duplicates: number;
  /** The keys among `keys` that look wrong, with why. */
  flagged: FlaggedKey[];
}

/** State carried between chunks by `foldPastedLineBreaks`. */
export interface PasteState {
  inPaste: boolean;
  /** The start of a paste marker cut off at the end of the last chunk. */
  pending: string;
}

/** Terminal sequences that switch bracketed paste on and off: pastes then arrive wrapped in markers. */
export const BRACKETED_PASTE_ON = "\x1b[?2004h";
export const BRACKETED_PASTE_OFF = "\x1b[?2004l";

/** Shortest key accepted without a flag; real provider keys are far longer. */
const MIN_KEY_LENGTH = 8;

/**
 * Prefixes providers put on every key they issue. Only long-standing, documented ones: a
 * stale entry would flag good keys.
 */
const KEY_PREFIXES: Readonly<Record<string, string>> = {
  openai: "sk-",
  anthropic: "sk-ant-",
  gemini: "AIza",
  groq: "gsk_",
  openrouter: "sk-or-",
  nvidia_nim: "nvapi-",
  xai: "xai-",
  perplexity: "pplx-",
  deepseek: "sk-",
  cerebras: "csk-",
};

const PASTE_START = "\x1b[200~";
const PASTE_END = "\x1b[201~";
const PROVIDER_NAME = /^[a-z][a-z0-9_]*$/;

/** Splits pasted text into keys: line breaks, commas and spaces separate; surrounding quotes are dropped. */
export function parsePastedKeys(text: string, provider?: string): PastedKeys {
  const keys: string[] = [];
  let duplicates = 0;
  for (const token of text.split(/[\s,]+/)) {
    const key = unwrapQuotes(token);
    if (key === "") continue;
    if (keys.includes(key)) duplicates++;
    else keys.push(key);
  }
  const flagged = keys.flatMap((key) => {
    const reasons = keyProblems(key, provider);
    return reasons.length === 0 ? [] : [{ key, reasons }];
  });
  return { keys, duplicates, flagged };
}

/** Why a key looks wrong for a provider (empty when it looks fine). Never includes the key. */
export function keyProblems(key: string, provider?: string): string[] {
  const reasons: string[] = [];
  if (/\s/.test(key)) reasons.push("contains spaces");
  if (/["'`]/.test(key)) reasons.push("contains quotes");
  // Zero-width spaces and other invisible characters come along with text copied from web pages.
  if (/[^\x21-\x7e]/.test(key.replace(/\s/g, ""))) reasons.push("contains invisible or non-ASCII characters");
  if (key.length < MIN_KEY_LENGTH) reasons.push(`shorter than ${MIN_KEY_LENGTH} characters`);
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(key)) reasons.push("looks like NAME=value; paste only the value");
  const prefix = provider === undefined ? undefined : KEY_PREFIXES[provider];
  if (prefix !== undefined && !key.startsWith(prefix)) {
    reasons.push(`${catalogEntry(provider!)?.displayName ?? provider} keys start with "${prefix}"`);
  }
  return reasons;
}

/**
 * Why a custom provider name is unusable, or undefined when it is fine. The name becomes
 * the model prefix and the variable names (`<NAME>_API_KEY_1`, `<NAME>_API_BASE`).
 */
export function providerNameProblem(name: string): string | undefined {
  if (!PROVIDER_NAME.test(name)) return "Use lower-case letters, digits and underscores, starting with a letter (e.g. ollama).";
  // PROXY_API_KEY is the proxy's own secret, not a provider key.
  if (name === "proxy") return `"proxy" is reserved for PROXY_API_KEY; pick another name.`;
  if (catalogEntry(name) !== undefined) return `${name} is a known provider; pick it from the list instead.`;
  return undefined;
}

/** Why a base URL is unusable (the proxy's own rule, worded the same), or undefined when it is fine. */
export function baseUrlProblem(url: string): string | undefined {
  try {
    discoverProviders({ CHECK_API_KEY: "x", CHECK_API_BASE: url });
    return undefined;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.replace(/^CHECK_API_BASE must/, "The base URL must");
  }
}

/** The port typed (trimmed), when it is one the proxy accepts as PORT: a whole number from 1 to 65535. */
export function parsePort(text: string): number | undefined {
  const trimmed = text.trim();
  const port = /^\d{1,5}$/.test(trimmed) ? Number(trimmed) : NaN;
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** True when the proxy accepts `text` (trimmed) as HOST: one word, no spaces. */
export function isHostName(text: string): boolean {
  return /^\S+$/.test(text.trim());
}

/** A base URL as it is stored: trimmed, without trailing slashes. */
export function normaliseBaseUrl(url: string): string {
  return url.trim().replace(/\/+$/, "");
}

export function newPasteState(): PasteState {
  return { inPaste: false, pending: "" };
}

/**
 * Rewrites terminal input so that a paste of several lines becomes one line: a single-line
 * prompt would otherwise submit at the first line break and lose the rest. Line breaks
 * between bracketed-paste markers become spaces (the markers are removed). Terminals
 * without bracketed paste deliver a paste as one chunk, so line breaks with more text
 * after them in the same chunk are also a paste; trailing ones are one press of Enter.
 */
export function foldPastedLineBreaks(chunk: string, state: PasteState): string {
  let input = state.pending + chunk;
  state.pending = "";
  const cut = partialMarkerLength(input);
  if (cut > 0) {
    state.pending = input.slice(-cut);
    input = input.slice(0, -cut);
  }
  let out = "";
  let rest = input;
  while (rest !== "") {
    const marker = state.inPaste ? PASTE_END : PASTE_START;
    const at = rest.indexOf(marker);
    const part = at === -1 ? rest : rest.slice(0, at);
    out += state.inPaste ? part.replace(/[\r\n]+/g, " ") : part.replace(/[\r\n]+(?=[^\r\n])/g, " ").replace(/[\r\n]{2,}$/, "\r");
    if (at === -1) break;
    state.inPaste = !state.inPaste;
    rest = rest.slice(at + marker.length);
  }
  return out;
}

/** A pair of matching quotes around a token (from JSON or a quoted .env line) is not part of the key. */
function unwrapQuotes(token: string): string {
  const match = /^(["'`])(.*)\1$/s.exec(token);
  return match === null ? token : match[2]!;
}

/**
 * How many characters at the end of `text` could be the start of a paste marker. A lone
 * ESC is not held back: it is the Escape key far more often than half a marker.
 */
function partialMarkerLength(text: string): number {
  for (let n = Math.min(PASTE_START.length - 1, text.length); n > 1; n--) {
    const tail = text.slice(-n);
    if (PASTE_START.startsWith(tail) || PASTE_END.startsWith(tail)) return n;
  }
  return 0;
}
