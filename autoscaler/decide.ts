/**
 * Turns a policy's recommendation into the replica count to apply: bounds,
 * scale-down stabilization, and "hold" when there is no valid recommendation.
 * Pure apart from the stabilizer's memory; time is an argument.
 *
 * @module
 */

import type { Recommendation } from "./policy.ts";

/** Bounds and damping shared by every policy. */
export interface DecideOptions {
  /** Fewest replicas, at least 1 on one machine. */
  min: number;
  /** Most replicas. */
  max: number;
  /**
   * How long, in milliseconds, a higher recommendation keeps the fleet from
   * shrinking. Scaling down late costs a little money; scaling down early and
   * back up costs latency, so only scale-down is damped.
   */
  scaleDownWindowMs: number;
  /**
   * Dead band: no change while |desired / current - 1| is at most this, so
   * a fleet of 20 does not move for one replica's worth of noise. The `hpa`
   * policy applies its tolerance to the metric instead. @default 0
   */
  tolerance?: number;
  /** Most replicas added or removed in one decision. @default unlimited */
  maxStep?: number;
}

/** Which way a decision moves the fleet. */
export type Direction = "up" | "down" | "none" | "hold";

/** One decision of the loop, ready to log and apply. */
export interface Decision {
  current: number;
  desired: number;
  direction: Direction;
  reason: string;
}

/** Remembers recent recommendations to damp scale-down. */
export class Stabilizer {
  #history: { time: number; desired: number }[] = [];
  #windowMs: number;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Records `desired` at `now` and returns the highest recommendation in the window. */
  push(now: number, desired: number): number {
    this.#history.push({ time: now, desired });
    this.#history = this.#history.filter((entry) => now - entry.time <= this.#windowMs);
    return Math.max(...this.#history.map((entry) => entry.desired));
  }
}

/**
 * Decides the replica count for one tick.
 *
 * Worked case: min 1, max 4, current 3, a window of 30 s that saw 3, then 2,
 * now 1: the stabilized value is 3, so the fleet holds at 3 until the 3 ages
 * out of the window, then shrinks to 2, then to 1.
 */
export function decide(
  recommendation: Recommendation,
  current: number,
  context: { now: number; options: DecideOptions; stabilizer: Stabilizer },
): Decision {
  const { now, options, stabilizer } = context;
  if (!recommendation.valid) {
    // Never act on missing data: a scrape gap must not look like zero traffic.
    const desired = Math.min(Math.max(current, options.min), options.max);
    const direction = desired === current ? "hold" : desired > current ? "up" : "down";
    const bounds = `[${options.min}, ${options.max}]`;
    const reason = desired === current
      ? `hold: ${recommendation.reason}`
      : `${recommendation.reason}; bringing ${current} into bounds ${bounds}`;
    return { current, desired, direction, reason };
  }

  const raw = recommendation.desired;
  const bounded = Math.min(Math.max(raw, options.min), options.max);
  const stabilized = stabilizer.push(now, bounded);
  let desired = bounded;
  let reason = `${recommendation.reason} -> ${raw}`;
  if (bounded !== raw) reason += `, bounded to ${bounded} by [${options.min}, ${options.max}]`;
  if (bounded < current) {
    desired = Math.min(current, stabilized);
    if (desired > bounded) {
      const seconds = options.scaleDownWindowMs / 1000;
      reason += `, held at ${desired} by the ${seconds} s scale-down window`;
    }
  }

  const tolerance = options.tolerance ?? 0;
  // The epsilon keeps 22 of 20 (ratio 1.1000000000000001 in floating point) inside 0.1.
  const ratio = Math.abs(desired / current - 1);
  if (desired !== current && current > 0 && ratio <= tolerance + 1e-9) {
    reason += `, within the ${tolerance} tolerance of ${current}`;
    desired = current;
  }
  const maxStep = options.maxStep ?? Infinity;
  if (Math.abs(desired - current) > maxStep) {
    const stepped = current + Math.sign(desired - current) * maxStep;
    // A step must not leave the bounds it was clamped into.
    desired = Math.min(Math.max(stepped, options.min), options.max);
    reason += `, limited to ${desired} by a maximum step of ${maxStep}`;
  }

  const direction = desired > current ? "up" : desired < current ? "down" : "none";
  return { current, desired, direction, reason };
}
