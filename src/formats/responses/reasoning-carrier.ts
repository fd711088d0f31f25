/**
 * What rides inside a reasoning item's `encrypted_content` when this proxy wrote it.
 *
 * Stateless clients (Codex, the AI SDK with `store: false`) keep a conversation going by sending the
 * previous output items back, reasoning items included, but they only echo `encrypted_content`, not
 * reasoning a provider could use. So the reasoning text and, for Anthropic, the thinking block's
 * signature travel in it: Anthropic refuses a tool loop whose thinking comes back unsigned, and
 * DeepSeek wants its `reasoning_content` on tool turns. Nothing is kept on the server, so this
 * survives restarts and several proxies behind one address.
 *
 * It is not encryption: the client already saw the reasoning as the summary. The prefix tells this
 * proxy's payloads from OpenAI's own (Fernet tokens, `gAAAAA…`), which only OpenAI can read.
 */

import { isRecord } from "../is-record.ts";

export interface CarriedReasoning {
  text: string;
  signature?: string;
}

const PREFIX = "lkp-r1.";

export function encodeReasoningCarrier(carried: CarriedReasoning): string {
  const payload = carried.signature === undefined ? { text: carried.text } : { text: carried.text, signature: carried.signature };
  return PREFIX + Buffer.from(JSON.stringify(payload)).toString("base64url");
}

/** The reasoning carried by `encodeReasoningCarrier`'s output; undefined for anything else. */
export function decodeReasoningCarrier(encrypted: string): CarriedReasoning | undefined {
  if (!encrypted.startsWith(PREFIX)) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(encrypted.slice(PREFIX.length), "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!isRecord(payload) || typeof payload.text !== "string") return undefined;
  return typeof payload.signature === "string" ? { text: payload.text, signature: payload.signature } : { text: payload.text };
}
