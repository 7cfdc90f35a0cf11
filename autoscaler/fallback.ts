/**
 * KEDA's fallback: after a number of readings in a row without usable data,
 * go to a configured replica count instead of holding forever. It never
 * shrinks the fleet (missing data must not look like idle traffic), so it
 * only raises a fleet that is below the fallback count.
 *
 * @module
 */

import type { Recommendation } from "./policy.ts";

/** The fallback count and when it applies. */
export interface FallbackOptions {
  replicas: number;
  /** Invalid readings in a row before the fallback applies. */
  afterFailures: number;
}

/** Counts invalid readings in a row and substitutes the fallback when due. */
export class Fallback {
  readonly #options: FallbackOptions;
  #failures = 0;

  constructor(options: FallbackOptions) {
    this.#options = options;
  }

  /** Invalid readings in a row so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Returns `recommendation`, or the fallback one when enough readings failed in a row. */
  apply(recommendation: Recommendation, current: number): Recommendation {
    if (recommendation.valid) {
      this.#failures = 0;
      return recommendation;
    }
    this.#failures++;
    const { replicas, afterFailures } = this.#options;
    if (this.#failures < afterFailures) return recommendation;
    return {
      valid: true,
      desired: Math.max(current, replicas),
      reason: `fallback to ${replicas} after ${this.#failures} readings without data ` +
        `(last: ${recommendation.reason}); never below the current ${current}`,
      inputs: { ...recommendation.inputs, failures: this.#failures, fallback: replicas },
    };
  }
}
