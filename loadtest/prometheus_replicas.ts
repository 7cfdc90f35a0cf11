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
}

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
  const { timeoutMs = 1000 } = options;
  const url = `${baseUrl.replace(/\/+$/, "")}/api/v1/query?query=${
    encodeURIComponent(replicasUp())
  }`;
  return async () => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      return replicaCount(await response.json());
    } catch {
      return undefined;
    }
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
