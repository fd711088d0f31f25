/**
 * One background writer for log files. Callers hand it file operations and return at once; the
 * operations run one after another, later, so a slow or stuck disk delays only the logs and never a
 * response. The backlog is bounded: past `maxPending` waiting operations, new non-critical ones are
 * dropped and counted rather than held in memory.
 */

export interface WriteQueueOptions {
  /** Waiting operations beyond which non-critical ones are dropped. */
  maxPending: number;
  /** Told about an operation that threw; the queue carries on either way. */
  onError?: (error: unknown) => void;
}

export interface EnqueueOptions {
  /** Queued even past the bound: small writes that must not be lost (failure lines). */
  critical?: boolean;
}

export type WriteOperation = () => Promise<unknown>;

export interface WriteQueue {
  /** Queues an operation without waiting; false when it was dropped. */
  enqueue(operation: WriteOperation, options?: EnqueueOptions): boolean;
  /** Operations waiting to run (not counting the one running). */
  pending(): number;
  /** Operations dropped so far because the queue was full. */
  dropped(): number;
  /** Resolves once every queued operation, including ones queued meanwhile, has run. */
  flush(): Promise<void>;
}

export function createWriteQueue(options: WriteQueueOptions): WriteQueue {
  const onError = options.onError ?? (() => {});
  // An array with a moving head, compacted now and then: `shift()` would copy the backlog on every
  // operation. Slots already run are cleared so their closures can be collected.
  let waiting: (WriteOperation | undefined)[] = [];
  let head = 0;
  let droppedCount = 0;
  let draining: Promise<void> | undefined;

  const drain = async (): Promise<void> => {
    // Start on a later turn of the event loop: even the synchronous start of an operation
    // (serialising a body, say) must not run inside the request that queued it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (head < waiting.length) {
      const operation = waiting[head]!;
      waiting[head] = undefined;
      head++;
      try {
        await operation();
      } catch (error) {
        onError(error);
      }
      if (head === waiting.length || (head > 1024 && head * 2 > waiting.length)) {
        waiting = waiting.slice(head);
        head = 0;
      }
    }
    draining = undefined;
  };

  return {
    enqueue(operation, enqueueOptions) {
      if (waiting.length - head >= options.maxPending && !enqueueOptions?.critical) {
        droppedCount++;
        return false;
      }
      waiting.push(operation);
      draining ??= drain();
      return true;
    },
    pending: () => waiting.length - head,
    dropped: () => droppedCount,
    flush: () => draining ?? Promise.resolve(),
  };
}
