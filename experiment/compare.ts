/**
 * The comparison of an experiment's runs: one row per policy with its
 * latency, errors, cost and reaction times, as JSON and as a printed table.
 *
 * @module
 */

import { formatErrors } from "../loadtest/format.ts";
import type { ProfileSpec } from "../loadtest/profile.ts";
import type { RunRecord } from "./run_policy.ts";

/** One policy's row. */
export interface ComparisonRow {
  label: string;
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
  return {
    createdAt: createdAt.toISOString(),
    profileText: first.profileText,
    profile: records[0].settings.profile!,
    seed: first.seed,
    peak: first.peak,
    horizonSeconds: first.horizonSeconds,
    rows: records.map((record, index) => row(record, files[index])),
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

const COLUMNS: [string, (row: ComparisonRow) => string][] = [
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

/**
 * The comparison as a fixed-width table, one line per policy, followed by the
 * errors of each policy that had any and a line saying what the times mean.
 */
export function formatComparison(comparison: Comparison): string {
  const cells = comparison.rows.map((row) => COLUMNS.map(([, cell]) => cell(row)));
  const widths = COLUMNS.map(([title], column) =>
    Math.max(title.length, ...cells.map((line) => line[column].length))
  );
  const line = (parts: string[]) =>
    parts.map((part, column) =>
      column === 0 ? part.padEnd(widths[0]) : part.padStart(widths[column])
    )
      .join("  ");
  const lines = [line(COLUMNS.map(([title]) => title)), ...cells.map(line)];
  for (const row of comparison.rows) {
    if (row.failed > 0) lines.push(`errors of ${row.label}: ${formatErrors(row.errors)}`);
    if (row.stoppedEarly) {
      lines.push(`${row.label} was stopped early: its figures cover part of the load only`);
    }
  }
  const { peak, horizonSeconds } = comparison;
  lines.push(
    `peak load ${peak.rate}/s from ${peak.start} s to ${peak.end} s; "up after" counts from its ` +
      `start, "down after" from its end (- = did not happen); replica-s over ${horizonSeconds} s`,
  );
  return lines.join("\n");
}

function number(value: number | null, digits: number): string {
  return value === null ? "-" : value.toFixed(digits);
}
