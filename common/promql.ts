/**
 * The PromQL the autoscaler evaluates, built from the metric names in
 * `metrics.ts`. A window must hold at least four scrapes so that `rate()` still
 * has two samples after a missed scrape or two.
 *
 * @module
 */

import { DISPATCHER, JOBS, MODEL, PROCESS_CPU } from "./metrics.ts";

/** Requests per second arriving at the front door, over `window` (e.g. `"10s"`). */
export function requestRate(window: string): string {
  return `sum(rate(${DISPATCHER.requests}[${window}]))`;
}

/** Requests per second the replicas answered, over `window`. */
export function replicaRequestRate(window: string): string {
  return `sum(rate(${MODEL.requests}{job="${JOBS.model}"}[${window}]))`;
}

/** How many replicas Prometheus currently scrapes successfully. */
export function replicasUp(): string {
  return `count(up{job="${JOBS.model}"} == 1)`;
}

/** Parses a Prometheus duration such as `"10s"` or `"2m"` into seconds. */
export function durationSeconds(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!match) {
    throw new SyntaxError(
      `Cannot parse duration: expected a number and a unit (ms, s, m, h), got "${text}"`,
    );
  }
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] as "ms" | "s" | "m" | "h"];
  return Number(match[1]) * unit;
}

// Joined with the replicas Prometheus scrapes now: a replica that is gone
// keeps its series (and its rate()) for a while, and must not count.
const LIVE_REPLICAS = `on(instance) (up{job="${JOBS.model}"} == 1)`;

/** Average CPU cores used per live replica over `window`, from the process metrics. */
export function cpuPerReplica(window: string): string {
  return `avg(rate(${PROCESS_CPU}{job="${JOBS.model}"}[${window}]) and ${LIVE_REPLICAS})`;
}

/** Average per live replica of any per-replica series `expression`, e.g. a custom metric. */
export function averagePerReplica(expression: string): string {
  return `avg((${expression}) and ${LIVE_REPLICAS})`;
}

/**
 * Requests waiting or running at the front door, averaged over `window`: the
 * mean queue depth plus the mean number of requests at replicas. Each comes
 * from Little's law, as the seconds spent per second in that state, i.e. the
 * rate of the `_sum` of the time-in-queue and the upstream-attempt
 * histograms. Sampling the depth and in-flight gauges instead aliases: a
 * steady load sends at fixed instants, a scrape at a fixed phase can miss
 * every request, and the average reads 0 under load. Worked case: 20 req/s
 * that each wait 0.1 s and spend 0.05 s at a replica read 20 * 0.15 = 3.
 */
export function concurrencyOver(window: string): string {
  return `(sum(rate(${DISPATCHER.queueDuration}_sum[${window}])) + ` +
    `sum(rate(${DISPATCHER.upstreamDuration}_sum[${window}])))`;
}

/** Requests waiting in the dispatcher's queue now, for dashboards (a sampled gauge). */
export function queueDepth(): string {
  return `sum(${DISPATCHER.queueDepth})`;
}

/** Requests the dispatcher has at replicas now, for dashboards (a sampled gauge). */
export function inFlight(): string {
  return `sum(${DISPATCHER.inFlight})`;
}

/** The `quantile` (e.g. 0.95) of successful request latency at the front door, in seconds. */
export function latencyQuantile(quantile: number, window: string): string {
  return `histogram_quantile(${quantile}, sum by (le) ` +
    `(rate(${DISPATCHER.duration}_bucket{outcome="ok"}[${window}])))`;
}
