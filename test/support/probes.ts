/**
 * Small probes for tests that drive a server with plain fetch: read a body read by read, wait for
 * a condition, and look at JSON without fighting its types.
 */

/** Poll `condition` every 5 ms until it holds; fail with `what` once `timeoutMs` has passed. */
export async function waitFor(condition: () => boolean, what = "condition", timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await Bun.sleep(5);
  }
}

/** Read a body until it ends or fails; report what arrived, in which reads, and how it ended. */
export async function drain(response: Response): Promise<{ text: string; reads: string[]; error?: unknown }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const reads: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: reads.join(""), reads };
      reads.push(decoder.decode(value));
    }
  } catch (error) {
    return { text: reads.join(""), reads, error };
  }
}

/** Parsed JSON body; `any` because tests poke at fields freely. */
export function json(response: Response): Promise<any> {
  return response.json();
}

export function sortedKeys(value: object): string[] {
  return Object.keys(value).sort();
}
