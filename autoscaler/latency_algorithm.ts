/**
 * The latency policy's rule: keep the p95 latency under an SLO. Above it,
 * grow in proportion to how far above (p95 / SLO, at least one replica);
 * shrink one replica at a time, and only after the p95 has stayed
 * comfortably below the SLO for a whole stabilization window, because a
 * latency signal only shows spare capacity once it is gone. Pure: time is an
 * argument.
 *
 * @module
 */

/** Settings of the latency rule. */
export interface LatencyOptions {
  /** The p95 latency to stay under, in seconds. */
  sloSeconds: number;
  /** "Comfortably below" means under (1 - margin) x SLO. @default 0.3 */
  margin?: number;
  /** How long p95 must stay comfortably below before one replica goes, in ms. @default 60000 */
  stabilizationMs?: number;
}

/** What one decision chose and why. */
export interface LatencyStep {
  desired: number;
  reason: string;
}

/** Remembers since when the latency has been comfortably low. */
export class LatencyState {
  readonly #slo: number;
  readonly #low: number;
  readonly #stabilizationMs: number;
  #lowSince: number | undefined;

  constructor(options: LatencyOptions) {
    if (!(options.sloSeconds > 0)) {
      throw new RangeError(`SLO must be > 0, got ${options.sloSeconds}`);
    }
    this.#slo = options.sloSeconds;
    this.#low = options.sloSeconds * (1 - (options.margin ?? 0.3));
    this.#stabilizationMs = options.stabilizationMs ?? 60_000;
  }

  /** Decides at `now` (ms) with `current` replicas and the measured p95 in seconds. */
  next(now: number, current: number, p95: number): LatencyStep {
    const slo = `${(this.#slo * 1000).toFixed(0)} ms`;
    const seen = `p95 ${(p95 * 1000).toFixed(0)} ms`;
    if (p95 > this.#slo) {
      this.#lowSince = undefined;
      const desired = Math.max(current + 1, Math.ceil(current * (p95 / this.#slo)));
      return { desired, reason: `${seen} over the ${slo} SLO: x${(p95 / this.#slo).toFixed(2)}` };
    }
    if (p95 >= this.#low) {
      this.#lowSince = undefined;
      return { desired: current, reason: `${seen} under the ${slo} SLO, without room to shrink` };
    }
    this.#lowSince ??= now;
    const lowFor = now - this.#lowSince;
    if (lowFor >= this.#stabilizationMs && current > 0) {
      // One step, then a fresh window before the next.
      this.#lowSince = now;
      return {
        desired: current - 1,
        reason: `${seen} comfortably under ${slo} for ${lowFor / 1000} s`,
      };
    }
    return {
      desired: current,
      reason: `${seen} comfortably under ${slo} for ${lowFor / 1000} s of ` +
        `${this.#stabilizationMs / 1000} s before shrinking`,
    };
  }
}
