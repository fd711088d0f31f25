/**
 * Ids for responses and their items (`resp_…`, `msg_…`, `fc_…`, `rs_…`): unique, not secret.
 * A random half fixed for the process and a counter: unique across restarts and instances
 * without drawing random bytes for every item, which showed up in profiles of the hot path.
 * Nothing needs them unguessable: every route that reads a response by id needs the proxy key.
 */

const PROCESS_PART = Array.from(crypto.getRandomValues(new Uint8Array(10)), (byte) => byte.toString(16).padStart(2, "0")).join("");
let counter = 0;

export function itemId(prefix: string): string {
  counter += 1;
  return `${prefix}_${PROCESS_PART}${counter.toString(16).padStart(12, "0")}`;
}
