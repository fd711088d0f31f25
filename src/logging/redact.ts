/**
 * Redaction for everything the proxy writes to disk: configured secrets (provider keys, the proxy
 * key) become their masked form `…last4`, credential headers become `[redacted]`, and `key=` query
 * parameters inside URLs lose their value. Inputs are never mutated; callers get redacted copies.
 *
 * A deployment may hold ten thousand keys, and a single RegExp alternation of that many literals
 * takes hundreds of milliseconds on a 100 KB body. Instead the secrets are grouped by length and
 * found with one rolling hash per distinct length (keys of one provider share a length), so a scan
 * costs about (text length × distinct lengths) hash steps whatever the number of keys.
 */

import { maskKey } from "../key-identity.ts";

export interface Redactor {
  /** The string with every secret masked and every `key=` query value removed. */
  text(s: string): string;
  /** A plain copy of the headers: credential headers `[redacted]`, the rest passed through `text`. */
  headers(h: Headers | Record<string, string>): Record<string, string>;
  /** A deep copy with every string (and property name) redacted and credential properties blanked. */
  value(v: unknown): unknown;
}

export const REDACTED = "[redacted]";

const SENSITIVE_NAMES = new Set(["authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "cookie"]);

// The value runs to the next parameter, fragment, whitespace, quote or bracket; over-redacting an
// odd URL is fine, leaking a key is not.
const KEY_PARAM = /([?&]key=)[^&#\s"'<>\\]+/gi;

/** Multiplier of the polynomial rolling hash (the FNV prime; any odd 32-bit constant works). */
const BASE = 0x01000193;
const HASH_BITS = 1 << 16;
const HASH_MASK = HASH_BITS - 1;

interface Pattern {
  text: string;
  mask: string;
}

/** All patterns of one length, indexed by their hash. */
interface LengthGroup {
  length: number;
  /** BASE^(length - 1) mod 2^32: the weight of the character leaving the window. */
  leadWeight: number;
  byHash: Map<number, Pattern[]>;
  /**
   * One bit per low 16 bits of a pattern hash: nearly every window of a text misses, and a bit
   * test rules it out far cheaper than the map lookup it spares (a map lookup per character was
   * the bulk of redacting a logged request).
   */
  hashBits: Uint8Array;
}

interface Match {
  start: number;
  end: number;
  mask: string;
}

export function createRedactor(secrets: string[]): Redactor {
  const groups = buildGroups(secrets);

  const text = (s: string): string => {
    const masked = groups.length === 0 ? s : maskSecrets(s, groups);
    return masked.replace(KEY_PARAM, `$1${REDACTED}`);
  };

  const headers = (h: Headers | Record<string, string>): Record<string, string> => {
    const out: Record<string, string> = {};
    const entries = h instanceof Headers ? h.entries() : Object.entries(h);
    for (const [name, raw] of entries) out[text(name)] = SENSITIVE_NAMES.has(name.toLowerCase()) ? REDACTED : text(raw);
    return out;
  };

  // `seen` holds the objects on the current path only, so shared (non-cyclic) references are copied
  // each time they appear, as JSON.stringify would, and only true cycles are cut.
  const walk = (v: unknown, seen: Set<object>): unknown => {
    if (typeof v === "string") return text(v);
    if (v === null || typeof v !== "object") return v;
    if (v instanceof Headers) return headers(v);
    if (seen.has(v)) return "[circular]";
    seen.add(v);
    let out: unknown;
    if (typeof (v as { toJSON?: unknown }).toJSON === "function") {
      // Dates, URLs and the like say how they serialise; redact that form.
      out = walk((v as { toJSON(): unknown }).toJSON(), seen);
    } else if (Array.isArray(v)) {
      out = v.map((item) => walk(item, seen));
    } else {
      const copy: Record<string, unknown> = {};
      for (const [name, item] of Object.entries(v)) {
        copy[text(name)] = SENSITIVE_NAMES.has(name.toLowerCase()) && item !== undefined && item !== null ? REDACTED : walk(item, seen);
      }
      out = copy;
    }
    seen.delete(v);
    return out;
  };

  return { text, headers, value: (v) => walk(v, new Set()) };
}

/**
 * Secrets plus the forms they take once JSON-escaped or URL-encoded (keys with `/`, `+` or `=`
 * change in a query string), each replaced by the secret's mask, grouped by length.
 */
function buildGroups(secrets: string[]): LengthGroup[] {
  const patterns = new Map<string, string>();
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const mask = maskKey(secret);
    patterns.set(encodeURIComponent(secret), mask);
    // Inside JSON text the mask is escaped too, so the redacted text is still valid JSON.
    patterns.set(jsonEscaped(secret), jsonEscaped(mask));
    patterns.set(secret, mask);
  }
  const byLength = new Map<number, LengthGroup>();
  for (const [text, mask] of patterns) {
    let group = byLength.get(text.length);
    if (!group) {
      group = { length: text.length, leadWeight: power(BASE, text.length - 1), byHash: new Map(), hashBits: new Uint8Array(HASH_BITS / 8) };
      byLength.set(text.length, group);
    }
    const hash = hashPrefix(text, text.length);
    group.hashBits[(hash & HASH_MASK) >>> 3]! |= 1 << (hash & 7);
    const bucket = group.byHash.get(hash);
    if (bucket) bucket.push({ text, mask });
    else group.byHash.set(hash, [{ text, mask }]);
  }
  return [...byLength.values()];
}

function jsonEscaped(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

function maskSecrets(s: string, groups: LengthGroup[]): string {
  const matches: Match[] = [];
  for (const group of groups) findAll(s, group, matches);
  if (matches.length === 0) return s;
  matches.sort((a, b) => a.start - b.start || b.end - a.end);
  // Overlapping secrets are masked as one span, so no part of either survives.
  let out = "";
  let at = 0;
  for (let i = 0; i < matches.length; ) {
    let { start, end, mask } = matches[i]!;
    for (i++; i < matches.length && matches[i]!.start < end; i++) {
      if (matches[i]!.end > end) ({ end, mask } = matches[i]!);
    }
    out += s.slice(at, start) + mask;
    at = end;
  }
  return out + s.slice(at);
}

function findAll(s: string, group: LengthGroup, matches: Match[]): void {
  const { length, leadWeight, byHash, hashBits } = group;
  if (s.length < length) return;
  let hash = hashPrefix(s, length);
  for (let start = 0; ; start++) {
    const bucket = (hashBits[(hash & HASH_MASK) >>> 3]! & (1 << (hash & 7))) === 0 ? undefined : byHash.get(hash);
    if (bucket) {
      // A hash hit is only a candidate; the comparison settles it.
      for (const pattern of bucket) {
        if (s.startsWith(pattern.text, start)) matches.push({ start, end: start + length, mask: pattern.mask });
      }
    }
    const next = start + length;
    if (next >= s.length) return;
    hash = (Math.imul((hash - Math.imul(s.charCodeAt(start), leadWeight)) | 0, BASE) + s.charCodeAt(next)) | 0;
  }
}

/** Hash of the first `length` characters. */
function hashPrefix(s: string, length: number): number {
  let hash = 0;
  for (let i = 0; i < length; i++) hash = (Math.imul(hash, BASE) + s.charCodeAt(i)) | 0;
  return hash;
}

function power(base: number, exponent: number): number {
  let result = 1;
  for (let i = 0; i < exponent; i++) result = Math.imul(result, base);
  return result;
}
