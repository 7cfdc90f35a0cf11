/**
 * Repeated runs of one policy folded into one line: the median and the range
 * of each figure. One run on a shared machine is one noisy sample; the median
 * resists a single outlier and the range shows how far the runs disagreed.
 *
 * @module
 */

/** One figure over a policy's runs. */
export interface Spread {
  /** Median of the runs that have a value; null when none has. */
  median: number | null;
  min: number | null;
  max: number | null;
  /** How many runs have a value (a run with no answer has no latency, for one). */
  count: number;
}

/**
 * The median, minimum and maximum of the non-null `values`; an even count
 * takes the mean of the two middle values.
 */
export function spread(values: readonly (number | null)[]): Spread {
  const sorted = values.filter((value): value is number => value !== null)
    .sort((a, b) => a - b);
  const count = sorted.length;
  if (count === 0) return { median: null, min: null, max: null, count };
  const middle = Math.floor(count / 2);
  const median = count % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[count - 1], count };
}

/** The figures of one run that a policy's aggregate covers. */
export interface RunFigures {
  label: string;
  /** 1 for the first run of the policy. */
  repeat: number;
  failed: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  replicaSeconds: number;
  scaleUpSeconds: number | null;
  scaleDownSeconds: number | null;
  stoppedEarly: boolean;
}

/** One policy over all its runs. */
export interface PolicyAggregate {
  label: string;
  /** Runs of this policy that finished (an interrupted experiment may have fewer). */
  runs: number;
  /** Repeat numbers of the runs stopped early, whose figures cover part of the load. */
  stoppedEarly: number[];
  p50Ms: Spread;
  p95Ms: Spread;
  p99Ms: Spread;
  failed: Spread;
  replicaSeconds: Spread;
  /** `count` tells in how many runs the fleet grew at all. */
  scaleUpSeconds: Spread;
  /** `count` tells in how many runs the fleet got back in time. */
  scaleDownSeconds: Spread;
  /** The repeat whose p95 is the policy's typical one (see {@linkcode medianRepeat}). */
  medianRepeat: number;
}

/** Groups `rows` by policy, in the order each policy first appears. */
export function aggregatePolicies(rows: readonly RunFigures[]): PolicyAggregate[] {
  const groups = new Map<string, RunFigures[]>();
  for (const row of rows) groups.set(row.label, [...groups.get(row.label) ?? [], row]);
  return [...groups].map(([label, runs]) => {
    const of = (pick: (row: RunFigures) => number | null) => spread(runs.map(pick));
    return {
      label,
      runs: runs.length,
      stoppedEarly: runs.filter((row) => row.stoppedEarly).map((row) => row.repeat),
      p50Ms: of((row) => row.p50Ms),
      p95Ms: of((row) => row.p95Ms),
      p99Ms: of((row) => row.p99Ms),
      failed: of((row) => row.failed),
      replicaSeconds: of((row) => row.replicaSeconds),
      scaleUpSeconds: of((row) => row.scaleUpSeconds),
      scaleDownSeconds: of((row) => row.scaleDownSeconds),
      medianRepeat: medianRepeat(runs),
    };
  });
}

/**
 * The run that stands for a policy in the charts: its median run by p95 (for
 * an even count, the lower of the two middle runs; among equal p95s, the
 * earlier repeat). Runs without any answer have no p95 and are chosen only
 * when no run has one.
 *
 * @throws {RangeError} when `runs` is empty
 */
export function medianRepeat(runs: readonly RunFigures[]): number {
  if (runs.length === 0) throw new RangeError("Cannot pick a median run: expected at least one");
  // Ranking by position, not by distance to the median value, so two middle
  // runs never tie on a rounding error.
  const answered = runs.filter((row) => row.p95Ms !== null)
    .sort((a, b) => a.p95Ms! - b.p95Ms! || a.repeat - b.repeat);
  if (answered.length === 0) return runs[0].repeat;
  return answered[Math.floor((answered.length - 1) / 2)].repeat;
}

/**
 * `spread` as `1514 (1402-1630)`: the median, then the range when the runs
 * differ, then `[2/3]` when only some runs have a value; `-` when none has.
 */
export function formatSpread(value: Spread, digits: number, runs: number): string {
  if (value.median === null) return "-";
  const fixed = (n: number) => n.toFixed(digits);
  let text = fixed(value.median);
  if (fixed(value.min!) !== fixed(value.max!)) {
    text += ` (${fixed(value.min!)}-${fixed(value.max!)})`;
  }
  if (value.count < runs) text += ` [${value.count}/${runs}]`;
  return text;
}
