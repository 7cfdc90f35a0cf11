/**
 * A small seedable random generator (mulberry32), for everything that must
 * come out the same on every run: generated sample images, soak inputs,
 * simulated traffic.
 *
 * @module
 */

/** Uniform numbers in [0, 1), the same sequence for the same seed. */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
