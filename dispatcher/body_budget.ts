/**
 * Bounds the bytes of request bodies the dispatcher holds at once. It must
 * keep each body whole until a replica has answered (a retry sends it
 * again), so without a bound a few dozen maximum-size uploads take gigabytes
 * (a tester saw 20 uploads of 19 MB take it to 1.9 GB). A request reserves
 * its declared length, or the maximum body size when it declares none,
 * before a byte is read; when the budget cannot cover it, it is refused at
 * once with 503 and `Retry-After`, which clients and load balancers retry.
 *
 * @module
 */

/** A non-blocking budget of bytes. */
export class BodyBudget {
  readonly capacity: number;
  #used = 0;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be >= 1, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Bytes reserved now. */
  get used(): number {
    return this.#used;
  }

  /**
   * Reserves `bytes` and returns the function that gives them back, or
   * undefined when they do not fit. A body larger than the whole budget fits
   * only when nothing else is held, so it is never refused forever.
   */
  tryTake(bytes: number): (() => void) | undefined {
    if (this.#used > 0 && this.#used + bytes > this.capacity) return undefined;
    this.#used += bytes;
    let returned = false;
    return () => {
      if (returned) return;
      returned = true;
      this.#used -= bytes;
    };
  }
}
