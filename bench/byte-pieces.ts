/**
 * Streams made of pieces, for the benchmarks: events grouped into byte pieces (as a real host's
 * stream arrives), and a body that hands them out one per read.
 */

const encoder = new TextEncoder();

/** `events` in pieces of `per`, each piece one read's worth of bytes. */
export function pieces(events: string[], per = 10): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < events.length; i += per) out.push(encoder.encode(events.slice(i, i + per).join("")));
  return out;
}

export function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next < chunks.length) controller.enqueue(chunks[next++]!);
      else controller.close();
    },
  });
}
