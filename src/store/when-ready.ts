/**
 * `then` for an Awaitable: at once for a value, later for a promise. A local store (SQLite, memory)
 * answers synchronously, and through this the engine's start-up stays synchronous with it; a
 * networked store's answer arrives later and the same code runs then.
 */

import type { Awaitable } from "./types.ts";

export function whenReady<T, R>(value: Awaitable<T>, next: (value: T) => Awaitable<R>): Awaitable<R> {
  return value instanceof Promise ? value.then(next) : next(value);
}
