/**
 * Google service-account keys for Vertex AI. Vertex takes no API key: a caller holding a
 * service-account JSON key signs a short JWT with the account's RSA private key (RS256), trades it at
 * the account's `token_uri` (the OAuth 2.0 JWT-bearer grant, RFC 7523) for an access token that lives
 * about an hour, and sends that token upstream as `Authorization: Bearer …`.
 *
 * The private key is the one secret that never expires, so it never leaves this module: it is kept
 * beside the parsed account rather than on it (logging or serialising an account cannot print it),
 * imported once as a non-extractable CryptoKey, and no error message quotes it — nor the signed
 * assertion, which is itself a bearer credential for its hour. Errors name the field at fault instead.
 *
 * Access tokens are cached and exchanged again a margin before they expire, so a request never starts
 * with a token that dies in flight, and concurrent requests share one exchange instead of each
 * hitting the token endpoint. A failed exchange is not remembered: the next request tries again.
 */

export const DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token";
export const DEFAULT_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
export const DEFAULT_REFRESH_MARGIN_MS = 5 * 60_000;
export const DEFAULT_EXCHANGE_TIMEOUT_MS = 10_000;

/** Google accepts assertions of at most an hour. */
const ASSERTION_LIFETIME_SECONDS = 3600;
const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
/** Enough of Google's error_description to act on, not enough to flood a log line. */
const MAX_DESCRIPTION_CHARS = 300;

/** A validated service-account key. Its private key is held by this module, not by the object. */
export interface ServiceAccount {
  readonly projectId: string;
  readonly clientEmail: string;
  readonly privateKeyId: string;
  readonly tokenUri: string;
}

/** A service-account key that cannot be used; the message names the field, never its value. */
export class ServiceAccountError extends Error {
  override readonly name = "ServiceAccountError";
  /** The JSON field at fault (`private_key`, `type`, …), or null when the text as a whole is wrong. */
  readonly field: string | null;

  constructor(message: string, field: string | null = null) {
    super(message);
    this.field = field;
  }
}

/**
 * The token endpoint refused or could not be reached. `status` is the HTTP status (0: no answer —
 * connection failed or timed out); `code` is Google's OAuth error (`invalid_grant`, `invalid_client`),
 * `network_error`, `timeout`, `invalid_response`, or null when the answer named none. A 400
 * `invalid_grant` or a 401 means the credential is bad; 5xx and 0 are transient.
 */
export class TokenExchangeError extends Error {
  override readonly name = "TokenExchangeError";
  readonly status: number;
  readonly code: string | null;

  constructor(status: number, code: string | null, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** PKCS#8 DER per account until it is imported; a WeakMap so a dropped account takes its key along. */
const privateKeys = new WeakMap<ServiceAccount, Uint8Array<ArrayBuffer>>();
const signingKeys = new WeakMap<ServiceAccount, Promise<CryptoKey>>();

/** Validate the text of a service-account JSON key file. Throws ServiceAccountError. */
export function parseServiceAccount(text: string): ServiceAccount {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch {
    // The parser's own message quotes the text around the mistake, which may be key material.
    throw new ServiceAccountError("The service-account key is not valid JSON; use the JSON key file created for the service account in Google Cloud.");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ServiceAccountError("The service-account key is not a JSON object; use the JSON key file created for the service account in Google Cloud.");
  }
  const fields = json as Record<string, unknown>;
  checkType(fields.type);
  const clientEmail = requiredString(fields, "client_email");
  if (!clientEmail.includes("@")) throw new ServiceAccountError('The service-account key\'s "client_email" is not an email address.', "client_email");
  const privateKeyId = requiredString(fields, "private_key_id");
  const projectId = requiredString(fields, "project_id");
  const der = pkcs8FromPem(requiredString(fields, "private_key"));
  const tokenUri = readTokenUri(fields.token_uri);
  const account: ServiceAccount = Object.freeze({ projectId, clientEmail, privateKeyId, tokenUri });
  privateKeys.set(account, der);
  return account;
}

function checkType(type: unknown): void {
  if (type === "service_account") return;
  if (type === undefined) throw new ServiceAccountError('The service-account key has no "type"; a service-account key file says "type": "service_account".', "type");
  // The other credential files Google hands out, each mistaken for a key often enough to name.
  const hint =
    type === "authorized_user"
      ? " (this is a user login from `gcloud auth application-default login`)"
      : type === "external_account"
        ? " (this is a workload identity federation configuration)"
        : "";
  throw new ServiceAccountError(`The key's "type" is not "service_account"${hint}; create a JSON key for a service account instead.`, "type");
}

function requiredString(fields: Record<string, unknown>, name: string): string {
  const value = fields[name];
  if (value === undefined || value === null) throw new ServiceAccountError(`The service-account key is missing "${name}".`, name);
  if (typeof value !== "string" || value.trim() === "") throw new ServiceAccountError(`The service-account key's "${name}" must be a non-empty string.`, name);
  return value.trim();
}

const PKCS8_PEM = /^-----BEGIN PRIVATE KEY-----([^-]*)-----END PRIVATE KEY-----$/;

function pkcs8FromPem(pem: string): Uint8Array<ArrayBuffer> {
  // A key that travelled through an environment variable or a shell often keeps its newlines as `\n`.
  const text = pem.replaceAll("\\n", "\n").trim();
  const match = PKCS8_PEM.exec(text);
  if (!match) {
    const why = text.includes("BEGIN RSA PRIVATE KEY")
      ? "is a PKCS#1 key (BEGIN RSA PRIVATE KEY); convert it with `openssl pkcs8 -topk8 -nocrypt`"
      : text.includes("BEGIN ENCRYPTED PRIVATE KEY")
        ? "is encrypted; Google key files hold an unencrypted key"
        : "is not a PEM PKCS#8 private key (-----BEGIN PRIVATE KEY----- … -----END PRIVATE KEY-----)";
    throw new ServiceAccountError(`The service-account key's "private_key" ${why}.`, "private_key");
  }
  const base64 = match[1]!.replace(/\s+/g, "");
  if (base64 === "" || base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    throw new ServiceAccountError('The service-account key\'s "private_key" is damaged: its PEM body is not base64.', "private_key");
  }
  return Buffer.from(base64, "base64");
}

function readTokenUri(value: unknown): string {
  if (value === undefined) return DEFAULT_TOKEN_URI;
  if (typeof value !== "string" || !URL.canParse(value)) throw new ServiceAccountError('The service-account key\'s "token_uri" is not a URL.', "token_uri");
  const url = new URL(value);
  // The assertion is a bearer credential for an hour: it never crosses a network in clear text.
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new ServiceAccountError('The service-account key\'s "token_uri" must be an https URL.', "token_uri");
  }
  return value;
}

export interface SignJwtOptions {
  /** Space-separated OAuth scopes; default cloud-platform, which Vertex AI needs. */
  scope?: string;
  /** Epoch ms the assertion is issued at; default now. */
  now?: number;
}

/** The RS256 assertion that `token_uri` trades for an access token. */
export async function signJwt(account: ServiceAccount, options: SignJwtOptions = {}): Promise<string> {
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const header = { alg: "RS256", typ: "JWT", kid: account.privateKeyId };
  const claims = { iss: account.clientEmail, scope: options.scope ?? DEFAULT_SCOPE, aud: account.tokenUri, iat, exp: iat + ASSERTION_LIFETIME_SECONDS };
  const signingInput = `${base64UrlJson(header)}.${base64UrlJson(claims)}`;
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", await signingKeyOf(account), new TextEncoder().encode(signingInput));
  return `${signingInput}.${Buffer.from(signature).toString("base64url")}`;
}

function base64UrlJson(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function signingKeyOf(account: ServiceAccount): Promise<CryptoKey> {
  const cached = signingKeys.get(account);
  if (cached) return cached;
  const der = privateKeys.get(account);
  if (!der) throw new ServiceAccountError("This service account was not made by parseServiceAccount, so there is no private key to sign with.");
  const key = crypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]).catch(() => {
    // The platform's reason is not passed on: it is about bytes of the key.
    throw new ServiceAccountError(`The "private_key" of ${account.clientEmail} is not an RSA private key that can sign.`, "private_key");
  });
  signingKeys.set(account, key);
  // From here on the non-extractable CryptoKey is the only copy; an import failure is remembered as is.
  privateKeys.delete(account);
  return key;
}

export interface AccessToken {
  /** Sent upstream as `Authorization: Bearer <accessToken>`. */
  accessToken: string;
  /** As Google names it: `Bearer`. */
  tokenType: string;
  /** Epoch ms at which Google stops accepting it, counted from when the exchange was sent. */
  expiresAt: number;
}

export interface AccessTokenSourceOptions {
  fetch?: typeof fetch;
  /** Epoch ms clock; default Date.now. */
  now?: () => number;
  /** Exchange again this long before expiry (capped at half the token's lifetime); default 5 min. */
  refreshMarginMs?: number;
  /** Default cloud-platform. */
  scope?: string;
  /** Longest wait for the token endpoint's whole answer; default 10 s. */
  exchangeTimeoutMs?: number;
}

export interface AccessTokenSource {
  /**
   * A token with at least the refresh margin left. `signal` ends only this caller's wait: the shared
   * exchange goes on for the others and its token is cached. Throws TokenExchangeError, or
   * ServiceAccountError when the private key cannot sign.
   */
  token(signal?: AbortSignal): Promise<AccessToken>;
}

export function createAccessTokenSource(account: ServiceAccount, options: AccessTokenSourceOptions = {}): AccessTokenSource {
  const fetchImpl = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const marginMs = options.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const timeoutMs = options.exchangeTimeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS;
  let current: { token: AccessToken; refreshAt: number } | undefined;
  let exchanging: Promise<AccessToken> | undefined;

  async function exchange(): Promise<AccessToken> {
    const sentAt = now();
    const assertion = await signJwt(account, { scope: options.scope, now: sentAt });
    const answer = await exchangeAssertion(account, assertion, fetchImpl, timeoutMs);
    const lifetimeMs = answer.expiresInSeconds * 1000;
    const token: AccessToken = { accessToken: answer.accessToken, tokenType: answer.tokenType, expiresAt: sentAt + lifetimeMs };
    // A token that lives shorter than the margin would otherwise be exchanged again on every call.
    current = { token, refreshAt: token.expiresAt - Math.min(marginMs, lifetimeMs / 2) };
    return token;
  }

  return {
    async token(signal) {
      signal?.throwIfAborted();
      if (current && now() < current.refreshAt) return current.token;
      exchanging ??= exchange().finally(() => {
        exchanging = undefined;
      });
      return signal ? untilAborted(exchanging, signal) : exchanging;
    },
  };
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

interface TokenAnswer {
  accessToken: string;
  tokenType: string;
  expiresInSeconds: number;
}

async function exchangeAssertion(account: ServiceAccount, assertion: string, fetchImpl: typeof fetch, timeoutMs: number): Promise<TokenAnswer> {
  const failed = `The token exchange for ${account.clientEmail} at ${account.tokenUri} failed`;
  let status: number;
  let text: string;
  try {
    const response = await fetchImpl(account.tokenUri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      // A redirect would carry the assertion to a host the key file did not name.
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      throw new TokenExchangeError(0, "timeout", `${failed}: no answer within ${timeoutMs / 1000} s.`);
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new TokenExchangeError(0, "network_error", `${failed}: ${sanitize(reason, assertion)}`);
  }

  const body = parseJsonObject(text);
  if (status < 200 || status > 299) {
    const code = typeof body?.error === "string" ? sanitize(body.error, assertion) : null;
    const description = typeof body?.error_description === "string" ? sanitize(body.error_description, assertion) : "";
    // Without an OAuth error body there is nothing safe to quote: a proxy's page may echo the request.
    const detail = code ? ` ${code}${description ? `: ${description}` : "."}` : " and no OAuth error in the answer.";
    throw new TokenExchangeError(status, code, `${failed} with HTTP ${status}${detail}`);
  }
  const accessToken = body?.access_token;
  const expiresIn = body?.expires_in;
  if (typeof accessToken !== "string" || accessToken === "" || typeof expiresIn !== "number" || !(expiresIn > 0)) {
    throw new TokenExchangeError(status, "invalid_response", `${failed}: HTTP ${status} came without an access_token and a positive expires_in.`);
  }
  return { accessToken, tokenType: typeof body?.token_type === "string" ? body.token_type : "Bearer", expiresInSeconds: expiresIn };
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Text from the other side, made fit for a log line: one line, bounded, the assertion cut out. */
function sanitize(text: string, assertion: string): string {
  const signature = assertion.slice(assertion.lastIndexOf(".") + 1);
  const clean = text.replaceAll(assertion, "[assertion]").replaceAll(signature, "[signature]").replace(/\s+/g, " ").trim();
  return clean.length > MAX_DESCRIPTION_CHARS ? `${clean.slice(0, MAX_DESCRIPTION_CHARS)}…` : clean;
}
