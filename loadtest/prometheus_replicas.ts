/**
 * A replica source for the load tester: how many model replicas Prometheus
 * scrapes successfully right now, through its HTTP query API.
 *
 * @module
 */

import { replicasUp } from "@common/promql.ts";
import type { ReplicaSource } from "./run_load.ts";

/** Options of {@linkcode prometheusReplicas}. */
export interface PrometheusReplicasOptions {
  /** How long one query may take, in milliseconds. @default 1000 */
  timeoutMs?: number;
  /**
   * Called when the count is lost (the first failed query, or the first after
   * a good one) and when it comes back; never once per failed query, so a
   * Prometheus that is down gives one warning rather than one a second.
   */
  onChange?: (change: ReplicaSourceChange) => void;
}

/** A change of whether the replica count can be had. */
export type ReplicaSourceChange =
  | { known: false; url: string; reason: string }
  | { known: true; url: string };

/**
 * A {@linkcode ReplicaSource} that evaluates `replicasUp()` on the Prometheus
 * at `baseUrl` (e.g. `http://127.0.0.1:9090`). It never throws: an unreachable
 * Prometheus or an unexpected answer gives undefined, because a missing replica
 * count must not disturb a load test.
 */
export function prometheusReplicas(
  baseUrl: string,
  options: PrometheusReplicasOptions = {},
): ReplicaSource {
  const { timeoutMs = 1000, onChange } = options;
  const base = baseUrl.replace(/\/+$/, "");
  const url = `${base}/api/v1/query?query=${encodeURIComponent(replicasUp())}`;
  // Undecided until the first answer, so that a first failure is reported too.
  let known: boolean | undefined;
  const note = (count: number | undefined, reason: string) => {
    const nowKnown = count !== undefined;
    if (nowKnown === known) return;
    // A source that works from the start has nothing to announce.
    if (nowKnown && known !== undefined) onChange?.({ known: true, url: base });
    if (!nowKnown) onChange?.({ known: false, url: base, reason });
    known = nowKnown;
  };
  return async () => {
    let count: number | undefined;
    let reason = "";
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      const text = await response.text();
      try {
        count = replicaCount(JSON.parse(text));
      } catch {
        // Reported below as an unexpected answer.
      }
      if (count === undefined) {
        reason = `HTTP ${response.status} without a replica count: ${text.slice(0, 120)}`;
      }
    } catch (error) {
      reason = (error as Error).message;
    }
    note(count, reason);
    return count;
  };
}

/**
 * Reads the count out of a decoded `/api/v1/query` answer. `count(...)` over
 * no series gives an empty vector, which means zero replicas are up.
 */
export function replicaCount(body: unknown): number | undefined {
  const answer = body as { status?: string; data?: { resultType?: string; result?: unknown } };
  if (answer?.status !== "success" || answer.data?.resultType !== "vector") return undefined;
  const result = answer.data.result;
  if (!Array.isArray(result)) return undefined;
  if (result.length === 0) return 0;
  const value = Number(result[0]?.value?.[1]);
  return Number.isFinite(value) ? value : undefined;
}
