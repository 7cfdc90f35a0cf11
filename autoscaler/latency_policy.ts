/**
 * The `latency` policy: keeps the p95 of successful requests at the front
 * door under an SLO (see `latency_algorithm.ts`).
 *
 * @module
 */

import { latencyQuantile, requestRate } from "@common/promql.ts";
import { LatencyState } from "./latency_algorithm.ts";
import type { Policy, PolicyInput, Recommendation } from "./policy.ts";
import type { MetricSource } from "./prometheus_client.ts";

/** Options of {@linkcode latencyPolicy}. */
export interface LatencyPolicyOptions {
  sloSeconds: number;
  window: string;
  stabilizationSeconds: number;
}

/** Creates the `latency` policy. */
export function latencyPolicy(options: LatencyPolicyOptions): Policy {
  const state = new LatencyState({
    sloSeconds: options.sloSeconds,
    stabilizationMs: options.stabilizationSeconds * 1000,
  });
  const p95 = latencyQuantile(0.95, options.window);
  const rate = requestRate(options.window);
  return {
    name: "latency",
    async recommend(source: MetricSource, input: PolicyInput): Promise<Recommendation> {
      const [latency, traffic] = await Promise.all([source.query(p95), source.query(rate)]);
      if (!traffic.ok) {
        return {
          valid: false,
          cause: traffic.reason,
          reason: `no request rate (${traffic.reason}: ${traffic.detail})`,
          inputs: { slo: options.sloSeconds },
        };
      }
      // No request, no latency: the quantile is NaN then, and an idle fleet
      // must still be able to shrink.
      let seconds = 0;
      if (traffic.value > 0) {
        if (!latency.ok && input.current === 0) {
          // Nothing answers yet traffic arrives: a fleet with no ready replica
          // has no latency to measure and must still grow.
          return {
            valid: true,
            desired: 1,
            reason: `no ready replica while ${traffic.value.toFixed(2)} req/s arrive: growing`,
            inputs: { requestRate: traffic.value, slo: options.sloSeconds },
          };
        }
        if (!latency.ok) {
          return {
            valid: false,
            cause: latency.reason,
            reason: `no p95 latency (${latency.reason}: ${latency.detail})`,
            inputs: { slo: options.sloSeconds, requestRate: traffic.value },
          };
        }
        seconds = latency.value;
      }
      const step = state.next(input.now, input.current, seconds);
      return {
        valid: true,
        desired: step.desired,
        reason: step.reason,
        inputs: { p95: seconds, slo: options.sloSeconds, requestRate: traffic.value },
      };
    },
  };
}
