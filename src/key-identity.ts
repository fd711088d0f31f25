/**
 * How a key is shown and identified without revealing it: its masked display form, and a short
 * stable id (a hash) that stores, stats and traces use instead of the key. A leaf: node:crypto
 * only, so every layer (and the library on Node) can use it.
 */

import { createHash } from "node:crypto";

/**
 * The display form of a key: `…` and its last 4 characters; for keys of 8 or fewer, the last 2,
 * so that no key is ever shown whole or nearly whole. A key of 1 or 2 characters cannot be shown
 * in part, so it is named by the start of its id instead (`…#3f2c`). Every form tells a key from
 * its siblings that end differently.
 */
export function maskKey(key: string): string {
  if (key.length <= 2) return `…#${keyId(key).slice(0, 4)}`;
  return "…" + key.slice(key.length <= 8 ? -2 : -4);
}

/**
 * A stable short id for a key (first 12 hex characters of its SHA-256), used to store
 * usage and cooldowns without storing the key itself.
 */
export function keyId(key: string): string {
  // node:crypto, which Bun provides too: the library also runs on Node.
  return createHash("sha256").update(key).digest("hex").slice(0, 12);
}
