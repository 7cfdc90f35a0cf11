/**
 * The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) algorithm, as its
 * controller computes it: a proportional recommendation with a tolerance,
 * stabilization windows over past recommendations, and rate limits from
 * scaling policies over past scale events. Pure: time is an argument.
 *
 * @module
 */

/** One scaling policy: at most `value` pods, or `value` percent, per `periodSeconds`. */
export interface HpaScalingPolicy {
  type: "Pods" | "Percent";
  value: number;
  periodSeconds: number;
}

/** One direction's behaviour, as in a HorizontalPodAutoscaler's `spec.behavior`. */
export interface HpaRules {
  stabilizationWindowSeconds: number;
  /** `Max` takes the policy allowing the biggest change, `Min` the smallest. */
  selectPolicy: "Max" | "Min" | "Disabled";
  policies: HpaScalingPolicy[];
}

/** Both directions' behaviour. */
export interface HpaBehavior {
  scaleUp: HpaRules;
  scaleDown: HpaRules;
}

/** The controller's defaults when `spec.behavior` is absent. */
export const DEFAULT_BEHAVIOR: HpaBehavior = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max",
    policies: [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: "Max",
    policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
  },
};

/**
 * The proportional step: ceil(ready x metric / target), or `ready` itself
 * when the ratio is within `tolerance` of 1. The metric is the average per
 * ready replica.
 *
 * Worked case: 3 ready replicas at 80 % CPU with a 50 % target give a ratio
 * of 1.6 and ceil(4.8) = 5; at 53 % the ratio 1.06 is inside the 0.1
 * tolerance and the answer stays 3.
 */
export function proportional(
  ready: number,
  metricPerReplica: number,
  target: number,
  tolerance: number,
): number {
  const ratio = metricPerReplica / target;
  if (Math.abs(ratio - 1) <= tolerance) return ready;
  return Math.ceil(ratio * ready);
}

/** What {@linkcode HpaState.next} decided and why. */
export interface HpaStep {
  desired: number;
  /** The proportional recommendation before stabilization and rate limits. */
  recommended: number;
  /** After the stabilization windows. */
  stabilized: number;
  /** Which rule, if any, changed the stabilized value. */
  limitedBy?: string;
}

/**
 * The memory the algorithm needs between decisions: past recommendations
 * (for stabilization) and past scale events (for the rate limits).
 */
export class HpaState {
  readonly #behavior: HpaBehavior;
  #recommendations: Array<{ time: number; replicas: number }> = [];
  #events: Array<{ time: number; change: number }> = [];

  constructor(behavior: HpaBehavior = DEFAULT_BEHAVIOR) {
    this.#behavior = behavior;
  }

  /**
   * Takes the proportional recommendation at `now` (ms) with `current`
   * replicas, returns what to scale to, and remembers both.
   */
  next(now: number, current: number, recommended: number): HpaStep {
    const { scaleUp, scaleDown } = this.#behavior;
    this.#recommendations.push({ time: now, replicas: recommended });
    const longest = Math.max(
      scaleUp.stabilizationWindowSeconds,
      scaleDown.stabilizationWindowSeconds,
    );
    this.#recommendations = this.#recommendations.filter((r) => now - r.time <= longest * 1000);

    // Scaling up uses the lowest recommendation of its window, scaling down
    // the highest of its own, so a short spike or dip does not move the fleet.
    let up = recommended;
    let down = recommended;
    for (const r of this.#recommendations) {
      if (now - r.time <= scaleUp.stabilizationWindowSeconds * 1000) up = Math.min(up, r.replicas);
      if (now - r.time <= scaleDown.stabilizationWindowSeconds * 1000) {
        down = Math.max(down, r.replicas);
      }
    }
    let stabilized = current;
    if (stabilized < up) stabilized = up;
    if (stabilized > down) stabilized = down;

    let desired = stabilized;
    let limitedBy: string | undefined;
    if (stabilized > current) {
      const limit = this.#limit(now, current, scaleUp, "up");
      if (stabilized > limit) [desired, limitedBy] = [limit, "scale-up policy"];
    } else if (stabilized < current) {
      const limit = this.#limit(now, current, scaleDown, "down");
      if (stabilized < limit) [desired, limitedBy] = [limit, "scale-down policy"];
    }
    if (limitedBy === undefined && stabilized !== recommended) limitedBy = "stabilization window";
    if (desired !== current) this.#events.push({ time: now, change: desired - current });
    const longestPeriod = Math.max(
      ...[...scaleUp.policies, ...scaleDown.policies].map((p) => p.periodSeconds),
      0,
    );
    this.#events = this.#events.filter((e) => now - e.time <= longestPeriod * 1000);
    return { desired, recommended, stabilized, limitedBy };
  }

  // The replica count the policies allow, counted from the count at the start
  // of each policy's period (the controller's "period start replicas").
  #limit(now: number, current: number, rules: HpaRules, direction: "up" | "down"): number {
    if (rules.selectPolicy === "Disabled") return current;
    const limits = rules.policies.map((policy) => {
      const changed = this.#events
        .filter((e) => now - e.time <= policy.periodSeconds * 1000)
        .filter((e) => (direction === "up" ? e.change > 0 : e.change < 0))
        .reduce((sum, e) => sum + e.change, 0);
      const start = current - changed;
      if (direction === "up") {
        return policy.type === "Pods"
          ? start + policy.value
          : Math.ceil(start * (1 + policy.value / 100));
      }
      return policy.type === "Pods"
        ? start - policy.value
        : Math.floor(start * (1 - policy.value / 100));
    });
    // For scale-up the biggest change is the highest limit; for scale-down, the lowest.
    const biggest = direction === "up" ? Math.max(...limits) : Math.min(...limits);
    const smallest = direction === "up" ? Math.min(...limits) : Math.max(...limits);
    return rules.selectPolicy === "Max" ? biggest : smallest;
  }
}
