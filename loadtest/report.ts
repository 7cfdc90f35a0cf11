/**
 * HTML reports of load test runs: one self-contained page (no network, no
 * external file) holding the runs as JSON, the summary table as HTML and a
 * small script that draws the charts as SVG when the page is opened.
 *
 * @module
 */

import type { ProfileSpec } from "./profile.ts";
import { buildCharts, type Chart, type LabelledRun } from "./report_charts.ts";
import { REPORT_SCRIPT } from "./report_script.ts";
import type { RunRecord } from "./run_record.ts";

export type { LabelledRun };

/**
 * A part of the page that the caller writes, e.g. a table of its own figures.
 * The heading is text and the page escapes it; the body is HTML and goes in
 * as it is, so the caller must escape every value it puts into it.
 */
export interface ReportSection {
  /** Plain text, escaped by the page. */
  heading: string;
  /** HTML trusted as it is: no script, nothing fetched (the page is self-contained). */
  trustedHtml: string;
}

/** Options of {@linkcode renderReport} and {@linkcode renderComparison}. */
export interface ReportOptions {
  /** Page title. @default "Load test report" or "Load test comparison" */
  title?: string;
  /** Sections placed after the runs' descriptions, before the charts. @default [] */
  sections?: readonly ReportSection[];
}

/** The page of one run: charts, summary and settings. */
export function renderReport(run: RunRecord, options: ReportOptions = {}): string {
  return renderPage([{ label: "run", run }], options.title ?? "Load test report", options);
}

/**
 * One page comparing several runs: the same charts with one series per run
 * (named `<label>/<series>`) and one summary row per run.
 *
 * @throws {RangeError} when `runs` is empty or two runs share a label
 */
export function renderComparison(
  runs: readonly LabelledRun[],
  options: ReportOptions = {},
): string {
  if (runs.length === 0) {
    throw new RangeError("Cannot render a comparison: expected at least one run, got none");
  }
  const labels = runs.map((r) => r.label);
  const twice = labels.find((label, i) => labels.indexOf(label) !== i);
  if (twice !== undefined) {
    throw new RangeError(
      `Cannot render a comparison: expected distinct labels, got "${twice}" twice`,
    );
  }
  return renderPage(runs, options.title ?? "Load test comparison", options);
}

function renderPage(
  runs: readonly LabelledRun[],
  title: string,
  { sections = [] }: ReportOptions,
): string {
  const charts = buildCharts(runs);
  // "<" escaped keeps a label such as "</script>" from ending the data block.
  const data = JSON.stringify({ charts, runs }).replace(/</g, "\\u003c");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${runs.map(({ label, run }) => describe(label, run, runs.length)).join("<br>")}</p>
${sections.map(sectionBox).join("\n")}
<noscript><p>The charts are drawn by this page's script; allow scripts to see them.</p></noscript>
${charts.map(chartBox).join("\n")}
<h2>Summary</h2>
${summaryTable(runs)}
<script type="application/json" id="report-data">${data}</script>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}

function sectionBox(section: ReportSection): string {
  return `<section class="extra"><h2>${escapeHtml(section.heading)}</h2>\n` +
    `${section.trustedHtml}\n</section>`;
}

function chartBox(chart: Chart): string {
  return `<section class="chart" id="chart-${chart.id}"><h2>${
    escapeHtml(chart.title)
  }</h2></section>`;
}

function describe(label: string, run: RunRecord, count: number): string {
  const s = run.settings;
  const how = s.mode === "closed"
    ? `closed loop, ${s.users} users, think ${s.thinkTimeMs} ms`
    : `open loop, ${describeProfile(s.profile)}`;
  const name = count > 1 ? `<b>${escapeHtml(label)}</b>: ` : "";
  return `${name}${escapeHtml(how)} against ${escapeHtml(s.url)}, started ${
    escapeHtml(run.startedAt)
  }`;
}

/** A short text form of a profile, e.g. `spike 4/s, 20/s at 20 s for 10 s, 60 s`. */
export function describeProfile(profile: ProfileSpec | null): string {
  if (profile === null) return "no profile";
  switch (profile.kind) {
    case "constant":
      return `constant ${profile.rate}/s for ${profile.seconds} s`;
    case "step":
      return `steps ${profile.steps.map((s) => `${s.rate}:${s.seconds}`).join(",")}`;
    case "ramp":
      return `ramp ${profile.from}/s to ${profile.to}/s over ${profile.seconds} s`;
    case "spike":
      return `spike ${profile.rate}/s, ${profile.peak}/s at ${profile.at} s for ` +
        `${profile.for} s, ${profile.seconds} s`;
    case "diurnal":
      return `diurnal ${profile.min}-${profile.max}/s, period ${profile.period} s, ` +
        `${profile.seconds} s`;
    case "trace":
      return `trace ${profile.source ?? ""} (${profile.points.length} rows, ${profile.seconds} s)`;
  }
}

const COLUMNS: [string, (run: RunRecord) => string][] = [
  ["duration s", (r) => fixed(r.summary.durationSeconds, 1)],
  ["offered", (r) => String(r.summary.offered)],
  ["sent", (r) => String(r.summary.sent)],
  ["ok", (r) => String(r.summary.ok)],
  ["failed", (r) => String(r.summary.failed)],
  ["offered/s", (r) => fixed(r.summary.offeredRate, 2)],
  ["achieved/s", (r) => fixed(r.summary.achievedRate, 2)],
  ["p50 ms", (r) => fixed(r.summary.latencyMs?.p50, 1)],
  ["p90 ms", (r) => fixed(r.summary.latencyMs?.p90, 1)],
  ["p95 ms", (r) => fixed(r.summary.latencyMs?.p95, 1)],
  ["p99 ms", (r) => fixed(r.summary.latencyMs?.p99, 1)],
  ["p99.9 ms", (r) => fixed(r.summary.latencyMs?.p999, 1)],
  ["max ms", (r) => fixed(r.summary.latencyMs?.max, 1)],
  ["errors", (r) => errorText(r.summary.errors)],
];

function summaryTable(runs: readonly LabelledRun[]): string {
  const head = ["run", ...COLUMNS.map(([name]) => name)].map((n) => `<th>${escapeHtml(n)}</th>`);
  const rows = runs.map(({ label, run }) => {
    const cells = COLUMNS.map(([name, cell]) =>
      `<td data-column="${escapeHtml(name)}">${escapeHtml(cell(run))}</td>`
    );
    return `<tr data-run="${escapeHtml(label)}"><th>${escapeHtml(label)}</th>${
      cells.join("")
    }</tr>`;
  });
  return `<table id="summary"><thead><tr>${head.join("")}</tr></thead>` +
    `<tbody>${rows.join("\n")}</tbody></table>`;
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? "-" : value.toFixed(digits);
}

function errorText(errors: Record<string, number>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? "-" : entries.map(([k, n]) => `${k} x${n}`).join(", ");
}

/** `text` with `& < > " '` replaced by character references, safe in HTML text and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 18px 0 4px; }
.meta { color: #555; margin: 0 0 8px; }
.chart svg { display: block; border: 1px solid #ddd; background: #fff; }
.grid line { stroke: #eee; } .grid text { font-size: 11px; fill: #666; }
.legend { list-style: none; padding: 0; margin: 4px 0 0; display: flex; flex-wrap: wrap;
  gap: 12px; }
.swatch { display: inline-block; width: 12px; height: 3px; margin-right: 4px;
  vertical-align: middle; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; }
thead th { background: #f4f4f4; }
`;
