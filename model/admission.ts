/**
 * Bounds the work a replica takes on: a few requests run at once, a bounded
 * number wait their turn, and the rest are refused at once with 503 and
 * `Retry-After`. A refusal costs the caller one round trip and lets the
 * dispatcher try another replica; an unbounded queue would instead make every
 * request slow and hide the overload from the autoscaler.
 *
 * @module
 */

import { HttpError } from "@common/http_error.ts";

/** Gives back a slot taken by {@linkcode Admission.enter}. */
export type Release = () => void;

/** The in-flight limit and the waiting queue of one replica. */
export class Admission {
  readonly #maxRunning: number;
  readonly #maxWaiting: number;
  #running = 0;
  #waiting: Array<() => void> = [];
  #closed = false;

  constructor(maxRunning: number, maxWaiting: number) {
    if (!(maxRunning >= 1)) throw new RangeError(`maxRunning must be >= 1, got ${maxRunning}`);
    if (!(maxWaiting >= 0)) throw new RangeError(`maxWaiting must be >= 0, got ${maxWaiting}`);
    this.#maxRunning = maxRunning;
    this.#maxWaiting = maxWaiting;
  }

  /** Requests running now. */
  get running(): number {
    return this.#running;
  }

  /** Requests waiting for a slot now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Waits for a slot and returns its release function, which must be called
   * exactly once (extra calls are ignored).
   *
   * @throws {HttpError} 503 when the queue is full or the replica is draining
   */
  async enter(): Promise<Release> {
    if (this.#closed) {
      throw new HttpError(503, "draining", "This replica is shutting down; send to another one", {
        headers: { "retry-after": "1" },
      });
    }
    if (this.#running < this.#maxRunning) {
      this.#running++;
    } else if (this.#waiting.length < this.#maxWaiting) {
      // The slot is handed over by release(), so #running stays counted.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      throw new HttpError(
        503,
        "overloaded",
        `This replica is busy (${this.#running} running, ${this.#waiting.length} waiting); ` +
          "retry after the delay or send to another replica",
        { headers: { "retry-after": "1" } },
      );
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    };
  }

  /** Refuses new requests from now on; those already admitted still run. */
  close(): void {
    this.#closed = true;
  }
}
