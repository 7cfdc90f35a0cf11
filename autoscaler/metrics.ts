/**
 * The autoscaler's own metrics, so its state can be graphed beside the load.
 *
 * @module
 */

import { Counter, Gauge, Registry } from "prom-client";
import { AUTOSCALER } from "@common/metrics.ts";

/** The autoscaler's metrics in their own registry. */
export interface AutoscalerMetrics {
  registry: Registry;
  desired: Gauge;
  current: Gauge;
  decisions: Counter<"direction" | "policy">;
  metricValue: Gauge<"name">;
  errors: Counter<"source" | "reason">;
}

/** Creates the metrics in a fresh registry (never the global one). */
export function createAutoscalerMetrics(): AutoscalerMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    desired: new Gauge({
      name: AUTOSCALER.desired,
      help: "Replica count the last decision asked for",
      registers,
    }),
    current: new Gauge({
      name: AUTOSCALER.current,
      help: "Ready replicas seen by the last decision",
      registers,
    }),
    decisions: new Counter({
      name: AUTOSCALER.decisions,
      help: "Decisions taken, by direction (up, down, none, hold) and policy",
      labelNames: ["direction", "policy"],
      registers,
    }),
    metricValue: new Gauge({
      name: AUTOSCALER.metricValue,
      help: "Inputs of the last valid decision, by name",
      labelNames: ["name"],
      registers,
    }),
    errors: new Counter({
      name: AUTOSCALER.errors,
      help: "Failures, by source (metrics, scaler) and reason",
      labelNames: ["source", "reason"],
      registers,
    }),
  };
}
