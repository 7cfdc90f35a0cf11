/**
 * The control loop: every interval, ask the policy, decide, apply, log once.
 *
 * @module
 */

import type { Logger } from "@common/log.ts";
import { decide, type DecideOptions, type Decision, Stabilizer } from "./decide.ts";
import type { Fallback } from "./fallback.ts";
import type { AutoscalerMetrics } from "./metrics.ts";
import type { Policy } from "./policy.ts";
import type { MetricSource } from "./prometheus_client.ts";
import type { Scaler } from "./scaler.ts";

/** Everything one tick needs. */
export interface LoopContext {
  policy: Policy;
  source: MetricSource;
  scaler: Scaler;
  options: DecideOptions & { dryRun: boolean };
  stabilizer: Stabilizer;
  metrics: AutoscalerMetrics;
  logger: Logger;
  /** KEDA-style fallback count after readings without data; none by default. */
  fallback?: Fallback;
}

/** Creates the state a loop keeps between ticks. */
export function createStabilizer(options: DecideOptions): Stabilizer {
  return new Stabilizer(options.scaleDownWindowMs);
}

/**
 * Runs one tick at time `now`: recommend, decide, apply (unless dry run) and
 * write exactly one decision log line.
 */
export async function tick(context: LoopContext, now: number): Promise<Decision> {
  const { policy, source, scaler, options, stabilizer, metrics, logger } = context;
  let current: number;
  try {
    current = await scaler.current();
  } catch (cause) {
    // Without the current count nothing can be decided safely: hold, and
    // let the next tick try again (the scaler already backed off).
    const error = (cause as Error).message;
    metrics.errors.inc({ source: "scaler", reason: "read_failed" });
    logger.error("decision", {
      policy: policy.name,
      direction: "hold",
      applied: false,
      dryRun: options.dryRun,
      reason: `hold: cannot read the current replica count`,
      error,
    });
    return { current: NaN, desired: NaN, direction: "hold", reason: error };
  }
  const measured = await policy.recommend(source, { current, now });
  if (!measured.valid) metrics.errors.inc({ source: "metrics", reason: measured.cause });
  const recommendation = context.fallback?.apply(measured, current) ?? measured;
  const decision = decide(recommendation, current, { now, options, stabilizer });

  for (const [name, value] of Object.entries(recommendation.inputs)) {
    metrics.metricValue.set({ name }, value);
  }
  metrics.current.set(current);
  metrics.desired.set(decision.desired);
  metrics.decisions.inc({ direction: decision.direction, policy: policy.name });

  const change = decision.desired !== current;
  let applied = false;
  let error: string | undefined;
  if (change && !options.dryRun) {
    try {
      await scaler.scaleTo(decision.desired);
      applied = true;
    } catch (cause) {
      error = (cause as Error).message;
      metrics.errors.inc({ source: "scaler", reason: "apply_failed" });
    }
  }

  const fields = {
    policy: policy.name,
    inputs: recommendation.inputs,
    current,
    desired: decision.desired,
    direction: decision.direction,
    applied,
    dryRun: options.dryRun,
    reason: decision.reason,
    error,
  };
  if (error) logger.error("decision", fields);
  else logger.info("decision", fields);
  return decision;
}

/**
 * Ticks every `intervalMs` until `signal` aborts. A tick that outlasts the
 * interval delays the next one rather than overlapping it, so two decisions
 * never act on the fleet at once.
 */
export async function runLoop(
  context: LoopContext,
  intervalMs: number,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    const started = Date.now();
    await tick(context, started);
    const wait = Math.max(0, intervalMs - (Date.now() - started));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}
