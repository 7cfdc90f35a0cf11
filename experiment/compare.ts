/**
 * The comparison of an experiment's runs: one row per run with its latency,
 * errors, cost and reaction times, and, when policies ran more than once, one
 * line per policy with the median and range of its runs; as JSON and as a
 * printed table.
 *
 * @module
 */

import { formatErrors } from "../loadtest/format.ts";
import type { ProfileSpec } from "../loadtest/profile.ts";
import { aggregatePolicies, formatSpread, type PolicyAggregate } from "./aggregate.ts";
import type { RunRecord } from "./run_policy.ts";
import { runName } from "./schedule.ts";

/** One run's row. */
export interface ComparisonRow {
  /** The policy's label; several rows share it when the policy ran more than once. */
  label: string;
  /** Which run of the policy, from 1. */
  repeat: number;
  /** Its `run.json`, relative to the comparison's folder. */
  file: string;
  sent: number;
  ok: number;
  failed: number;
  errors: Record<string, number>;
  /** Latency of the successful answers, ms; null when none succeeded. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  replicaSeconds: number;
  peakReplicas: number;
  scaleUpSeconds: number | null;
  scaleDownSeconds: number | null;
  /** Decisions applied, by direction. */
  ups: number;
  downs: number;
  /** True when the run was interrupted: its figures cover part of the load only. */
  stoppedEarly: boolean;
}

/** What `compare.json` holds. */
export interface Comparison {
  createdAt: string;
  profileText: string;
  profile: ProfileSpec;
  seed: number;
  /** The peak load, seconds from the start, that the reaction times refer to. */
  peak: { start: number; end: number; rate: number };
  horizonSeconds: number;
  /** The most runs any policy had: 1 without `--repeat`. */
  repeats: number;
  /** One per policy, in the order of the runs: the median and range of its runs. */
  policies: PolicyAggregate[];
  /** One per run, in the order they ran. */
  rows: ComparisonRow[];
}

/**
 * Builds the comparison of `records`, which must share one profile; `files`
 * gives each record's `run.json` path, in the same order.
 *
 * @throws {RangeError} when there is no record, or the records' loads differ
 */
export function compareRuns(
  records: readonly RunRecord[],
  files: readonly string[],
  createdAt: Date,
): Comparison {
  if (records.length === 0) throw new RangeError("Cannot compare runs: expected at least one");
  const first = records[0].experiment;
  const loadOf = (record: RunRecord) =>
    JSON.stringify([
      record.settings.profile,
      record.experiment.seed,
      record.experiment.horizonSeconds,
    ]);
  for (const record of records) {
    if (loadOf(record) !== loadOf(records[0])) {
      throw new RangeError(
        `Cannot compare runs under different loads: "${record.experiment.label}" differs ` +
          `from "${first.label}" in profile, seed or horizon`,
      );
    }
  }
  const rows = records.map((record, index) => row(record, files[index]));
  const policies = aggregatePolicies(rows);
  return {
    createdAt: createdAt.toISOString(),
    profileText: first.profileText,
    profile: records[0].settings.profile!,
    seed: first.seed,
    peak: first.peak,
    horizonSeconds: first.horizonSeconds,
    repeats: Math.max(...policies.map((policy) => policy.runs)),
    policies,
    rows,
  };
}

function row(record: RunRecord, file: string): ComparisonRow {
  const { summary } = record;
  const { fleet, decisions } = record.experiment;
  const latency = summary.latencyMs;
  const applied = (direction: string) =>
    decisions.applied.filter((decision) => decision.direction === direction).length;
  return {
    label: record.experiment.label,
    repeat: record.experiment.repeat ?? 1,
    file,
    sent: summary.sent,
    ok: summary.ok,
    failed: summary.failed,
    errors: summary.errors,
    p50Ms: latency?.p50 ?? null,
    p95Ms: latency?.p95 ?? null,
    p99Ms: latency?.p99 ?? null,
    maxMs: latency?.max ?? null,
    replicaSeconds: fleet.replicaSeconds,
    peakReplicas: fleet.peakReplicas,
    scaleUpSeconds: fleet.scaleUpSeconds,
    scaleDownSeconds: fleet.scaleDownSeconds,
    ups: applied("up"),
    downs: applied("down"),
    stoppedEarly: summary.stoppedEarly,
  };
}

type Column<T> = [string, (row: T) => string];

const COLUMNS: Column<ComparisonRow>[] = [
  ["policy", (row) => row.label],
  ["p50 ms", (row) => number(row.p50Ms, 0)],
  ["p95 ms", (row) => number(row.p95Ms, 0)],
  ["p99 ms", (row) => number(row.p99Ms, 0)],
  ["max ms", (row) => number(row.maxMs, 0)],
  ["ok", (row) => String(row.ok)],
  ["failed", (row) => String(row.failed)],
  ["replica-s", (row) => number(row.replicaSeconds, 0)],
  ["peak", (row) => String(row.peakReplicas)],
  ["up after s", (row) => number(row.scaleUpSeconds, 1)],
  ["down after s", (row) => number(row.scaleDownSeconds, 1)],
  ["ups/downs", (row) => `${row.ups}/${row.downs}`],
];

const AGGREGATE_COLUMNS: Column<PolicyAggregate>[] = [
  ["policy", (policy) => policy.label],
  ["runs", (policy) => String(policy.runs)],
  ["p50 ms", (policy) => formatSpread(policy.p50Ms, 0, policy.runs)],
  ["p95 ms", (policy) => formatSpread(policy.p95Ms, 0, policy.runs)],
  ["p99 ms", (policy) => formatSpread(policy.p99Ms, 0, policy.runs)],
  ["failed", (policy) => formatSpread(policy.failed, 0, policy.runs)],
  ["replica-s", (policy) => formatSpread(policy.replicaSeconds, 0, policy.runs)],
  ["up after s", (policy) => formatSpread(policy.scaleUpSeconds, 1, policy.runs)],
  ["down after s", (policy) => formatSpread(policy.scaleDownSeconds, 1, policy.runs)],
];

/**
 * The comparison as fixed-width text: one line per run, the errors of each
 * run that had any, then (when policies ran more than once) one line per
 * policy with the median and range of its runs, and a line saying what the
 * times mean. With one run per policy it is the per-run table alone.
 */
export function formatComparison(comparison: Comparison): string {
  const { repeats } = comparison;
  const name = (row: ComparisonRow) => runName(row.label, row.repeat, repeats);
  const columns: Column<ComparisonRow>[] = [["policy", name], ...COLUMNS.slice(1)];
  const lines = table(columns, comparison.rows);
  for (const row of comparison.rows) {
    if (row.failed > 0) lines.push(`errors of ${name(row)}: ${formatErrors(row.errors)}`);
    if (row.stoppedEarly) {
      lines.push(`${name(row)} was stopped early: its figures cover part of the load only`);
    }
  }
  if (repeats > 1) {
    lines.push(
      "",
      `Per policy over its runs: median (min-max); [k/n] = only k of its n runs had a value`,
      ...table(AGGREGATE_COLUMNS, comparison.policies),
    );
  }
  const { peak, horizonSeconds } = comparison;
  lines.push(
    `peak load ${peak.rate}/s from ${peak.start} s to ${peak.end} s; "up after" counts from its ` +
      `start, "down after" from its end (- = did not happen); replica-s over ${horizonSeconds} s`,
  );
  return lines.join("\n");
}

function table<T>(columns: readonly Column<T>[], rows: readonly T[]): string[] {
  const cells = rows.map((row) => columns.map(([, cell]) => cell(row)));
  const widths = columns.map(([title], column) =>
    Math.max(title.length, ...cells.map((line) => line[column].length))
  );
  const line = (parts: string[]) =>
    parts.map((part, column) =>
      column === 0 ? part.padEnd(widths[0]) : part.padStart(widths[column])
    ).join("  ");
  return [line(columns.map(([title]) => title)), ...cells.map(line)];
}

function number(value: number | null, digits: number): string {
  return value === null ? "-" : value.toFixed(digits);
}
