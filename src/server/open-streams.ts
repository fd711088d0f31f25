/**
 * The streams a server is relaying right now, by the attempt controller feeding each one. A
 * shutdown whose grace period ran out aborts them with a reason, so every relay ends its stream
 * with one error event (worded from that reason) instead of the client seeing the socket cut.
 */

/** The abort reason the upstream reader reports as the failure. */
export const SHUTDOWN_REASON = "the proxy is shutting down";

const openByOwner = new WeakMap<object, Set<AbortController>>();

/** Note a stream fed by `controller`; the returned function forgets it once the stream is over. */
export function trackStream(owner: object, controller: AbortController): () => void {
  let open = openByOwner.get(owner);
  if (!open) openByOwner.set(owner, (open = new Set()));
  open.add(controller);
  return () => open.delete(controller);
}

/** End every stream still open for `owner`; returns how many there were. */
export function endOpenStreams(owner: object): number {
  const open = openByOwner.get(owner);
  if (!open) return 0;
  const count = open.size;
  for (const controller of open) controller.abort(SHUTDOWN_REASON);
  open.clear();
  return count;
}
