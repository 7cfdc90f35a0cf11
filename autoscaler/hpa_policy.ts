/**
 * The `hpa` policy: the Kubernetes HorizontalPodAutoscaler's algorithm over a
 * per-replica average, CPU by default (`rate(process_cpu_seconds_total)`)
 * or any PromQL that yields one value per replica.
 *
 * @module
 */

import { averagePerReplica, cpuPerReplica, requestRate } from "@common/promql.ts";
import { type HpaBehavior, HpaState, proportional } from "./hpa_algorithm.ts";
import type { Policy, PolicyInput, Recommendation } from "./policy.ts";
import type { MetricSource } from "./prometheus_client.ts";

/** Options of {@linkcode hpaPolicy}. */
export interface HpaPolicyOptions {
  /** Target average per replica, e.g. 0.6 CPU cores. */
  target: number;
  /** PromQL of a per-replica series; undefined means CPU cores over `window`. */
  metric?: string;
  window: string;
  tolerance: number;
  behavior: HpaBehavior;
}

/** Creates the `hpa` policy. */
export function hpaPolicy(options: HpaPolicyOptions): Policy {
  const { target, tolerance } = options;
  if (!(target > 0)) throw new RangeError(`Cannot create hpa policy: target must be > 0`);
  const promql = options.metric === undefined
    ? cpuPerReplica(options.window)
    : averagePerReplica(options.metric);
  const state = new HpaState(options.behavior);
  const demand = requestRate(options.window);
  return {
    name: "hpa",
    async recommend(source: MetricSource, input: PolicyInput): Promise<Recommendation> {
      const result = await source.query(promql);
      if (!result.ok && result.reason === "empty") {
        // No ready replica reports a metric. If traffic is arriving, the fleet
        // is all unready under load: the HPA stalls there; this grows it.
        const traffic = await source.query(demand);
        if (traffic.ok && traffic.value > 0) {
          const desired = input.current + 1;
          state.next(input.now, input.current, desired);
          return {
            valid: true,
            desired,
            reason: `no ready replica reports the metric while ${traffic.value.toFixed(2)} ` +
              `req/s arrive: growing by one`,
            inputs: { requestRate: traffic.value, target },
          };
        }
      }
      if (!result.ok) {
        return {
          valid: false,
          cause: result.reason,
          reason: `no per-replica metric (${result.reason}: ${result.detail})`,
          inputs: { target },
        };
      }
      const value = result.value;
      const recommended = proportional(input.current, value, target, tolerance);
      const step = state.next(input.now, input.current, recommended);
      const limited = step.limitedBy ? `, ${step.limitedBy} -> ${step.desired}` : "";
      return {
        valid: true,
        desired: step.desired,
        reason: `${value.toFixed(3)} per replica at a target of ${target} -> ` +
          `${recommended}${limited}`,
        inputs: { metric: value, target, recommended, stabilized: step.stabilized },
      };
    },
  };
}
