/**
 * The order of an experiment's runs when each policy runs more than once:
 * interleaved (every policy's first run, then every policy's second, ...),
 * so a machine that slowly gets busier or quieter weighs on every policy
 * alike instead of on whichever ran last.
 *
 * @module
 */

import type { PlannedRun } from "./config.ts";
import { runFolderName } from "./policy_spec.ts";

/** One run in the experiment's order. */
export interface ScheduledRun {
  run: PlannedRun;
  /** 1 for the policy's first run. */
  repeat: number;
  /** How many times every policy runs. */
  repeats: number;
  /** The run's folder inside the output folder, e.g. `6-hpa-0.7-r2`. */
  folder: string;
}

/** Every run of `runs`, `repeats` times each, interleaved. */
export function scheduleRuns(runs: readonly PlannedRun[], repeats: number): ScheduledRun[] {
  const schedule: ScheduledRun[] = [];
  for (let repeat = 1; repeat <= repeats; repeat++) {
    for (const run of runs) {
      const base = runFolderName(run, schedule.length);
      // Without repeats the names stay as they were before `--repeat` existed.
      const folder = repeats === 1 ? base : `${base}-r${repeat}`;
      schedule.push({ run, repeat, repeats, folder });
    }
  }
  return schedule;
}

/**
 * How the run is named in progress lines and charts: the policy's label,
 * plus `#2` for its second run when there are repeats.
 */
export function runName(label: string, repeat: number, repeats: number): string {
  return repeats === 1 ? label : `${label} #${repeat}`;
}
