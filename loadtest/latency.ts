/**
 * Latency recording in an HDR histogram: values are kept in microseconds with
 * 3 significant digits, so a reported percentile is within 0.1 % of the true
 * one (45.03 ms may read 45.02 ms) while memory stays a few kilobytes however
 * many answers arrive.
 *
 * @module
 */

import * as hdr from "hdr-histogram-js";

/** Percentiles of latency, in milliseconds with microsecond resolution. */
export interface LatencyPercentiles {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

// One hour: a request can never take longer than --timeout (at most 3600 s).
const HIGHEST_US = 3_600_000_000;

/** A histogram of latencies; record in milliseconds, read percentiles in milliseconds. */
export class LatencyHistogram {
  #histogram = hdr.build({
    // The pure JavaScript build: the WebAssembly one gains nothing at our rates.
    useWebAssembly: false,
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });

  /** How many values were recorded. */
  get count(): number {
    return this.#histogram.totalCount;
  }

  /** Records one latency of `ms` milliseconds (clamped to 1 µs .. 1 h). */
  record(ms: number): void {
    const us = Math.min(Math.max(Math.round(ms * 1000), 1), HIGHEST_US);
    this.#histogram.recordValue(us);
  }

  /** The `p`-th percentile (0..100) in ms, or null when nothing was recorded. */
  percentile(p: number): number | null {
    if (!(p >= 0 && p <= 100)) {
      throw new RangeError(`Cannot read a percentile: expected p from 0 to 100, got ${p}`);
    }
    if (this.count === 0) return null;
    return this.#at(p);
  }

  // A percentile reads the top of its bucket, which can pass the largest value
  // really recorded by up to 0.1 %: cap it there so p99.9 never exceeds max.
  #at(p: number): number {
    const histogram = this.#histogram;
    return Math.min(histogram.getValueAtPercentile(p), histogram.maxValue) / 1000;
  }

  /** The usual percentiles and the maximum, or null when nothing was recorded. */
  summary(): LatencyPercentiles | null {
    if (this.count === 0) return null;
    const at = (p: number) => this.#at(p);
    return {
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      p999: at(99.9),
      max: this.#histogram.maxValue / 1000,
    };
  }
}
