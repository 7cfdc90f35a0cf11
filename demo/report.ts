/**
 * What the demo prints besides the load tester's own lines: the autoscaler's
 * applied decisions as they happen, and the closing summary.
 *
 * @module
 */

import { formatSummary as formatLoadSummary } from "../loadtest/format.ts";
import type { LoadSummary } from "../loadtest/run_load.ts";

/** One applied decision, e.g. `  >> scale up 1 -> 3: rate 14.2/s over target 5/s per replica`. */
export function formatDecision(decision: Record<string, unknown>): string {
  const { current, desired, direction, reason } = decision;
  return `  >> scale ${direction} ${current} -> ${desired}: ${reason}`;
}

/** Facts about the fleet the load tester does not know. */
export interface FleetFacts {
  /** Fewest and most replicas seen. */
  low: number;
  high: number;
  /** Decisions the autoscaler applied, by direction. */
  ups: number;
  downs: number;
  weights: string;
}

/** The closing summary: the load tester's, then the fleet's. */
export function formatDemoSummary(summary: LoadSummary, fleet: FleetFacts): string {
  return [
    "",
    "Summary",
    formatLoadSummary(summary),
    `replicas: ${fleet.low} to ${fleet.high}; autoscaler applied ${fleet.ups} scale-ups and ` +
    `${fleet.downs} scale-downs`,
    `weights: ${fleet.weights}` +
    (fleet.weights === "synthetic" ? " (labels are meaningless; costs are real)" : ""),
  ].join("\n");
}
