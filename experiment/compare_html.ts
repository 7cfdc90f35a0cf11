/**
 * `compare.html`: the comparison table and the runs' charts overlaid, one
 * colour per policy, in one self-contained page (inline SVG, no scripts), so
 * it opens from disk and can be mailed.
 *
 * @module
 */

import type { Comparison } from "./compare.ts";
import type { RunRecord } from "./run_policy.ts";

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"];
const WIDTH = 760;
const HEIGHT = 220;
const MARGIN = { left: 50, right: 10, top: 10, bottom: 30 };

/** One line of a chart: `[seconds, value]` points, drawn as steps or straight. */
interface Series {
  label: string;
  colour: string;
  points: [number, number][];
  steps: boolean;
}

/** Renders the page for `comparison` and the records it was built from. */
export function renderComparisonHtml(
  comparison: Comparison,
  records: readonly RunRecord[],
): string {
  const horizon = comparison.horizonSeconds;
  const colour = (index: number) => COLOURS[index % COLOURS.length];
  const replicas: Series[] = records.map(({ experiment }, index) => ({
    label: experiment.label,
    colour: colour(index),
    points: [
      ...experiment.replicaEvents.map((event): [number, number] => [event.t, event.replicas]),
      [horizon, experiment.replicaEvents.at(-1)?.replicas ?? 0],
    ],
    steps: true,
  }));
  const p95: Series[] = records.map((record, index) => ({
    label: record.experiment.label,
    colour: colour(index),
    points: record.timeline
      .filter((point) => point.p95Ms !== null)
      .map((point): [number, number] => [point.t, point.p95Ms!]),
    steps: false,
  }));
  const offered: Series[] = records.slice(0, 1).map((record) => ({
    label: "offered",
    colour: "#777",
    points: record.timeline.map((point): [number, number] => [point.t, point.offeredRate]),
    steps: false,
  }));
  const { peak } = comparison;
  const rows = comparison.rows.map((row, index) =>
    `<tr><td><span style="color:${colour(index)}">&#9632;</span> ${escape(row.label)}` +
    `${row.stoppedEarly ? " (stopped early)" : ""}</td>` +
    [row.p50Ms, row.p95Ms, row.p99Ms, row.maxMs].map((ms) => cell(ms, 0)).join("") +
    `<td>${row.ok}</td><td>${row.failed}</td><td>${escape(errorsText(row.errors))}</td>` +
    cell(row.replicaSeconds, 0) + `<td>${row.peakReplicas}</td>` +
    cell(row.scaleUpSeconds, 1) + cell(row.scaleDownSeconds, 1) +
    `<td>${row.ups}/${row.downs}</td></tr>`
  ).join("\n");

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Autoscaling experiment ${escape(comparison.createdAt)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; } td, th { padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; } tr:nth-child(even) { background: #f4f4f4; }
h2 { font-size: 1.1em; margin-top: 1.5em; }
</style></head><body>
<h1>Autoscaling experiment</h1>
<p>Load <code>${escape(comparison.profileText)}</code>, seed ${comparison.seed}; peak
${peak.rate}/s from ${peak.start} s to ${peak.end} s (shaded). Cost counted over
${horizon} s. Created ${escape(comparison.createdAt)}.</p>
<table><tr><th>policy</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th>
<th>ok</th><th>failed</th><th>errors</th><th>replica-s</th><th>peak</th>
<th>up after s</th><th>down after s</th><th>ups/downs</th></tr>
${rows}
</table>
<p>"up after": from the start of the peak to the first added replica; "down after": from
its end until the fleet was back to its size before the peak; "-": did not happen.
Every percentile and error kind of each run: <a href="runs.html">runs.html</a>.</p>
<h2>Replicas</h2>
${chart(replicas, horizon, peak, "replicas")}
<h2>p95 latency of each second (ms)</h2>
${chart(p95, horizon, peak, "ms")}
<h2>Offered load (requests/s)</h2>
${chart(offered, horizon, peak, "req/s")}
</body></html>
`;
}

function chart(
  series: readonly Series[],
  xMax: number,
  peak: { start: number; end: number },
  unit: string,
): string {
  const values = series.flatMap((line) => line.points.map(([, y]) => y));
  // Replica counts get whole-number ticks and a free line above the peak.
  const whole = unit === "replicas";
  const yMax = whole ? Math.max(...values, 1) + 1 : niceCeiling(Math.max(1, ...values));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (t: number) => MARGIN.left + (Math.min(t, xMax) / xMax) * plotWidth;
  const y = (v: number) => MARGIN.top + plotHeight - (v / yMax) * plotHeight;
  const fixed = (n: number) => n.toFixed(1);

  const lines = series.map((line) => {
    const coords: string[] = [];
    line.points.forEach(([t, v], index) => {
      if (line.steps && index > 0) {
        coords.push(`${fixed(x(t))},${fixed(y(line.points[index - 1][1]))}`);
      }
      coords.push(`${fixed(x(t))},${fixed(y(v))}`);
    });
    return `<polyline fill="none" stroke="${line.colour}" stroke-width="2" ` +
      `points="${coords.join(" ")}"><title>${escape(line.label)}</title></polyline>`;
  });
  const shares = whole
    ? Array.from({ length: yMax + 1 }, (_, n) => n / yMax)
    : [0, 0.25, 0.5, 0.75, 1];
  const ticks = shares.map((share) => {
    const value = yMax * share;
    return `<text x="${MARGIN.left - 6}" y="${fixed(y(value) + 4)}" text-anchor="end">` +
      `${Number(value.toFixed(1))}</text>` +
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${fixed(y(value))}" ` +
      `y2="${fixed(y(value))}" stroke="#ddd"/>`;
  });
  const step = xMax > 120 ? 30 : 10;
  const xTicks: string[] = [];
  for (let t = 0; t <= xMax; t += step) {
    xTicks.push(
      `<text x="${fixed(x(t))}" y="${HEIGHT - 10}" text-anchor="middle">${t} s</text>`,
    );
  }
  const legend = series.map((line, index) =>
    `<text x="${MARGIN.left + 10 + index * 110}" y="${MARGIN.top + 12}" ` +
    `fill="${line.colour}">${escape(line.label)}</text>`
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" ` +
    `font-size="11" role="img" aria-label="${escape(unit)} over time">` +
    `<rect x="${fixed(x(peak.start))}" y="${MARGIN.top}" ` +
    `width="${fixed(x(peak.end) - x(peak.start))}" height="${plotHeight}" fill="#f6eee0"/>` +
    ticks.join("") + xTicks.join("") + lines.join("") + legend.join("") + `</svg>`;
}

// 1, 2 or 5 times a power of ten, at or above `value`: round axis labels.
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 5, 10]) {
    if (factor * power >= value) return factor * power;
  }
  return 10 * power;
}

function cell(value: number | null, digits: number): string {
  return `<td>${value === null ? "-" : value.toFixed(digits)}</td>`;
}

function errorsText(errors: Record<string, number>): string {
  const entries = Object.entries(errors);
  return entries.length === 0 ? "-" : entries.map(([kind, count]) => `${kind} x${count}`).join(" ");
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
