/**
 * AWS Signature Version 4 request signing (header form, AWS4-HMAC-SHA256), written on Web Crypto
 * (`crypto.subtle`) so it needs no SDK and runs the same in Bun and Node 20. Bedrock authenticates
 * access-key credentials this way; this module only signs, it never sends.
 *
 * How to form the URL: give `signAwsRequest` the very URL string you will give `fetch`, with every
 * path segment already percent-encoded once, e.g. for Bedrock
 *
 *   `https://bedrock-runtime.${region}.amazonaws.com/model/${encodeURIComponent(modelId)}/converse`
 *
 * which sends `/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse`. The signer reads the path
 * the way `fetch` serializes it (WHATWG `URL`) and, as AWS does for every service but S3, encodes
 * each segment once more for the canonical request: that `%3A` is signed as `%253A`. Encoding the
 * model id with `encodeURIComponent` also keeps an inference-profile ARN (which holds `/`) a single
 * segment. Then send `fetch(url, { method, headers: signedHeaders, body })` with the same body.
 *
 * Not covered: S3's single-encoding and unnormalized-path rules, query-string (presigned URL)
 * signing, SigV4a, and chunked payload signing.
 */

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary (STS) credentials carry one; it is sent and signed as `x-amz-security-token`. */
  sessionToken?: string;
}

interface SigningContext {
  credentials: AwsCredentials;
  region: string;
  service: string;
  /** The signing time; defaults to the current time. AWS rejects a request more than 5 minutes off. */
  now?: Date;
  /** Also send and sign `x-amz-content-sha256` (S3 and a few other services require it). */
  signPayloadHash?: boolean;
}

export interface SignOptions extends SigningContext {
  method: string;
  /** The exact URL that will be passed to `fetch` (see the module comment). */
  url: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

/** A request described as it goes on the wire: `path` and `query` exactly as in the request line. */
export interface SignWireOptions extends SigningContext {
  method: string;
  path: string;
  /** Without the leading `?`; `""` when there is none. */
  query: string;
  /** Every header to sign, `host` included. */
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface SignedRequest {
  /** The input headers plus `x-amz-date`, `authorization` and, when needed, the token and payload hash. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
}

export interface CanonicalRequestParts {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  payloadHash: string;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const encoder = new TextEncoder();

/**
 * Hop-by-hop headers: an HTTP stack or proxy may add, drop or rewrite them on the way, and a signed
 * header that changes in transit breaks the signature, so they are sent but never signed.
 */
const UNSIGNED_HEADERS = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "expect"]);

/**
 * RFC 3986 percent-encoding of everything but the unreserved set `A-Z a-z 0-9 - . _ ~`, as SigV4
 * requires; `encodeURIComponent` alone leaves `! ' ( ) *` bare.
 */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The canonical URI of a wire path: dot segments resolved and empty segments dropped (RFC 3986
 * normalization as AWS applies it), then every segment encoded again, so an already-encoded `%3A`
 * becomes `%253A`. A trailing slash is kept.
 */
export function canonicalUri(path: string): string {
  const rawSegments = path.split("/");
  const segments: string[] = [];
  for (const segment of rawSegments) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  if (segments.length === 0) return "/";
  const last = rawSegments[rawSegments.length - 1];
  const trailingSlash = last === "" || last === "." || last === "..";
  return `/${segments.map(uriEncode).join("/")}${trailingSlash ? "/" : ""}`;
}

function decodeQueryComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A stray `%` that is not an escape: the server sees it literally, so sign it literally.
    return text;
  }
}

/**
 * The canonical query string: each name and value decoded from the wire form, then RFC 3986
 * encoded exactly once (so the wire's encoding choices do not matter), sorted by name then value.
 * A name without `=` gets an empty value. `+` is a literal plus, not a space, as AWS reads it.
 */
export function canonicalQueryString(query: string): string {
  const pairs: Array<[string, string]> = [];
  for (const piece of query.split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const name = eq === -1 ? piece : piece.slice(0, eq);
    const value = eq === -1 ? "" : piece.slice(eq + 1);
    pairs.push([uriEncode(decodeQueryComponent(name)), uriEncode(decodeQueryComponent(value))]);
  }
  // Encoded text is ASCII, so comparing UTF-16 code units is the byte order AWS sorts by.
  const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  pairs.sort((a, b) => byCodeUnit(a[0], b[0]) || byCodeUnit(a[1], b[1]));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

/** Lower-cased names, sorted; values trimmed with inner whitespace runs (newlines too) collapsed to one space. */
function canonicalHeaderEntries(headers: Record<string, string>): Array<[string, string]> {
  const entries = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.trim().toLowerCase();
    if (UNSIGNED_HEADERS.has(lower)) continue;
    // fetch would send both spellings joined with ", ", which no canonical form here can match.
    if (entries.has(lower)) throw new TypeError(`header "${lower}" is given twice (in different letter case)`);
    entries.set(lower, value.trim().replace(/\s+/g, " "));
  }
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The `SignedHeaders` list of a header set: its signed, lower-cased names joined with `;`. */
export function signedHeaderNames(headers: Record<string, string>): string {
  return canonicalHeaderEntries(headers)
    .map(([name]) => name)
    .join(";");
}

/** The six-line canonical request that SigV4 hashes and signs. */
export function canonicalRequest(parts: CanonicalRequestParts): string {
  const entries = canonicalHeaderEntries(parts.headers);
  return [
    parts.method.toUpperCase(),
    canonicalUri(parts.path),
    canonicalQueryString(parts.query),
    entries.map(([name, value]) => `${name}:${value}\n`).join(""),
    entries.map(([name]) => name).join(";"),
    parts.payloadHash,
  ].join("\n");
}

/** `yyyymmdd/region/service/aws4_request`: what the signing key and the signature are bound to. */
export function credentialScope(dateStamp: string, region: string, service: string): string {
  return `${dateStamp}/${region}/${service}/aws4_request`;
}

/** The string to sign, from the request time (`yyyymmddThhmmssZ`), the scope and the canonical request's hex SHA-256. */
export function stringToSign(amzDate: string, scope: string, canonicalRequestHash: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${canonicalRequestHash}`;
}

/** `yyyymmddThhmmssZ` in UTC, the format of `x-amz-date`. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

function bytesOf(data: string | Uint8Array): Uint8Array<ArrayBuffer> {
  if (typeof data === "string") return encoder.encode(data);
  // Web Crypto's types want an ArrayBuffer-backed view; a view over a SharedArrayBuffer is copied.
  return data.buffer instanceof ArrayBuffer ? (data as Uint8Array<ArrayBuffer>) : new Uint8Array(data);
}

/** Lower-case hex SHA-256, the form SigV4 uses for the payload and the canonical request. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", bytesOf(data)));
}

async function hmac(key: Uint8Array<ArrayBuffer>, data: string): Promise<Uint8Array<ArrayBuffer>> {
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(data)));
}

/**
 * Derived signing keys change only daily, and deriving one costs four HMACs, so they are kept,
 * at most this many (one per secret, day, region and service); the oldest is dropped first.
 */
const SIGNING_KEY_CACHE_LIMIT = 64;
const signingKeys = new Map<string, Promise<CryptoKey>>();

async function deriveSigningKey(secretAccessKey: string, dateStamp: string, region: string, service: string): Promise<CryptoKey> {
  const kDate = await hmac(encoder.encode(`AWS4${secretAccessKey}`), dateStamp);
  const kRegion = await hmac(kDate, region);
  const kService = await hmac(kRegion, service);
  const kSigning = await hmac(kService, "aws4_request");
  return crypto.subtle.importKey("raw", kSigning, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

/** The HMAC key for `yyyymmdd/region/service`, derived from the secret by the SigV4 HMAC chain; cached. */
export function signingKey(secretAccessKey: string, dateStamp: string, region: string, service: string): Promise<CryptoKey> {
  const cacheKey = `${secretAccessKey}\n${dateStamp}\n${region}\n${service}`;
  const cached = signingKeys.get(cacheKey);
  if (cached) return cached;
  const derived = deriveSigningKey(secretAccessKey, dateStamp, region, service);
  // A failed derivation must not stay cached, or every later request would fail the same way.
  derived.catch(() => signingKeys.delete(cacheKey));
  if (signingKeys.size >= SIGNING_KEY_CACHE_LIMIT) {
    const oldest = signingKeys.keys().next().value;
    if (oldest !== undefined) signingKeys.delete(oldest);
  }
  signingKeys.set(cacheKey, derived);
  return derived;
}

/**
 * Sign a request given as it goes on the wire. Any `x-amz-date` or `authorization` the caller
 * passed is replaced (as is `x-amz-security-token` when the credentials carry a token), in any
 * letter case, so the result never holds two of them.
 */
export async function signWireRequest(options: SignWireOptions): Promise<SignedRequest> {
  const { credentials, region, service } = options;
  const date = amzDate(options.now ?? new Date());
  const dateStamp = date.slice(0, 8);
  const payloadHash = await sha256Hex(options.body);

  const added: Record<string, string> = { "x-amz-date": date };
  if (credentials.sessionToken !== undefined) added["x-amz-security-token"] = credentials.sessionToken;
  if (options.signPayloadHash) added["x-amz-content-sha256"] = payloadHash;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers)) {
    const lower = name.toLowerCase();
    if (lower === "authorization" || Object.hasOwn(added, lower)) continue;
    headers[name] = value;
  }
  Object.assign(headers, added);

  const request = canonicalRequest({ method: options.method, path: options.path, query: options.query, headers, payloadHash });
  const scope = credentialScope(dateStamp, region, service);
  const toSign = stringToSign(date, scope, await sha256Hex(request));
  const key = await signingKey(credentials.secretAccessKey, dateStamp, region, service);
  const signature = toHex(await crypto.subtle.sign("HMAC", key, encoder.encode(toSign)));
  headers.authorization = `${ALGORITHM} Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaderNames(headers)}, Signature=${signature}`;
  return { headers, canonicalRequest: request, stringToSign: toSign };
}

/**
 * Sign a request about to be sent with `fetch(options.url, ...)` and return the headers to send
 * with it. `host` is signed as `fetch` will send it (the URL's host, with a non-default port) but
 * left out of the result, since `fetch` sets it itself; a `host` the caller passed is kept as given.
 */
export async function signAwsRequest(options: SignOptions): Promise<Record<string, string>> {
  const url = new URL(options.url);
  const callerSetHost = Object.keys(options.headers).some((name) => name.toLowerCase() === "host");
  const headers = callerSetHost ? options.headers : { ...options.headers, host: url.host };
  const signed = await signWireRequest({ ...options, path: url.pathname, query: url.search.slice(1), headers });
  if (!callerSetHost) delete signed.headers.host;
  return signed.headers;
}
