/**
 * Gemini's `thoughtSignature` must go back with every earlier function call, but OpenAI clients
 * drop fields they do not know. The one thing every client echoes verbatim is the tool call id,
 * so the signature travels inside it: `call_<16 alphanumerics>_ts_<signature as base64url>`.
 * Stateless, so it survives restarts and several proxies behind one address.
 */

const PREFIX = "call_";
const MARKER = "_ts_";
const SIGNED = /^call_[A-Za-z0-9]{16}_ts_([A-Za-z0-9_-]+)$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/** A fresh tool call id, carrying `signature` when Gemini attached one to the call. */
export function encodeToolCallId(signature?: string): string {
  const id = `${PREFIX}${randomSuffix()}`;
  if (!signature) return id;
  return `${id}${MARKER}${Buffer.from(signature, "base64").toString("base64url")}`;
}

/** The signature carried by an id from `encodeToolCallId`, or undefined for any other id. */
export function signatureFromToolCallId(id: string): string | undefined {
  const match = SIGNED.exec(id);
  return match ? Buffer.from(match[1]!, "base64url").toString("base64") : undefined;
}
