/**
 * The `concurrency` policy: Knative's, over the requests in flight at the
 * front door averaged over a stable and a panic window.
 *
 * @module
 */

import { concurrencyOver } from "@common/promql.ts";
import { KnativeState } from "./knative_algorithm.ts";
import type { Policy, PolicyInput, Recommendation } from "./policy.ts";
import type { MetricSource } from "./prometheus_client.ts";

/** Options of {@linkcode concurrencyPolicy}. */
export interface ConcurrencyPolicyOptions {
  targetConcurrency: number;
  targetUtilization: number;
  stableWindowSeconds: number;
  panicWindowSeconds: number;
}

/** Creates the `concurrency` policy. */
export function concurrencyPolicy(options: ConcurrencyPolicyOptions): Policy {
  const state = new KnativeState({
    targetConcurrency: options.targetConcurrency,
    targetUtilization: options.targetUtilization,
    stableWindowMs: options.stableWindowSeconds * 1000,
  });
  const stable = concurrencyOver(`${options.stableWindowSeconds}s`);
  const panic = concurrencyOver(`${options.panicWindowSeconds}s`);
  return {
    name: "concurrency",
    async recommend(source: MetricSource, input: PolicyInput): Promise<Recommendation> {
      const [stableResult, panicResult] = await Promise.all([
        source.query(stable),
        source.query(panic),
      ]);
      for (const [name, result] of [["stable", stableResult], ["panic", panicResult]] as const) {
        if (!result.ok) {
          return {
            valid: false,
            cause: result.reason,
            reason: `no ${name}-window concurrency (${result.reason}: ${result.detail})`,
            inputs: { targetConcurrency: options.targetConcurrency },
          };
        }
      }
      const stableValue = (stableResult as { value: number }).value;
      const panicValue = (panicResult as { value: number }).value;
      const step = state.next(input.now, input.current, stableValue, panicValue);
      return {
        valid: true,
        desired: step.desired,
        reason: step.reason,
        inputs: {
          stableConcurrency: stableValue,
          panicConcurrency: panicValue,
          panicking: step.panicking ? 1 : 0,
          targetConcurrency: options.targetConcurrency,
        },
      };
    },
  };
}
