/**
 * The experiment's part of `compare.html`: the load, the comparison table and
 * what its columns mean, as a section of the load tester's comparison page,
 * whose charts overlay the runs. Every value is escaped here, because the
 * page takes the section's body as it is.
 *
 * @module
 */

import { formatErrors } from "../loadtest/format.ts";
import { escapeHtml, type ReportSection } from "../loadtest/report.ts";
import type { Comparison } from "./compare.ts";

/** The comparison as a section of the load tester's page. */
export function comparisonSection(comparison: Comparison): ReportSection {
  const { peak, horizonSeconds } = comparison;
  const rows = comparison.rows.map((row) =>
    `<tr data-policy="${escapeHtml(row.label)}"><th>${escapeHtml(row.label)}` +
    `${row.stoppedEarly ? " (stopped early)" : ""}</th>` +
    [row.p50Ms, row.p95Ms, row.p99Ms, row.maxMs].map((ms) => cell(ms, 0)).join("") +
    `<td>${row.ok}</td><td>${row.failed}</td><td>${escapeHtml(formatErrors(row.errors))}</td>` +
    cell(row.replicaSeconds, 0) + `<td>${row.peakReplicas}</td>` +
    cell(row.scaleUpSeconds, 1) + cell(row.scaleDownSeconds, 1) +
    `<td>${row.ups}/${row.downs}</td></tr>`
  ).join("\n");
  const html = `<p>Load <code>${escapeHtml(comparison.profileText)}</code>, seed ${comparison.seed};
peak ${peak.rate}/s from ${peak.start} s to ${peak.end} s. Cost counted over
${horizonSeconds} s. Created ${escapeHtml(comparison.createdAt)}.</p>
<table id="comparison"><thead><tr><th>policy</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th>
<th>max ms</th><th>ok</th><th>failed</th><th>errors</th><th>replica-s</th><th>peak</th>
<th>up after s</th><th>down after s</th><th>ups/downs</th></tr></thead>
<tbody>${rows}</tbody></table>
<p>"replica-s": replicas times seconds, the cost; "up after": from the start of the peak to
the first added replica; "down after": from its end until the fleet was back to its size
before the peak; "-": did not happen. The charts below overlay the runs, one series per
policy, and the summary at the end gives every percentile of each.</p>`;
  return { heading: "Policies compared", trustedHtml: html };
}

function cell(value: number | null, digits: number): string {
  return `<td>${value === null ? "-" : value.toFixed(digits)}</td>`;
}
