/**
 * One connection to Redis as the stores use it (Bun's built-in client): commands fail at once
 * while disconnected instead of queueing without bound, the client reconnects by itself for as
 * long as the process runs, and the first commands wait a bounded time for the first connection
 * (Redis may be down when an instance starts).
 */

import { RedisClient } from "bun";

/** How long the first commands wait for the first connection before failing as an outage. */
const FIRST_CONNECTION_WAIT_MS = 2_000;
/** The client's largest retry count: an instance keeps trying for as long as it runs. */
const RECONNECT_FOREVER = 4_294_967_295;

export interface RedisConnection {
  send(command: string, args: string[]): Promise<unknown>;
  /** A second connection for SUBSCRIBE (a subscribed connection takes no other command). */
  subscriber(): RedisClient;
  close(): void;
}

export function connectRedis(url: string): RedisConnection {
  const client = new RedisClient(url, { enableOfflineQueue: false, autoReconnect: true, maxRetries: RECONNECT_FOREVER });
  let firstConnection: Promise<void> | undefined;
  return {
    async send(command, args) {
      firstConnection ??= Promise.race([client.connect().catch(() => {}), Bun.sleep(FIRST_CONNECTION_WAIT_MS)]);
      await firstConnection;
      return client.send(command, args);
    },
    subscriber: () => new RedisClient(url, { autoReconnect: true, maxRetries: RECONNECT_FOREVER }),
    close: () => client.close(),
  };
}

/** The password in a Redis URL, for the redactor that masks every secret in console lines. */
export function redisPassword(url: string): string | undefined {
  const match = /^rediss?:\/\/[^@/]*:([^@/]+)@/.exec(url);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

/** The URL as a log line may show it: no user, no password. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)[^@/]*@/, "$1");
}
