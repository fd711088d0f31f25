/**
 * How a Vertex AI key authenticates. A key is either a service-account JSON key (its text: a
 * `VERTEX_API_KEY_<N>` naming a file is read at start) — exchanged for an hour-long OAuth token sent
 * as `Authorization: Bearer` — or a Vertex API key (express mode, or bound to a service account),
 * sent as `x-goog-api-key`. A token the identity provider refuses fails the attempt as a refused key;
 * an identity provider that is down fails it as a transient fault, so the key is not disabled for
 * Google's outage.
 */

import type { Credential } from "../../credential.ts";
import type { Failure } from "../../outcome.ts";
import { CredentialFailure } from "../attempts.ts";
import { createAccessTokenSource, parseServiceAccount, ServiceAccountError, TokenExchangeError, type AccessTokenSource, type ServiceAccount } from "./service-account.ts";

/** A JSON object is a service-account key; anything else is an API key. */
export function isServiceAccountKey(secret: string): boolean {
  return secret.trimStart().startsWith("{");
}

/** Parsed once per key text; a key that does not parse is remembered as its error. */
const accounts = new Map<string, ServiceAccount | ServiceAccountError>();
/** One token source per configured key: it lives and goes with the engine that holds the key. */
const tokenSources = new WeakMap<Credential, AccessTokenSource>();

function accountOf(secret: string): ServiceAccount | ServiceAccountError {
  let account = accounts.get(secret);
  if (account === undefined) {
    try {
      account = parseServiceAccount(secret);
    } catch (error) {
      if (!(error instanceof ServiceAccountError)) throw error;
      account = error;
    }
    accounts.set(secret, account);
  }
  return account;
}

/** The service account a key holds, when it holds a usable one. */
export function serviceAccountOf(secret: string): ServiceAccount | undefined {
  if (!isServiceAccountKey(secret)) return undefined;
  const account = accountOf(secret);
  return account instanceof ServiceAccountError ? undefined : account;
}

/** A service account is shown by its e-mail, which Google's console and audit logs name it by. */
export function vertexKeyLabel(secret: string): string | undefined {
  return serviceAccountOf(secret)?.clientEmail;
}

/** The private key inside a service-account key, beside the key text itself, must never show. */
export function vertexSecretParts(secret: string): string[] {
  if (!isServiceAccountKey(secret)) return [];
  try {
    const privateKey = (JSON.parse(secret) as { private_key?: unknown }).private_key;
    return typeof privateKey === "string" && privateKey !== "" ? [privateKey] : [];
  } catch {
    return [];
  }
}

/** The headers that authenticate `key`: at once for an API key, after the (cached) token for a service account. */
export function vertexAuthHeaders(key: Credential): Record<string, string> | Promise<Record<string, string>> {
  if (!isServiceAccountKey(key.secret)) return { "x-goog-api-key": key.secret };
  const account = accountOf(key.secret);
  if (account instanceof ServiceAccountError) throw new CredentialFailure(unusableKey(account.message));
  let source = tokenSources.get(key);
  if (source === undefined) tokenSources.set(key, (source = createAccessTokenSource(account)));
  return source.token().then(
    (token) => ({ authorization: `Bearer ${token.accessToken}` }),
    (error: unknown) => {
      throw new CredentialFailure(exchangeFailure(error, account));
    },
  );
}

function unusableKey(message: string): Failure {
  return { class: "invalid_key", status: 401, code: "invalid_service_account", message };
}

/**
 * A refusal (400 `invalid_grant`, 401 `invalid_client`: a deleted key, a disabled account, a clock
 * far off) disables the key; no answer, a 429 or a 5xx from the token endpoint is Google's trouble.
 */
function exchangeFailure(error: unknown, account: ServiceAccount): Failure {
  if (error instanceof ServiceAccountError) return unusableKey(error.message);
  if (!(error instanceof TokenExchangeError)) return { class: "transient", status: 0, message: `token exchange for ${account.clientEmail} failed: ${String(error)}` };
  const refused = error.status === 400 || error.status === 401 || error.status === 403;
  return {
    class: refused ? "invalid_key" : "transient",
    status: error.status,
    ...(error.code ? { code: error.code } : {}),
    message: `Google's token endpoint ${refused ? "refused" : "failed for"} ${account.clientEmail}: ${error.message}`,
  };
}
