/**
 * Counters of a load test. The run keeps one tally for its whole length and
 * one for the progress interval under way, which is swapped for a fresh one
 * each time progress is reported.
 *
 * @module
 */

import { LatencyHistogram } from "./latency.ts";

/** Counts of one interval or of the whole run. */
export class Tally {
  /** Arrivals, sent or not. */
  offered = 0;
  /** Requests sent. */
  sent = 0;
  /** 2xx answers. */
  ok = 0;
  /** Failures by kind. */
  errors: Record<string, number> = {};
  /** Latencies of the 2xx answers. */
  latency: LatencyHistogram = new LatencyHistogram();

  /** Counts one 2xx answer that took `latencyMs`. */
  succeed(latencyMs: number): void {
    this.ok++;
    this.latency.record(latencyMs);
  }

  /** Counts one failure of `kind`. */
  fail(kind: string): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  /** Number of failures of every kind. */
  get failed(): number {
    return Object.values(this.errors).reduce((sum, count) => sum + count, 0);
  }

  /** True when anything at all was counted. */
  get busy(): boolean {
    return this.offered > 0 || this.ok > 0 || this.failed > 0;
  }
}
