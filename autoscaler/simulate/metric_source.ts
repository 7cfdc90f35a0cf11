/**
 * Answers the policies' own PromQL from the simulated fleet, so the simulator
 * runs the same policy code as the live autoscaler. Each query the policies
 * can send is rebuilt here with the same functions from the common module
 * and mapped to what Prometheus would have computed from the recorded seconds.
 *
 * @module
 */

import {
  concurrencyOver,
  cpuPerReplica,
  durationSeconds,
  latencyQuantile,
  replicasUp,
  requestRate,
} from "@common/promql.ts";
import type { MetricSource, QueryResult } from "../prometheus_client.ts";
import type { Cluster } from "./cluster.ts";

/** A metric source over `cluster` at a virtual time the caller moves. */
export class SimulatedMetrics implements MetricSource {
  readonly #cluster: Cluster;
  readonly #answers = new Map<string, (t: number) => number>();
  /** Virtual time, in seconds. */
  now = 0;

  constructor(cluster: Cluster, windows: string[]) {
    this.#cluster = cluster;
    this.#answers.set(replicasUp(), (t) => cluster.ready(t));
    for (const window of windows) {
      const w = durationSeconds(window);
      this.#answers.set(requestRate(window), (t) => this.#sum(t, w, (s) => this.#answered(s)) / w);
      this.#answers.set(cpuPerReplica(window), (t) => cluster.cpuPerReplica(t, w));
      // Little's law, as the live query: seconds spent by the requests that
      // finished in the window, per second.
      this.#answers.set(
        concurrencyOver(window),
        (t) => this.#sum(t, w, (s) => sum(cluster.latencies[s] ?? [])) / w,
      );
      this.#answers.set(latencyQuantile(0.95, window), (t) => this.#quantile(t, w, 0.95));
    }
  }

  query(promql: string): Promise<QueryResult> {
    const answer = this.#answers.get(promql);
    if (answer === undefined) {
      return Promise.resolve({
        ok: false,
        reason: "query_error",
        detail: `the simulator cannot evaluate ${promql}`,
      });
    }
    const value = answer(this.now);
    if (!Number.isFinite(value)) {
      return Promise.resolve({ ok: false, reason: "not_finite", detail: `value ${value}` });
    }
    return Promise.resolve({ ok: true, value, time: this.now });
  }

  #answered(second: number): number {
    return (this.#cluster.ok[second] ?? 0) + (this.#cluster.refused[second] ?? 0);
  }

  #sum(t: number, window: number, of: (second: number) => number): number {
    let total = 0;
    for (let s = Math.max(0, Math.floor(t - window)); s < Math.floor(t); s++) total += of(s);
    return total;
  }

  // Exact, where Prometheus interpolates in histogram buckets: close enough
  // for comparing policies, and free of bucket artefacts.
  #quantile(t: number, window: number, q: number): number {
    const values: number[] = [];
    for (let s = Math.max(0, Math.floor(t - window)); s < Math.floor(t); s++) {
      values.push(...(this.#cluster.latencies[s] ?? []));
    }
    if (values.length === 0) return NaN;
    values.sort((a, b) => a - b);
    return values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)];
  }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
