/**
 * The contract between the control loop and a scaling policy. A policy turns
 * measurements into a recommended replica count; it never touches replicas.
 *
 * @module
 */

import type { MetricSource } from "./prometheus_client.ts";

/** What a policy knows when it decides. */
export interface PolicyInput {
  /** Replicas serving now (ready ones only). */
  current: number;
  /** Wall-clock time of the decision, in milliseconds. */
  now: number;
}

/**
 * A policy's answer. `valid: false` means "no decision": the loop then keeps
 * the current count, so missing data can never shrink the fleet.
 */
export type Recommendation =
  | {
    valid: true;
    desired: number;
    reason: string;
    inputs: Record<string, number>;
  }
  | {
    valid: false;
    /** Short machine-readable cause, e.g. `unreachable`, for metrics. */
    cause: string;
    reason: string;
    inputs: Record<string, number>;
  };

/** A scaling policy. */
export interface Policy {
  /** Name as users select it, e.g. `rate`. */
  readonly name: string;
  /** Queries its metrics and recommends a replica count, before min/max bounds. */
  recommend(source: MetricSource, input: PolicyInput): Promise<Recommendation>;
}
