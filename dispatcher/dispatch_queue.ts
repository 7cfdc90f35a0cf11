/**
 * The wait for room at a replica. Every replica takes at most its in-flight
 * cap; when all of them are full, a request waits here, first come first
 * served, until a slot frees, its deadline passes or its client goes away.
 * The queue is bounded so that a burst far beyond capacity is refused at once
 * (503, the client may retry later) instead of piling up requests that would
 * all miss their deadline anyway.
 *
 * Each waiter holds one timer (its deadline) and one abort listener, and both
 * are removed the moment it leaves the queue by any path, so expired or
 * abandoned waiters leave nothing behind.
 *
 * @module
 */

import type { Replica, ReplicaPool } from "./replica_pool.ts";

/** How a wait for a replica ended. */
export type Slot =
  | { kind: "replica"; replica: Replica; waitedMs: number }
  /** The queue already holds `maxWaiting` requests. */
  | { kind: "full" }
  /** The deadline passed first; `noReplica` when no replica was known then. */
  | { kind: "expired"; waitedMs: number; noReplica: boolean }
  /** The caller's signal aborted first. */
  | { kind: "aborted"; waitedMs: number }
  /** Every replica left is excluded (a retry has tried them all). */
  | { kind: "none" };

/** What one request asks of {@linkcode DispatchQueue.take}. */
export interface TakeOptions {
  /** Time (ms, `performance.now`) after which the request is answered 504 instead. */
  deadline: number;
  /** Replicas this request must not use (those it already tried). */
  exclude?: ReadonlySet<string>;
  /** Aborts the wait, e.g. when the client disconnects. */
  signal?: AbortSignal;
  /** Already admitted once (a retry): not refused when the queue is full. */
  admitted?: boolean;
  /**
   * Joins the queue only while fewer than this many wait (async jobs keep
   * the other places for synchronous requests). @default the queue's size
   */
  maxDepth?: number;
}

/** What one parked request asks of {@linkcode DispatchQueue.waitForRoom}. */
export interface RoomOptions {
  /** Room means fewer than this many waiting, or a replica slot free. */
  maxDepth: number;
  /** Time (ms, `performance.now`) after which the wait ends with `expired`. */
  deadline: number;
  signal?: AbortSignal;
}

/** How a wait for room ended. */
export type Room = "room" | "expired" | "aborted";

interface Waiter {
  options: TakeOptions;
  since: number;
  settle: (slot: Slot) => void;
}

/** A bounded FIFO queue in front of the replica pool. */
export class DispatchQueue {
  readonly #pool: ReplicaPool;
  readonly #maxWaiting: number;
  #waiters: Waiter[] = [];
  #parked: { maxDepth: number; settle: (room: Room) => void }[] = [];
  /** True while wake() hands out slots, so that parked requests are woken once, after. */
  #waking = false;

  constructor(pool: ReplicaPool, maxWaiting: number) {
    if (!(Number.isInteger(maxWaiting) && maxWaiting >= 0)) {
      throw new RangeError(`Cannot create queue: expected maxWaiting >= 0, got ${maxWaiting}`);
    }
    this.#pool = pool;
    this.#maxWaiting = maxWaiting;
  }

  /** Requests waiting now. */
  get depth(): number {
    return this.#waiters.length;
  }

  /** Requests waiting outside the queue for room in it (async jobs). */
  get parked(): number {
    return this.#parked.length;
  }

  /**
   * Takes a slot at a replica at once when one is free, otherwise waits for
   * one in turn. The caller must give the replica back with
   * {@linkcode release}.
   */
  take(options: TakeOptions): Promise<Slot> {
    const { exclude, signal, deadline } = options;
    const now = performance.now();
    if (signal?.aborted) return Promise.resolve({ kind: "aborted", waitedMs: 0 });
    if (deadline <= now) {
      return Promise.resolve({ kind: "expired", waitedMs: 0, noReplica: this.#pool.size === 0 });
    }
    const replica = this.#pool.acquire(exclude);
    if (replica) return Promise.resolve({ kind: "replica", replica, waitedMs: 0 });
    if (exclude && exclude.size > 0 && !this.#pool.hasCandidate(exclude)) {
      return Promise.resolve({ kind: "none" });
    }
    const limit = Math.min(this.#maxWaiting, options.maxDepth ?? this.#maxWaiting);
    if (!options.admitted && this.#waiters.length >= limit) {
      return Promise.resolve({ kind: "full" });
    }

    return new Promise<Slot>((resolve) => {
      const waiter: Waiter = { options, since: now, settle: () => {} };
      const onAbort = () =>
        waiter.settle({ kind: "aborted", waitedMs: performance.now() - waiter.since });
      const timer = setTimeout(() => {
        waiter.settle({
          kind: "expired",
          waitedMs: performance.now() - waiter.since,
          noReplica: this.#pool.size === 0,
        });
      }, deadline - now);
      waiter.settle = (slot) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        resolve(slot);
        // A place in the queue is free now; wake() counts its own at its end.
        if (!this.#waking) this.#wakeParked();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Gives back a slot taken with {@linkcode take} and hands it to the next waiter. */
  release(replica: Replica): void {
    this.#pool.release(replica);
    this.wake();
  }

  /**
   * Gives free slots to waiters in arrival order; call it after anything that
   * may add room (a release, new replicas). A waiter that cannot use the free
   * slot (it tried that replica already) lets the next one have it.
   */
  wake(): void {
    this.#waking = true;
    try {
      this.#serveWaiters();
    } finally {
      this.#waking = false;
    }
    this.#wakeParked();
  }

  #serveWaiters(): void {
    for (const waiter of [...this.#waiters]) {
      const { exclude } = waiter.options;
      const replica = this.#pool.acquire(exclude);
      if (replica) {
        waiter.settle({ kind: "replica", replica, waitedMs: performance.now() - waiter.since });
      } else if (exclude && exclude.size > 0 && !this.#pool.hasCandidate(exclude)) {
        waiter.settle({ kind: "none" });
      }
    }
  }

  /**
   * Waits, without holding a queue place, until the queue holds fewer than
   * `maxDepth` requests or a replica has a free slot; parked requests are
   * woken first come, first served, only as many as there are places, and
   * only when something changed (a request left the queue, a slot was
   * released, the replicas changed), so nothing polls.
   */
  waitForRoom(options: RoomOptions): Promise<Room> {
    const { maxDepth, deadline, signal } = options;
    if (signal?.aborted) return Promise.resolve("aborted");
    const now = performance.now();
    if (deadline <= now) return Promise.resolve("expired");
    if (this.#hasRoom(maxDepth, 0)) return Promise.resolve("room");
    return new Promise<Room>((resolve) => {
      const entry = { maxDepth, settle: (_room: Room) => {} };
      const onAbort = () => entry.settle("aborted");
      const timer = setTimeout(() => entry.settle("expired"), deadline - now);
      entry.settle = (room) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const index = this.#parked.indexOf(entry);
        if (index >= 0) this.#parked.splice(index, 1);
        resolve(room);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#parked.push(entry);
    });
  }

  #hasRoom(maxDepth: number, woken: number): boolean {
    const places = Math.min(maxDepth, this.#maxWaiting) - this.#waiters.length - woken;
    return places > 0 || (woken === 0 && this.#pool.hasFreeSlot());
  }

  #wakeParked(): void {
    let woken = 0;
    while (this.#parked.length > 0 && this.#hasRoom(this.#parked[0].maxDepth, woken)) {
      this.#parked[0].settle("room");
      woken++;
    }
  }
}
