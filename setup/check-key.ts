/**
 * Live check of one provider key: list the provider's models with it (the family's own request,
 * `ProviderAdapter.keyCheckRequest`, as small a page as it allows). That call is free,
 * needs no model name, and every provider answers it with 401/403 (Gemini: 400
 * `API_KEY_INVALID`) for a bad key. The check never throws and never decides anything on
 * its own: being offline, a timeout or an odd answer is reported, and the caller keeps
 * the key unless the user says otherwise.
 */

import { readHeldKey } from "../src/config/key-files.ts";
import { ConfigError } from "../src/config/paths.ts";
import { createCredential } from "../src/credential.ts";
import { maskKey } from "../src/key-identity.ts";
import { adapterFor } from "../src/providers/adapter-for-family.ts";
import { CredentialFailure, type UpstreamRequest } from "../src/providers/attempts.ts";
import { catalogEntry, type WireFamily } from "../src/providers/catalog.ts";
import { normaliseBaseUrl } from "./key-input.ts";

export type KeyCheckStatus = "ok" | "rejected" | "unreachable";

export interface KeyCheckResult {
  /** `unreachable` also covers answers that neither accept nor reject the key (a 500, a 404). */
  status: KeyCheckStatus;
  /** One sentence for the user; never contains the key. */
  message: string;
}

export interface CheckTarget {
  family: WireFamily;
  /** Including the API version path, without a trailing slash. */
  baseUrl: string;
  /** The provider keeps keys in files (a service-account key): a key naming one is checked by its content. */
  keyFiles?: boolean;
}

export interface CheckKeyOptions extends CheckTarget {
  key: string;
  /** Default 5000. */
  timeoutMs?: number;
  /** Aborts the check (the user cancelled); the result is then `unreachable`. */
  signal?: AbortSignal;
}

const CHECK_TIMEOUT_MS = 5_000;
const MAX_UPSTREAM_MESSAGE = 160;

/**
 * Where a provider's keys are checked: `<P>_API_BASE` from the variables wins over the
 * catalog, as it does when the proxy serves. Undefined for an unknown provider without a base.
 */
export function checkTarget(vars: ReadonlyMap<string, string>, provider: string): CheckTarget | undefined {
  const base = vars.get(`${provider.toUpperCase()}_API_BASE`)?.trim();
  const entry = catalogEntry(provider);
  const keyFiles = entry?.keyFiles === true ? { keyFiles: true } : {};
  if (base !== undefined && base !== "") return { family: entry?.family ?? "openai", baseUrl: normaliseBaseUrl(base), ...keyFiles };
  return entry === undefined ? undefined : { family: entry.family, baseUrl: entry.baseUrl, ...keyFiles };
}

/** Asks the provider's model list with the key; see the module comment. */
export async function checkKey(options: CheckKeyOptions): Promise<KeyCheckResult> {
  const timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;
  const host = hostOf(options.baseUrl);
  let secret = options.key;
  if (options.keyFiles) {
    try {
      secret = readHeldKey(options.key, "the key");
    } catch (error) {
      if (error instanceof ConfigError) return { status: "rejected", message: error.message };
      throw error;
    }
  }
  let request: UpstreamRequest;
  try {
    // A family that signs requests or trades the key for a token does it here (a service account's exchange).
    request = await adapterFor(options.family).keyCheckRequest(createCredential({ secret, baseUrl: normaliseBaseUrl(options.baseUrl) }));
  } catch (error) {
    if (!(error instanceof CredentialFailure)) throw error;
    const refused = error.failure.class === "invalid_key" || error.failure.class === "billing";
    return { status: refused ? "rejected" : "unreachable", message: refused ? `refused: ${error.failure.message}` : `could not be checked: ${error.failure.message}` };
  }
  const { url, headers } = request;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
  let response: Response;
  let body: string;
  try {
    // A key must not follow a redirect to some other host.
    response = await fetch(url, { headers, signal, redirect: "manual" });
    body = await response.text();
  } catch (error) {
    if (options.signal?.aborted) return { status: "unreachable", message: "check cancelled" };
    if (timeout.aborted) return { status: "unreachable", message: `no answer from ${host} within ${timeoutMs / 1000} s` };
    return { status: "unreachable", message: `could not reach ${host} (${networkReason(error)})` };
  }

  const detail = upstreamMessage(body, options.key);
  const said = detail === "" ? "" : `: ${detail}`;
  if (response.ok) return { status: "ok", message: `accepted by ${host}` };
  if (response.status === 401 || response.status === 403) {
    return { status: "rejected", message: `${host} refused the key (HTTP ${response.status})${said}` };
  }
  if (response.status === 400 && /API_KEY_INVALID|API key not valid/i.test(body)) {
    return { status: "rejected", message: `${host} says the key is not valid (HTTP 400)${said}` };
  }
  // A rate limit or exhausted quota is only given to a key the provider recognised.
  if (response.status === 429) return { status: "ok", message: `accepted by ${host}, but rate-limited or out of quota right now${said}` };
  return { status: "unreachable", message: `could not be checked: ${host} answered HTTP ${response.status}${said}` };
}

/** The provider's own error message, on one line, short, with the key masked should it echo it. */
function upstreamMessage(body: string, key: string): string {
  let text: string;
  try {
    const json = JSON.parse(body);
    const error = Array.isArray(json) ? json[0]?.error : json?.error;
    text = typeof error === "string" ? error : (error?.message ?? json?.message ?? json?.detail ?? "");
    if (typeof text !== "string") text = "";
  } catch {
    text = "";
  }
  const line = text.split(key).join(maskKey(key)).replace(/\s+/g, " ").trim();
  return line.length > MAX_UPSTREAM_MESSAGE ? `${line.slice(0, MAX_UPSTREAM_MESSAGE - 1)}…` : line;
}

function hostOf(baseUrl: string): string {
  return URL.canParse(baseUrl) ? new URL(baseUrl).host : baseUrl;
}

function networkReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === "ConnectionRefused" || code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "FailedToOpenSocket") return "name not found; offline?";
  return typeof code === "string" ? code : error instanceof Error ? error.message : String(error);
}
