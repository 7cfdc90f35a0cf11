/**
 * The `rate` policy: as many replicas as the request rate needs when each
 * replica should carry `targetPerReplica` requests per second.
 *
 * @module
 */

import { requestRate } from "@common/promql.ts";
import type { Policy, PolicyInput, Recommendation } from "./policy.ts";
import type { MetricSource } from "./prometheus_client.ts";

/** Options of {@linkcode ratePolicy}. */
export interface RatePolicyOptions {
  /** Requests per second one replica should carry. */
  targetPerReplica: number;
  /** The `rate()` window, e.g. `"10s"`; at least four scrape intervals. */
  window: string;
}

/**
 * Creates the `rate` policy: desired = ceil(rate / targetPerReplica).
 *
 * Worked case: 23 req/s at a target of 5 req/s per replica gives
 * ceil(4.6) = 5 replicas; 0 req/s gives 0, which the loop raises to its minimum.
 *
 * @throws {RangeError} when `targetPerReplica` is not a positive number
 */
export function ratePolicy(options: RatePolicyOptions): Policy {
  const { targetPerReplica, window } = options;
  if (!(targetPerReplica > 0)) {
    throw new RangeError(
      `Cannot create rate policy: target per replica must be > 0, got ${targetPerReplica}`,
    );
  }
  const promql = requestRate(window);

  return {
    name: "rate",
    async recommend(source: MetricSource, _input: PolicyInput): Promise<Recommendation> {
      const result = await source.query(promql);
      if (!result.ok) {
        return {
          valid: false,
          cause: result.reason,
          reason: `no request rate (${result.reason}: ${result.detail})`,
          inputs: { targetPerReplica },
        };
      }
      const rate = result.value;
      // rate() can return 10.000000001 for a steady 10 req/s; that must not add a replica.
      const desired = Math.max(0, Math.ceil(rate / targetPerReplica - 1e-9));
      return {
        valid: true,
        desired,
        reason: `${rate.toFixed(2)} req/s at ${targetPerReplica} req/s per replica`,
        inputs: { requestRate: rate, targetPerReplica },
      };
    },
  };
}
