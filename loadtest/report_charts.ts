/**
 * The chart data of a report: which series each chart holds, derived from
 * the timelines of one or more runs. The page embeds this as JSON and its
 * script draws it; keeping the derivation here, in tested TypeScript, leaves
 * the browser script nothing to decide but geometry.
 *
 * @module
 */

import type { RunRecord, TimelinePoint } from "./run_record.ts";

/** One line of a chart: [seconds, value] pairs; gaps (no value) are left out. */
export interface ChartSeries {
  /** Unique within the page, e.g. `achieved`, or `spike-1/p95` on a comparison page. */
  name: string;
  points: [number, number][];
}

/** One chart of the report. */
export interface Chart {
  id: "rate" | "latency" | "errors" | "replicas";
  title: string;
  /** Unit of the y axis, e.g. `req/s`. */
  unit: string;
  series: ChartSeries[];
}

/** A run with the label it carries on a page. */
export interface LabelledRun {
  label: string;
  run: RunRecord;
}

type Pick = (point: TimelinePoint) => number | null;

/**
 * The four charts of a page: offered and achieved rate, latency p50/p95/p99,
 * failures per second (all kinds, then each kind), replicas. With more than
 * one run each series name starts with the run's label and a slash.
 */
export function buildCharts(runs: readonly LabelledRun[]): Chart[] {
  const prefix = (label: string, name: string) => runs.length > 1 ? `${label}/${name}` : name;
  const series = (label: string, run: RunRecord, name: string, pick: Pick): ChartSeries => ({
    name: prefix(label, name),
    points: run.timeline.flatMap((point) => {
      const value = pick(point);
      return value === null ? [] : [[point.t, value] as [number, number]];
    }),
  });
  const failures = (point: TimelinePoint) =>
    Object.values(point.errors).reduce((sum, count) => sum + count, 0) / point.seconds;

  const charts: Chart[] = [
    { id: "rate", title: "Offered and achieved rate", unit: "req/s", series: [] },
    { id: "latency", title: "Latency of ok answers, per second", unit: "ms", series: [] },
    { id: "errors", title: "Failures per second, by kind", unit: "failures/s", series: [] },
    { id: "replicas", title: replicasTitle(runs), unit: "replicas", series: [] },
  ];
  for (const { label, run } of runs) {
    charts[0].series.push(
      series(label, run, "offered", (p) => p.offeredRate),
      series(label, run, "achieved", (p) => p.achievedRate),
    );
    charts[1].series.push(
      series(label, run, "p50", (p) => p.p50Ms),
      series(label, run, "p95", (p) => p.p95Ms),
      series(label, run, "p99", (p) => p.p99Ms),
    );
    charts[2].series.push(series(label, run, "errors", failures));
    for (const kind of errorKinds(run)) {
      charts[2].series.push(
        series(label, run, `errors:${kind}`, (p) => (p.errors[kind] ?? 0) / p.seconds),
      );
    }
    charts[3].series.push(series(label, run, "replicas", (p) => p.replicas));
  }
  return charts;
}

/** Every error kind seen in a run's timeline, sorted by name. */
export function errorKinds(run: RunRecord): string[] {
  const kinds = new Set<string>();
  for (const point of run.timeline) for (const kind of Object.keys(point.errors)) kinds.add(kind);
  return [...kinds].sort();
}

/**
 * Where a run's replica counts came from, as its record names it: the
 * `replicaSource` setting, or for records without one, Prometheus when the
 * run asked one; null when the record names no source.
 */
export function replicaSource(run: RunRecord): string | null {
  const { replicaSource, prometheusUrl } = run.settings;
  return replicaSource ?? (prometheusUrl === null ? null : "Prometheus");
}

// A comparison of runs that counted replicas differently names every source.
function replicasTitle(runs: readonly LabelledRun[]): string {
  const sources = [...new Set(runs.map(({ run }) => replicaSource(run)))]
    .filter((source) => source !== null);
  return sources.length === 0 ? "Replicas" : `Replicas (${sources.join(", ")})`;
}
