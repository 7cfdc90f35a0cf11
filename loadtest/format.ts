/**
 * Plain-text renderings of load test progress and results, for people reading
 * a terminal; the objects themselves are the machine-readable form.
 *
 * @module
 */

import type { LoadProgress, LoadSummary } from "./run_load.ts";

/** Error kinds as `kind x count`, most frequent first; `-` when there are none. */
export function formatErrors(errors: Record<string, number>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return entries.length === 0 ? "-" : entries.map(([kind, count]) => `${kind} x${count}`).join(" ");
}

function ms(value: number | null): string {
  return value === null ? "    - ms" : `${value.toFixed(0).padStart(5)} ms`;
}

function num1(value: number): string {
  return value.toFixed(1);
}

/**
 * One line per progress interval, e.g. `[  3/30 s]  offered   10.0/s  ok    9.0/s
 * p50    45 ms  p95   120 ms  out 3  replicas 2  errors 503 x1` (on one line).
 */
export function formatProgress(progress: LoadProgress): string {
  const elapsed = Math.round(progress.elapsedSeconds).toString().padStart(3);
  const parts = [
    `[${elapsed}/${progress.totalSeconds} s]`,
    `offered ${progress.offeredRate.toFixed(1).padStart(6)}/s`,
    `ok ${progress.achievedRate.toFixed(1).padStart(6)}/s`,
    `p50 ${ms(progress.p50Ms)}`,
    `p95 ${ms(progress.p95Ms)}`,
    `out ${progress.outstanding}`,
  ];
  if (progress.replicas !== null) parts.push(`replicas ${progress.replicas}`);
  parts.push(`errors ${formatErrors(progress.errors)}`);
  return parts.join("  ");
}

/** A few lines summing up a run. */
export function formatSummary(summary: LoadSummary): string {
  const latency = summary.latencyMs;
  return [
    `${summary.offered} offered, ${summary.sent} sent, ${summary.ok} ok, ${summary.failed} failed` +
    ` in ${summary.durationSeconds.toFixed(1)} s` +
    (summary.stoppedEarly ? ` (stopped early; profile was ${summary.scheduledSeconds} s)` : ""),
    `rate: ${summary.achievedRate.toFixed(2)} ok/s achieved, ` +
    `${summary.offeredRate.toFixed(2)}/s offered`,
    latency
      // Units once, at the end, so the six figures fit an 80-column terminal.
      ? `latency of ok answers (ms): p50 ${num1(latency.p50)}, p90 ${num1(latency.p90)}, ` +
        `p95 ${num1(latency.p95)}, p99 ${num1(latency.p99)}, p99.9 ${num1(latency.p999)}, ` +
        `max ${num1(latency.max)}`
      : "latency of ok answers: none answered",
    `errors: ${formatErrors(summary.errors)}`,
  ].join("\n");
}
