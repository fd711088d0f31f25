/**
 * Running the app on `Bun.serve` and stopping it well: on SIGINT/SIGTERM stop accepting, give
 * in-flight requests a bounded time to finish, end the streams still open with an error event,
 * then flush the store.
 */

import type { ProxyContext } from "./proxy-context.ts";
import { createApp } from "./app.ts";
import { endOpenStreams } from "./open-streams.ts";

export interface RunningServer {
  url: string;
  port: number;
  /** Stop accepting, wait up to `graceMs` for in-flight requests, then close the store. */
  stop(graceMs?: number): Promise<void>;
}

const DEFAULT_GRACE_MS = 10_000;
/** Time the relays get to write their error event once their streams were ended. */
const STREAM_END_MS = 250;

export function startServer(ctx: ProxyContext): RunningServer {
  const app = createApp(ctx);
  const server = Bun.serve({
    hostname: ctx.settings.host,
    port: ctx.settings.port,
    async fetch(request, bunServer) {
      const response = await app.fetch(request, bunServer);
      // An answer given without reading the body (401, 413, 408) closes the connection: the rest of
      // the body is not worth receiving, and keeping the socket would mean receiving all of it.
      if (!request.bodyUsed && request.body !== null) response.headers.set("connection", "close");
      return response;
    },
    // Bun's own limit answers a bare 413 without our error body or request id, so it is lifted
    // and Hono's bodyLimit (content-length checked up front, streamed bodies counted) enforces it.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // Requests legitimately wait on slow upstreams; the engine's timeouts bound them instead.
    idleTimeout: 0,
  });
  const host = ctx.settings.host === "0.0.0.0" || ctx.settings.host === "::" ? "127.0.0.1" : ctx.settings.host;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`,
    port: server.port ?? ctx.settings.port,
    stop(graceMs = DEFAULT_GRACE_MS) {
      stopping ??= (async () => {
        const drained = server.stop(false);
        const after = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.());
        await Promise.race([drained, after(graceMs)]);
        // Streams still open get their error event before the sockets are closed under them.
        if (endOpenStreams(ctx) > 0) await Promise.race([drained, after(STREAM_END_MS)]);
        await server.stop(true);
        await ctx.stop();
        await ctx.store.close();
      })();
      return stopping;
    },
  };
}
