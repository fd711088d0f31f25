/**
 * A response body that delivers given bytes in pieces of a fixed size, the way a network does:
 * events and multi-byte characters cut anywhere. For tests of code that reads upstream streams.
 */

export function piecewiseBody(content: string | Uint8Array, pieceSize: number): ReadableStream<Uint8Array> {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + pieceSize));
      at += pieceSize;
    },
  });
}
