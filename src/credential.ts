/**
 * One key of a provider as the engine rotates it and the upstream sees it: the secret that
 * authenticates, the endpoint it belongs to, and the per-key settings its family reads. An Azure
 * key belongs to one resource, a Bedrock key to a region, a self-hosted server is an endpoint with
 * no key at all — so "a key" is this whole record, and its id and display form say which one.
 * A leaf (like key-identity.ts): every layer may name it.
 */

import { keyId, maskKey } from "./key-identity.ts";

export interface Credential {
  /** What authenticates: an API key, a bearer token, an access-key pair; "" for a keyless server. Never shown. */
  readonly secret: string;
  /** The base URL this key's requests go to (its own, or the provider's). */
  readonly baseUrl: string;
  /** Stable short id for state, stats and traces. */
  readonly id: string;
  /** Display form: never the secret, enough to tell this key from its siblings. */
  readonly masked: string;
  /** Per-key settings of the family (`region`, `project`, `location`, `api_version`), provider-wide values included. */
  readonly options: Readonly<Record<string, string>>;
  /** Keys that draw on one quota (one Vertex project's) share this name: a quota refusal cools them all. */
  readonly quotaGroup?: string;
}

/**
 * `text` with the key's secret replaced by its display form, as upstream messages sometimes echo
 * the key. A keyless server has no secret to hide (and "" is inside every text).
 */
export function hideSecret(text: string, key: Pick<Credential, "secret" | "masked">): string {
  if (key.secret === "" || !text.includes(key.secret)) return text;
  return text.split(key.secret).join(key.masked);
}

export interface CredentialParts {
  secret: string;
  baseUrl: string;
  /** The key has its own endpoint (`<P>_API_BASE_<N>`): the endpoint is part of its identity. */
  ownEndpoint?: boolean;
  options?: Readonly<Record<string, string>>;
  /** Options that make a separate key of the same secret (a Bedrock region has its own quotas). */
  identityOptions?: readonly string[];
  /** A better display form the family knows (a service account's e-mail), used instead of the masked secret. */
  label?: string;
}

/**
 * A key with nothing of its own but the secret keeps the id it always had (the hash of the secret),
 * so state recorded before per-key endpoints existed still applies. A key with its own endpoint,
 * or an option that makes it a different quota, is identified by all of them: the same placeholder
 * key on three servers is three keys.
 */
export function createCredential(parts: CredentialParts): Credential {
  const options = parts.options ?? {};
  const distinguishing = (parts.identityOptions ?? []).filter((name) => options[name] !== undefined);
  const plain = !parts.ownEndpoint && distinguishing.length === 0;
  const identity = [parts.secret, parts.ownEndpoint ? parts.baseUrl : "", ...distinguishing.map((name) => `${name}=${options[name]}`)];
  return {
    secret: parts.secret,
    baseUrl: parts.baseUrl,
    id: keyId(plain ? parts.secret : identity.join("\n")),
    masked: displayForm(parts, distinguishing.map((name) => options[name]!)),
    options,
  };
}

/** `…a1b2`, `…a1b2@host:port`, `host:port` for a keyless server; a region or project that tells two uses of one key apart is not secret, so it shows. */
function displayForm(parts: CredentialParts, distinguishing: readonly string[]): string {
  const where = parts.ownEndpoint ? endpointName(parts.baseUrl) : undefined;
  const who = parts.label ?? (parts.secret === "" ? undefined : maskKey(parts.secret));
  const base = who !== undefined && where !== undefined ? `${who}@${where}` : (who ?? where ?? "keyless");
  return distinguishing.length === 0 ? base : `${base} (${distinguishing.join("/")})`;
}

/** The host (and port) of an endpoint, which is how people name their servers. */
function endpointName(baseUrl: string): string {
  return URL.canParse(baseUrl) ? new URL(baseUrl).host : baseUrl;
}
