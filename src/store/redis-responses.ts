/**
 * {@link ResponseStore} on Redis, for cluster mode: a Responses API conversation continues with
 * `previous_response_id` whichever instance serves the next turn. Each response is one key
 * (`<prefix>response:<id>`, the stored JSON) that expires by itself after the TTL; the size cap
 * is Redis's own memory policy. Only conversation content is stored, never a key.
 *
 * Redis away: a lookup finds nothing (the turn is answered as one whose history is unknown) and a
 * put fails (the caller warns); neither throws into the request.
 */

import { connectRedis } from "./redis-connection.ts";
import type { ResponseStore, StoredResponse } from "./response-store.ts";

export interface RedisResponseStoreOptions {
  url: string;
  /** Default `lkp:`. */
  prefix?: string;
  ttlMs: number;
}

export function openRedisResponseStore(options: RedisResponseStoreOptions): ResponseStore {
  const connection = connectRedis(options.url);
  const keyOf = (id: string): string => `${options.prefix ?? "lkp:"}response:${id}`;
  return {
    async get(id) {
      try {
        const text = (await connection.send("GET", [keyOf(id)])) as string | null;
        return text === null ? undefined : (JSON.parse(text) as StoredResponse);
      } catch {
        return undefined;
      }
    },
    async put(response) {
      const ttl = Math.max(1, Math.round(response.createdAt + options.ttlMs - Date.now()));
      await connection.send("SET", [keyOf(response.id), JSON.stringify(response), "PX", String(ttl)]);
    },
    async delete(id) {
      return Number(await connection.send("DEL", [keyOf(id)])) > 0;
    },
    close() {
      connection.close();
    },
  };
}
