/**
 * Bounds retries so that they cannot multiply load on replicas that are
 * already failing. Over a sliding window, retries may add at most `ratio` of
 * the first attempts seen in it, plus `minPerSecond` per second of window so
 * that a quiet dispatcher can still retry. With the defaults (ratio 0.2,
 * 1 per second, 10 s window) 50 requests/s allow 0.2 * 500 + 10 = 110 retries
 * per 10 s, i.e. at most 22 % extra load however many replicas fail.
 *
 * @module
 */

/** Options of {@linkcode RetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed per first attempt in the window. @default 0.2 */
  ratio?: number;
  /** Retries allowed per second of window regardless of traffic. @default 1 */
  minPerSecond?: number;
  /** Length of the window, in milliseconds. @default 10000 */
  windowMs?: number;
  /** Clock in milliseconds, injectable for tests. @default performance.now */
  now?: () => number;
}

/** Slots the window is cut into; counts leave the window one slot at a time. */
const SLOTS = 10;

/** A sliding-window budget of retries. */
export class RetryBudget {
  readonly #ratio: number;
  readonly #floor: number;
  readonly #slotMs: number;
  readonly #now: () => number;
  // One entry per slot of the window, reused when its slot number comes round again.
  readonly #slots: { slot: number; requests: number; retries: number }[] = [];

  constructor(options: RetryBudgetOptions = {}) {
    const { ratio = 0.2, minPerSecond = 1, windowMs = 10_000, now = () => performance.now() } =
      options;
    if (!(ratio >= 0) || !(minPerSecond >= 0) || !(windowMs > 0)) {
      throw new RangeError(
        "Cannot create retry budget: expected ratio >= 0, minPerSecond >= 0, windowMs > 0, got " +
          `${ratio}, ${minPerSecond}, ${windowMs}`,
      );
    }
    this.#ratio = ratio;
    this.#floor = minPerSecond * windowMs / 1000;
    this.#slotMs = windowMs / SLOTS;
    this.#now = now;
    for (let i = 0; i < SLOTS; i++) this.#slots.push({ slot: -1, requests: 0, retries: 0 });
  }

  /** Counts one first attempt, which earns `ratio` retries for the window. */
  recordRequest(): void {
    this.#current().requests++;
  }

  /**
   * Takes one retry from the budget.
   *
   * @returns false, taking nothing, when the window's retries are used up
   */
  tryRetry(): boolean {
    const current = this.#current();
    const live = current.slot - SLOTS;
    let requests = 0;
    let retries = 0;
    for (const slot of this.#slots) {
      if (slot.slot <= live) continue;
      requests += slot.requests;
      retries += slot.retries;
    }
    if (retries + 1 > this.#ratio * requests + this.#floor) return false;
    current.retries++;
    return true;
  }

  #current(): { slot: number; requests: number; retries: number } {
    const slot = Math.floor(this.#now() / this.#slotMs);
    const entry = this.#slots[slot % SLOTS];
    if (entry.slot !== slot) {
      entry.slot = slot;
      entry.requests = 0;
      entry.retries = 0;
    }
    return entry;
  }
}
