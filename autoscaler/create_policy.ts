/**
 * Builds the policy `--policy` names, with its settings.
 *
 * @module
 */

import type { AutoscalerConfig } from "./config.ts";
import { concurrencyPolicy } from "./concurrency_policy.ts";
import { DEFAULT_BEHAVIOR } from "./hpa_algorithm.ts";
import { hpaPolicy } from "./hpa_policy.ts";
import { latencyPolicy } from "./latency_policy.ts";
import type { Policy } from "./policy.ts";
import { ratePolicy } from "./rate_policy.ts";

/** The policy, and the loop's own scale-down window to use with it. */
export interface CreatedPolicy {
  policy: Policy;
  /**
   * The loop's scale-down damping. Only `rate` relies on it; the others
   * stabilize by their own rules, which a second window would distort.
   */
  scaleDownWindowMs: number;
  /**
   * The loop's dead band: `--tolerance`, except for `hpa`, which applies it
   * to its metric, and `latency`, whose margin under the SLO is its own.
   */
  tolerance: number;
}

/** Creates the configured policy. */
export function createPolicy(config: AutoscalerConfig): CreatedPolicy {
  switch (config.policy) {
    case "rate":
      return {
        policy: ratePolicy({ targetPerReplica: config.targetRate, window: config.window }),
        scaleDownWindowMs: config.scaleDownWindowSeconds * 1000,
        tolerance: config.tolerance,
      };
    case "hpa":
      return {
        policy: hpaPolicy({
          target: config.hpaTarget,
          metric: config.hpaMetric,
          window: config.window,
          tolerance: config.tolerance,
          behavior: {
            scaleUp: {
              ...DEFAULT_BEHAVIOR.scaleUp,
              stabilizationWindowSeconds: config.hpaScaleUpWindowSeconds,
            },
            scaleDown: {
              ...DEFAULT_BEHAVIOR.scaleDown,
              stabilizationWindowSeconds: config.hpaScaleDownWindowSeconds,
            },
          },
        }),
        scaleDownWindowMs: 0,
        tolerance: 0,
      };
    case "concurrency":
      return {
        policy: concurrencyPolicy({
          targetConcurrency: config.targetConcurrency,
          targetUtilization: config.targetUtilization,
          stableWindowSeconds: config.stableWindowSeconds,
          panicWindowSeconds: config.panicWindowSeconds,
        }),
        scaleDownWindowMs: 0,
        tolerance: config.tolerance,
      };
    case "latency":
      return {
        policy: latencyPolicy({
          sloSeconds: config.sloSeconds,
          window: config.window,
          stabilizationSeconds: config.latencyStabilizationSeconds,
        }),
        scaleDownWindowMs: 0,
        // Its margin under the SLO is its dead band; a second one would stop
        // its one-replica steps down for good once the fleet reaches 10.
        tolerance: 0,
      };
  }
}
