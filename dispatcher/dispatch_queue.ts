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
}

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
    if (!options.admitted && this.#waiters.length >= this.#maxWaiting) {
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
}
