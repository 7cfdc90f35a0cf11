/**
 * Knative's concurrency autoscaling (the KPA): replicas for the observed
 * concurrency at a target per replica, averaged over a stable window and a
 * short panic window. When the panic window asks for at least twice the
 * ready capacity the autoscaler panics: it follows the panic window, never
 * scales down, and calms down only after a whole stable window without
 * panic. It never sheds more than half the replicas in one decision. Pure:
 * time and the window averages are arguments.
 *
 * @module
 */

/** Settings of the concurrency algorithm. */
export interface KnativeOptions {
  /** In-flight requests one replica should hold at full utilization. */
  targetConcurrency: number;
  /** Share of the target to aim for, leaving headroom. @default 0.7 */
  targetUtilization?: number;
  /** Panic when panic-window demand reaches this multiple of ready capacity. @default 2 */
  panicThreshold?: number;
  /** Length of the stable window, in ms: also how long panic lasts. @default 60000 */
  stableWindowMs?: number;
  /** At most 1/this of the replicas go in one decision. @default 2 */
  maxScaleDownRate?: number;
}

/** What one decision saw and chose. */
export interface KnativeStep {
  desired: number;
  panicking: boolean;
  /** Replicas the stable and the panic window ask for. */
  stableWants: number;
  panicWants: number;
  reason: string;
}

/** The panic state kept between decisions. */
export class KnativeState {
  readonly #target: number;
  readonly #threshold: number;
  readonly #stableWindowMs: number;
  readonly #maxScaleDownRate: number;
  #panicSince: number | undefined;
  #lastPanicAt = 0;
  #panicHigh = 0;

  constructor(options: KnativeOptions) {
    const utilization = options.targetUtilization ?? 0.7;
    this.#target = options.targetConcurrency * utilization;
    this.#threshold = options.panicThreshold ?? 2;
    this.#stableWindowMs = options.stableWindowMs ?? 60_000;
    this.#maxScaleDownRate = options.maxScaleDownRate ?? 2;
    if (!(this.#target > 0)) {
      throw new RangeError(`target concurrency x utilization must be > 0, got ${this.#target}`);
    }
  }

  /**
   * Decides at `now` (ms) from the average total concurrency over the
   * stable and the panic window, with `ready` replicas serving.
   */
  next(
    now: number,
    ready: number,
    stableConcurrency: number,
    panicConcurrency: number,
  ): KnativeStep {
    const stableWants = Math.ceil(stableConcurrency / this.#target);
    const panicWants = Math.ceil(panicConcurrency / this.#target);
    // A fleet with no ready replica has no capacity: any demand is a panic.
    const capacity = Math.max(ready, 1);
    const overThreshold = panicConcurrency / this.#target / capacity >= this.#threshold;

    if (overThreshold) {
      if (this.#panicSince === undefined) {
        this.#panicSince = now;
        this.#panicHigh = ready;
      }
      this.#lastPanicAt = now;
    } else if (this.#panicSince !== undefined && now - this.#lastPanicAt >= this.#stableWindowMs) {
      this.#panicSince = undefined;
      this.#panicHigh = 0;
    }

    const floor = Math.floor(ready / this.#maxScaleDownRate);
    if (this.#panicSince !== undefined) {
      // In panic the fleet only grows: the highest count asked for since it began.
      this.#panicHigh = Math.max(this.#panicHigh, panicWants, ready);
      return {
        desired: this.#panicHigh,
        panicking: true,
        stableWants,
        panicWants,
        reason: `panic: ${panicConcurrency.toFixed(1)} in flight over the panic window is ` +
          `>= ${this.#threshold}x the capacity of ${ready} ready replicas; never shrinking`,
      };
    }
    const desired = Math.max(stableWants, floor);
    const halved = desired > stableWants ? `, at most halved (floor ${floor})` : "";
    return {
      desired,
      panicking: false,
      stableWants,
      panicWants,
      reason: `${stableConcurrency.toFixed(1)} in flight over the stable window at ` +
        `${this.#target.toFixed(2)} per replica${halved}`,
    };
  }
}
