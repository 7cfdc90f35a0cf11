/**
 * Exact percentiles of recorded values, by the nearest-rank rule: the p-th
 * percentile of n sorted values is the value at rank ceil(p / 100 * n), so it
 * is always a value that was actually observed.
 *
 * @module
 */

/**
 * The `p`-th percentile of `sorted` (ascending).
 *
 * @returns the percentile, or undefined for an empty list
 * @throws {RangeError} when `p` is not within 0..100
 */
export function percentile(sorted: ArrayLike<number>, p: number): number | undefined {
  if (!(p >= 0 && p <= 100)) {
    throw new RangeError(`Cannot compute a percentile: expected p from 0 to 100, got ${p}`);
  }
  if (sorted.length === 0) return undefined;
  // Multiplying before dividing keeps whole products exact (0.07 * 100 is
  // 7.000000000000001, which would round rank 7 up to 8). The small slack
  // absorbs the rounding of a decimal p such as 99.9: a true rank fraction is
  // never that close to a whole number for p with up to four decimals.
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9));
  return sorted[rank - 1];
}

/** Sorts a copy of `values` ascending, numerically. */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}
