/**
 * Receiving the request body, within a size limit and a deadline. A client that announces more
 * than it sends, or sends it slowly — with a `Content-Length` or chunked — would otherwise hold its
 * connection and an in-flight slot for ever; one that sends too much would fill memory. Past
 * either limit it gets the matching answer, sent with `connection: close` so the socket (and
 * whatever the client still means to send) goes too.
 *
 * A declared body is read here through Hono's request, which keeps it for the route's own read; a
 * chunked one is collected and handed on as a request with that body (as Hono's own body limit
 * does).
 */

import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";

export interface ReceiveBodyOptions {
  maxBytes: number;
  timeoutMs: number;
  onTooLarge: (c: Context<AppEnv>) => Response;
  onTimeout: (c: Context<AppEnv>) => Response;
}

type Received = { kind: "ok" } | { kind: "too_large" } | { kind: "expired" };

export function receiveBody(options: ReceiveBodyOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const raw = c.req.raw;
    if (!raw.body) return next();
    const declared = raw.headers.get("content-length");
    const chunked = raw.headers.has("transfer-encoding") || declared === null;
    if (!chunked && Number(declared) > options.maxBytes) return closing(options.onTooLarge(c));

    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<Received>((resolve) => (timer = setTimeout(() => resolve({ kind: "expired" }), options.timeoutMs)));
    // A declared length is checked above, and the native reader is the fast path for it; a chunked
    // body is counted piece by piece. A read abandoned at the deadline fails when the socket
    // closes; the route never sees it.
    const reading = chunked ? readCounted(c, options.maxBytes) : c.req.text().then((): Received => ({ kind: "ok" }));
    const outcome = await Promise.race([reading.catch((): Received => ({ kind: "ok" })), expired]);
    clearTimeout(timer);
    if (outcome.kind === "ok") return next();
    return closing(outcome.kind === "too_large" ? options.onTooLarge(c) : options.onTimeout(c));
  };
}

/** Read a body of unknown length, giving up past `maxBytes`; the route then reads the collected bytes. */
async function readCounted(c: Context<AppEnv>, maxBytes: number): Promise<Received> {
  const reader = c.req.raw.body!.getReader();
  const pieces: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      return { kind: "too_large" };
    }
    pieces.push(value);
  }
  c.req.raw = new Request(c.req.raw, { body: Buffer.concat(pieces, size) });
  return { kind: "ok" };
}

function closing(response: Response): Response {
  response.headers.set("connection", "close");
  return response;
}
