/** Polls `condition` until it holds; throws after `timeoutMs`. Returns the milliseconds it took. */
export async function waitFor(condition: () => boolean, timeoutMs = 5_000, everyMs = 5): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for a condition`);
    await Bun.sleep(everyMs);
  }
  return Date.now() - started;
}
