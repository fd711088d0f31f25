/**
 * The background writer: operations run later, one at a time and in order; a full queue drops
 * new non-critical operations at once instead of making the caller wait; errors do not stop it.
 */

import { describe, expect, test } from "bun:test";
import { createWriteQueue } from "../../../src/logging/write-queue.ts";

/** A promise with its resolver, to hold an operation in flight. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("createWriteQueue", () => {
  test("runs operations later, one at a time, in the order queued", async () => {
    const queue = createWriteQueue({ maxPending: 100 });
    const order: number[] = [];
    let running = 0;
    let mostRunning = 0;
    for (let i = 0; i < 5; i++) {
      queue.enqueue(async () => {
        running++;
        mostRunning = Math.max(mostRunning, running);
        await tick();
        order.push(i);
        running--;
      });
    }
    expect(order).toEqual([]);
    await queue.flush();
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(mostRunning).toBe(1);
    expect(queue.pending()).toBe(0);
  });

  test("drops non-critical operations past the bound without waiting, and counts them", async () => {
    const queue = createWriteQueue({ maxPending: 2 });
    const held = gate();
    const ran: string[] = [];
    queue.enqueue(async () => {
      await held.promise;
      ran.push("held");
    });
    await tick();
    await tick();
    // The held operation is running (nothing waits); two more fill the waiting room.
    expect(queue.pending()).toBe(0);
    expect(queue.enqueue(async () => void ran.push("a"))).toBe(true);
    expect(queue.enqueue(async () => void ran.push("b"))).toBe(true);
    // These calls return while the held operation is still stuck: nothing here waits for the disk.
    expect(queue.enqueue(async () => void ran.push("dropped-1"))).toBe(false);
    expect(queue.enqueue(async () => void ran.push("dropped-2"))).toBe(false);
    expect(queue.enqueue(async () => void ran.push("critical"), { critical: true })).toBe(true);
    expect(queue.dropped()).toBe(2);
    expect(queue.pending()).toBe(3);
    held.open();
    await queue.flush();
    expect(ran).toEqual(["held", "a", "b", "critical"]);
    expect(queue.enqueue(async () => void ran.push("room again"))).toBe(true);
    await queue.flush();
    expect(ran.at(-1)).toBe("room again");
    expect(queue.dropped()).toBe(2);
  });

  test("reports a failing operation and carries on", async () => {
    const errors: unknown[] = [];
    const queue = createWriteQueue({ maxPending: 10, onError: (error) => errors.push(error) });
    const ran: number[] = [];
    queue.enqueue(async () => {
      throw new Error("disk full");
    });
    queue.enqueue(async () => void ran.push(2));
    await queue.flush();
    expect((errors[0] as Error).message).toBe("disk full");
    expect(ran).toEqual([2]);
  });

  test("flush waits for operations queued while it drains", async () => {
    const queue = createWriteQueue({ maxPending: 10 });
    const ran: string[] = [];
    queue.enqueue(async () => {
      ran.push("first");
      queue.enqueue(async () => {
        await tick();
        ran.push("queued by first");
      });
    });
    await queue.flush();
    expect(ran).toEqual(["first", "queued by first"]);
    await queue.flush();
  });
});
