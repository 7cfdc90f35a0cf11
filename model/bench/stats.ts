/**
 * The figures every benchmark phase reports, computed the same way for all.
 *
 * @module
 */

import { percentile, sortedCopy } from "../../loadtest/percentile.ts";

/** Throughput and latency of one phase. */
export interface PhaseFigures {
  images: number;
  seconds: number;
  imagesPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Requests refused or failed, by kind. */
  failures: Record<string, number>;
  /** Resident memory of the process that did the work, in MB, when known. */
  rssMb?: number;
}

/** Figures of `latencies` (ms) collected over `seconds`. */
export function figures(
  latencies: number[],
  seconds: number,
  failures: Record<string, number> = {},
): PhaseFigures {
  const sorted = sortedCopy(latencies);
  return {
    images: latencies.length,
    seconds,
    imagesPerSecond: latencies.length / seconds,
    p50Ms: percentile(sorted, 50) ?? NaN,
    p95Ms: percentile(sorted, 95) ?? NaN,
    p99Ms: percentile(sorted, 99) ?? NaN,
    failures,
  };
}

/**
 * Memory of process `pid`, in MB, from /proc: resident now, its peak, and
 * the anonymous part of the resident set (the process's own data, without
 * the pages of shared code such as the Deno binary and native libraries).
 */
export function processMemoryMb(
  pid: number,
): { rss: number; peak: number; anonymous: number } | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const field = (name: string) =>
      Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, "m"))?.[1]);
    return {
      rss: field("VmRSS") / 1024,
      peak: field("VmHWM") / 1024,
      anonymous: field("RssAnon") / 1024,
    };
  } catch {
    return undefined;
  }
}
