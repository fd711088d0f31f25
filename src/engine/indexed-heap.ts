/**
 * Binary min-heap over small integer ids (key slots) whose order is defined by state that lives
 * outside the heap. Every id remembers its position, so an id whose priority changed is re-sifted
 * in O(log n) instead of rebuilding: this is what keeps key selection independent of the key count.
 */

export interface IndexedHeap {
  readonly size: number;
  has(id: number): boolean;
  peek(): number | undefined;
  push(id: number): void;
  pop(): number | undefined;
  remove(id: number): void;
  /** Restore order after the priority of `id` changed; a no-op when `id` is not in the heap. */
  update(id: number): void;
  /** Every id currently held, in heap order (not sorted). */
  ids(): Iterable<number>;
}

/** `less(a, b)` must be a strict weak order that reads the current priority of ids `a` and `b`. */
export function createIndexedHeap(capacity: number, less: (a: number, b: number) => boolean): IndexedHeap {
  const heap = new Int32Array(capacity);
  const position = new Int32Array(capacity).fill(-1);
  let size = 0;

  const place = (id: number, at: number): void => {
    heap[at] = id;
    position[id] = at;
  };

  const siftUp = (at: number): void => {
    const id = heap[at]!;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = heap[parentAt]!;
      if (!less(id, parent)) break;
      place(parent, at);
      at = parentAt;
    }
    place(id, at);
  };

  const siftDown = (at: number): void => {
    const id = heap[at]!;
    for (;;) {
      const leftAt = 2 * at + 1;
      if (leftAt >= size) break;
      const rightAt = leftAt + 1;
      let childAt = leftAt;
      if (rightAt < size && less(heap[rightAt]!, heap[leftAt]!)) childAt = rightAt;
      const child = heap[childAt]!;
      if (!less(child, id)) break;
      place(child, at);
      at = childAt;
    }
    place(id, at);
  };

  const removeAt = (at: number): void => {
    const removed = heap[at]!;
    position[removed] = -1;
    size -= 1;
    if (at === size) return;
    const moved = heap[size]!;
    place(moved, at);
    siftDown(at);
    siftUp(position[moved]!);
  };

  return {
    get size() {
      return size;
    },
    has: (id) => position[id]! >= 0,
    peek: () => (size > 0 ? heap[0] : undefined),
    push(id) {
      if (position[id]! >= 0) return;
      place(id, size);
      size += 1;
      siftUp(size - 1);
    },
    pop() {
      if (size === 0) return undefined;
      const top = heap[0]!;
      removeAt(0);
      return top;
    },
    remove(id) {
      const at = position[id]!;
      if (at >= 0) removeAt(at);
    },
    update(id) {
      const at = position[id]!;
      if (at < 0) return;
      siftUp(at);
      siftDown(position[id]!);
    },
    *ids() {
      for (let at = 0; at < size; at++) yield heap[at]!;
    },
  };
}
