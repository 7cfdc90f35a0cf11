/**
 * One simulated run: a trace against the modelled fleet, with the live
 * autoscaler's policy and decision code, in virtual time.
 *
 * @module
 */

import { seededUniform } from "@common/seeded.ts";
import type { AutoscalerConfig } from "../config.ts";
import { createPolicy } from "../create_policy.ts";
import { decide, Stabilizer } from "../decide.ts";
import type { Recommendation } from "../policy.ts";
import { Cluster, type ClusterModel } from "./cluster.ts";
import { SimulatedMetrics } from "./metric_source.ts";
import type { Trace } from "./traces.ts";

/** What one run produced. */
export interface SimulationResult {
  policy: string;
  trace: string;
  /** Requests that arrived; those still unanswered at the end count as neither. */
  requests: number;
  refused: number;
  /** Answered, but slower than the SLO. */
  overSlo: number;
  p95Ms: number;
  p99Ms: number;
  /** Replica-seconds: what the fleet cost. */
  replicaSeconds: number;
  scaleEvents: number;
  /** Per second: offered rate and replicas running (ready or starting). */
  offered: number[];
  replicas: number[];
}

/** Options of {@linkcode simulate}. */
export interface SimulateOptions {
  config: AutoscalerConfig;
  trace: Trace;
  model: ClusterModel;
  /** Latency that counts as too slow, seconds. */
  sloSeconds: number;
  seed?: number;
  /** Called with every recommendation, for tests and debugging. */
  onRecommendation?: (recommendation: Recommendation, second: number) => void;
}

/** Runs the trace through the fleet under the configured policy. */
export async function simulate(options: SimulateOptions): Promise<SimulationResult> {
  const { config, trace, model, sloSeconds, seed = 1 } = options;
  const cluster = new Cluster(model, seed, config.min);
  const { policy, scaleDownWindowMs, tolerance } = createPolicy(config);
  const windows = [
    config.window,
    `${config.stableWindowSeconds}s`,
    `${config.panicWindowSeconds}s`,
  ];
  const metrics = new SimulatedMetrics(cluster, windows);
  const decideOptions = {
    min: config.min,
    max: config.max,
    scaleDownWindowMs,
    tolerance,
    maxStep: config.maxStep,
  };
  const stabilizer = new Stabilizer(scaleDownWindowMs);
  const random = seededPoisson(seed + 1);

  const offered: number[] = [];
  const replicas: number[] = [];
  let scaleEvents = 0;
  // Like the live local scaler, the loop waits for a scale-up to be ready
  // before it decides again.
  let busyUntil = 0;
  let nextDecision = config.intervalSeconds;
  for (let second = 0; second < trace.seconds; second++) {
    const rate = trace.rate(second);
    offered.push(rate);
    cluster.runSecond(second, random(rate));
    replicas.push(cluster.size);
    const now = second + 1;
    if (now < nextDecision || now < busyUntil) continue;
    nextDecision = now + config.intervalSeconds;
    metrics.now = now;
    const current = cluster.ready(now);
    const recommendation = await policy.recommend(metrics, { current, now: now * 1000 });
    options.onRecommendation?.(recommendation, now);
    const decision = decide(recommendation, current, {
      now: now * 1000,
      options: decideOptions,
      stabilizer,
    });
    if (decision.desired !== cluster.size && decision.direction !== "hold") {
      if (decision.desired > cluster.size) busyUntil = now + model.startupSeconds;
      cluster.scaleTo(now, decision.desired);
      scaleEvents++;
    }
  }

  const all = cluster.latencies.flat().sort((a, b) => a - b);
  const pick = (q: number) =>
    all.length === 0 ? NaN : all[Math.min(all.length - 1, Math.ceil(q * all.length) - 1)] * 1000;
  const refused = cluster.refused.reduce((sum, n) => sum + (n ?? 0), 0);
  return {
    policy: policy.name,
    trace: trace.name,
    requests: cluster.arrived,
    refused,
    overSlo: all.filter((latency) => latency > sloSeconds).length,
    p95Ms: pick(0.95),
    p99Ms: pick(0.99),
    replicaSeconds: cluster.replicaSeconds,
    scaleEvents,
    offered,
    replicas,
  };
}

/** Poisson-distributed counts for a given mean, seeded (Knuth's method; normal above 30). */
function seededPoisson(seed: number): (mean: number) => number {
  const uniform = seededUniform(seed);
  return (mean) => {
    if (mean <= 0) return 0;
    if (mean > 30) {
      const normal = Math.sqrt(-2 * Math.log(Math.max(uniform(), 1e-12))) *
        Math.cos(2 * Math.PI * uniform());
      return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
    }
    const limit = Math.exp(-mean);
    let count = 0;
    let product = uniform();
    while (product > limit) {
      count++;
      product *= uniform();
    }
    return count;
  };
}
