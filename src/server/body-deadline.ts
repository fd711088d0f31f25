/**
 * A deadline for receiving the request body. A client that announces more than it sends (or
 * sends it slowly) would otherwise hold its connection and an in-flight slot for ever; past the
 * deadline it gets `onTimeout`'s answer, sent with `connection: close` so the socket goes too.
 * The body is read here through Hono's request, which keeps it for the route's own read.
 */

import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env.ts";

export function bodyDeadline(timeoutMs: number, onTimeout: (c: Context<AppEnv>) => Response): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!c.req.raw.body) return next();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"expired">((resolve) => (timer = setTimeout(() => resolve("expired"), timeoutMs)));
    // A read abandoned at the deadline fails when the socket closes; the route never sees it.
    const body = c.req.text().catch(() => "");
    const outcome = await Promise.race([body, expired]);
    clearTimeout(timer);
    if (outcome !== "expired") return next();
    const response = onTimeout(c);
    response.headers.set("connection", "close");
    return response;
  };
}
