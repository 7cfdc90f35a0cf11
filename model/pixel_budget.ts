/**
 * Bounds how many pixels are being decoded at once. A 150 KB PNG can claim
 * 36 megapixels, about 110 MB once decoded, and the in-flight limit counts
 * requests, not bytes: four such images at once would need half a gigabyte.
 * Each decode first takes its image's pixel count from this budget and waits,
 * in arrival order, while the budget cannot cover it; ordinary photos (a
 * fraction of a megapixel) never wait for each other.
 *
 * @module
 */

/** A weighted, first-come-first-served semaphore over pixels. */
export class PixelBudget {
  readonly capacity: number;
  #used = 0;
  #waiting: Array<{ pixels: number; admit: () => void }> = [];

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`capacity must be >= 1, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Pixels taken now. */
  get used(): number {
    return this.#used;
  }

  /**
   * Waits until `pixels` fit and takes them; returns the function that gives
   * them back. An image larger than the whole budget runs alone.
   */
  async take(pixels: number): Promise<() => void> {
    const amount = Math.min(pixels, this.capacity);
    if (this.#waiting.length === 0 && this.#used + amount <= this.capacity) {
      this.#used += amount;
    } else {
      await new Promise<void>((admit) => this.#waiting.push({ pixels: amount, admit }));
    }
    let returned = false;
    return () => {
      if (returned) return;
      returned = true;
      this.#used -= amount;
      this.#admitWaiting();
    };
  }

  // Strict arrival order: a big image at the head is not overtaken by small
  // ones, or a stream of photos could starve it forever.
  #admitWaiting(): void {
    while (this.#waiting.length > 0) {
      const head = this.#waiting[0];
      if (this.#used + head.pixels > this.capacity) return;
      this.#waiting.shift();
      this.#used += head.pixels;
      head.admit();
    }
  }
}
