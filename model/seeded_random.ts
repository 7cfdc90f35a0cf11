/**
 * A small seeded pseudo-random generator for building synthetic weights: the
 * same seed gives the same numbers on every machine, because it uses only
 * 32-bit integer arithmetic (a Weyl sequence fed through a 32-bit mixing
 * function), never `Math.random`.
 *
 * @module
 */

/** A deterministic stream of pseudo-random numbers. */
export class SeededRandom {
  #state: number;

  /**
   * @param seed any integer; only its low 32 bits matter
   * @throws {TypeError} when `seed` is not an integer
   */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) {
      throw new TypeError(`Cannot seed generator: expected an integer, got ${seed}`);
    }
    this.#state = seed >>> 0;
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  }

  /** A number uniformly spread over [-1, 1). */
  nextSigned(): number {
    return this.nextUint32() / 2_147_483_648 - 1;
  }

  /**
   * Fills `out` with values spread uniformly over [-limit, limit); a uniform
   * distribution of standard deviation s has limit s * sqrt(3).
   */
  fillUniform(out: Float32Array, limit: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.nextSigned() * limit;
    return out;
  }
}
