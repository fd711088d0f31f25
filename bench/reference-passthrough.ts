/**
 * The floor for this stack: the least a proxy on Bun.serve + Hono + fetch can do. It checks the
 * client's key, reads the body, forwards it with one fixed upstream key, and streams the answer
 * back, with no validation, rotation, accounting or logging. The real proxy's added latency and
 * throughput are judged against this, measured in the same run on the same cores.
 *
 * Usage: bun bench/reference-passthrough.ts <upstream base, e.g. http://127.0.0.1:9000/v1> [port]
 * (prints `ready <port>` on stdout once listening)
 */

import { Hono } from "hono";

export const PROXY_KEY = "bench-proxy-key";
const UPSTREAM_KEY = "sk-reference";

export function startReferencePassthrough(upstreamBase: string, port = 0) {
  const app = new Hono();
  app.get("/healthz", (c) => c.text("ok"));
  app.post("/v1/chat/completions", async (c) => {
    // One string compare, as any proxy must do; a wrong key is not part of the benchmark.
    if (c.req.header("authorization") !== `Bearer ${PROXY_KEY}`) return c.json({ error: "bad key" }, 401);
    const upstream = await fetch(`${upstreamBase}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${UPSTREAM_KEY}`, "content-type": "application/json" },
      body: await c.req.text(),
    });
    return new Response(upstream.body, { status: upstream.status, headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" } });
  });
  // Same idle policy as the proxy: streams may be quiet for long.
  return Bun.serve({ hostname: "127.0.0.1", port, fetch: app.fetch, idleTimeout: 0 });
}

if (import.meta.main) {
  const base = process.argv[2];
  if (!base) throw new Error("usage: bun bench/reference-passthrough.ts <upstream base URL> [port]");
  const server = startReferencePassthrough(base, Number(process.argv[3] ?? 0));
  console.log(`ready ${server.port}`);
}
