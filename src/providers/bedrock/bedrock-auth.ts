/**
 * How a Bedrock key authenticates, read from its text: a Bedrock API key (`ABSK…`, or a
 * short-term `bedrock-api-key-…`) goes as `Authorization: Bearer`; an IAM access-key pair, written
 * `ACCESS_KEY_ID:SECRET_ACCESS_KEY` (and `:SESSION_TOKEN` for temporary credentials), signs each
 * request with SigV4 for the key's region. The pair is one variable so that it rotates, cools and
 * counts as one key.
 */

import type { Credential } from "../../credential.ts";
import type { UpstreamRequest } from "../attempts.ts";
import { signAwsRequest, type AwsCredentials } from "./aws-sigv4.ts";

/** AWS access key ids: AKIA (long-term) and ASIA (temporary, with a session token). */
const ACCESS_KEY_PAIR = /^(A[KS]IA[A-Z0-9]{12,}):([^:]+)(?::(.+))?$/;

export function accessKeyPair(secret: string): AwsCredentials | undefined {
  const match = ACCESS_KEY_PAIR.exec(secret);
  if (!match) return undefined;
  return { accessKeyId: match[1]!, secretAccessKey: match[2]!, ...(match[3] ? { sessionToken: match[3] } : {}) };
}

/** The texts inside a key that must never show on their own: the secret key and the session token. */
export function bedrockSecretParts(secret: string): string[] {
  const pair = accessKeyPair(secret);
  return pair ? [pair.secretAccessKey, ...(pair.sessionToken ? [pair.sessionToken] : [])] : [];
}

/** A pair is shown by its access key id, which AWS prints in consoles and logs, never by its secret half. */
export function bedrockKeyLabel(secret: string): string | undefined {
  const pair = accessKeyPair(secret);
  return pair ? `${pair.accessKeyId.slice(0, 4)}…${pair.accessKeyId.slice(-4)}` : undefined;
}

/** The region a key signs for: its setting, else the one in a standard endpoint's host. */
export function bedrockRegion(key: Credential): string {
  return key.options.region ?? /\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com/.exec(key.baseUrl)?.[1] ?? "us-east-1";
}

/**
 * A request with the key's authentication: a bearer header at once, or (a promise of) its SigV4
 * headers. `url` must already carry the model id percent-encoded (`encodeURIComponent`), as sent.
 */
export function bedrockRequest(key: Credential, request: { url: string; method?: "GET" | "POST"; accept: string; body?: string }, service = "bedrock"): UpstreamRequest | Promise<UpstreamRequest> {
  const method = request.method ?? "POST";
  const headers: Record<string, string> = { accept: request.accept, ...(request.body !== undefined ? { "content-type": "application/json" } : {}) };
  const pair = accessKeyPair(key.secret);
  if (!pair) return { url: request.url, method, headers: { ...headers, authorization: `Bearer ${key.secret}` }, body: request.body };
  return signAwsRequest({ method, url: request.url, headers, body: request.body ?? "", credentials: pair, region: bedrockRegion(key), service }).then((signed) => ({
    url: request.url,
    method,
    headers: signed,
    body: request.body,
  }));
}
