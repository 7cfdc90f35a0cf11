/**
 * The experiment's part of `compare.html`: the load, the comparison table and
 * what its columns mean, as a section of the load tester's comparison page,
 * whose charts overlay the runs. Every value is escaped here, because the
 * page takes the section's body as it is.
 *
 * @module
 */

import { formatErrors } from "../loadtest/format.ts";
import { escapeHtml, type LabelledRun, type ReportSection } from "../loadtest/report.ts";
import { formatSpread, type PolicyAggregate } from "./aggregate.ts";
import type { Comparison } from "./compare.ts";
import type { RunRecord } from "./run_policy.ts";
import { runName } from "./schedule.ts";

/** The comparison as a section of the load tester's page. */
export function comparisonSection(comparison: Comparison): ReportSection {
  const { peak, horizonSeconds, repeats } = comparison;
  const rows = comparison.rows.map((row) =>
    // Without repeats the row stays as it was before `--repeat` existed.
    `<tr data-policy="${escapeHtml(row.label)}"` +
    `${repeats > 1 ? ` data-repeat="${row.repeat}"` : ""}>` +
    `<th>${escapeHtml(runName(row.label, row.repeat, repeats))}` +
    `${row.stoppedEarly ? " (stopped early)" : ""}</th>` +
    [row.p50Ms, row.p95Ms, row.p99Ms, row.maxMs].map((ms) => cell(ms, 0)).join("") +
    `<td>${row.ok}</td><td>${row.failed}</td><td>${escapeHtml(formatErrors(row.errors))}</td>` +
    cell(row.replicaSeconds, 0) + `<td>${row.peakReplicas}</td>` +
    cell(row.scaleUpSeconds, 1) + cell(row.scaleDownSeconds, 1) +
    `<td>${row.ups}/${row.downs}</td></tr>`
  ).join("\n");
  const runsTable = `<table id="comparison"><thead><tr><th>${
    repeats > 1 ? "run" : "policy"
  }</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th>
<th>max ms</th><th>ok</th><th>failed</th><th>errors</th><th>replica-s</th><th>peak</th>
<th>up after s</th><th>down after s</th><th>ups/downs</th></tr></thead>
<tbody>${rows}</tbody></table>`;
  const html = `<p>Load <code>${escapeHtml(comparison.profileText)}</code>, seed ${comparison.seed};
peak ${peak.rate}/s from ${peak.start} s to ${peak.end} s. Cost counted over
${horizonSeconds} s. Created ${escapeHtml(comparison.createdAt)}.</p>
${repeats > 1 ? aggregateTable(comparison.policies, repeats) : ""}${runsTable}
<p>"replica-s": replicas times seconds, the cost; "up after": from the start of the peak to
the first added replica; "down after": from its end until the fleet was back to its size
before the peak; "-": did not happen. ${
    repeats > 1
      ? `Each policy ran up to ${repeats} times, interleaved; the first table gives the median
and (in brackets) the range of its runs, "[k/n]" when only k of its n runs had a value. To keep
the charts readable they show one run per policy, its median run by p95 (of an even count, the
lower middle one): the "charted run" column. The summary at the end gives every percentile
of those runs.`
      : `The charts below overlay the runs, one series per
policy, and the summary at the end gives every percentile of each.`
  }</p>`;
  return { heading: "Policies compared", trustedHtml: html };
}

/**
 * The runs the page's charts overlay: every run when each policy ran once;
 * with repeats, each policy's median run only, since a dozen series in a
 * palette that cycles would hide which line belongs to which policy.
 */
export function chartedRuns(
  comparison: Comparison,
  records: readonly RunRecord[],
): LabelledRun[] {
  const { repeats, policies } = comparison;
  const charted = (record: RunRecord) =>
    repeats === 1 || policies.some((policy) =>
      policy.label === record.experiment.label &&
      policy.medianRepeat === (record.experiment.repeat ?? 1)
    );
  return records.filter(charted).map((record) => ({
    label: runName(record.experiment.label, record.experiment.repeat ?? 1, repeats),
    run: record,
  }));
}

function aggregateTable(policies: readonly PolicyAggregate[], repeats: number): string {
  const rows = policies.map((policy) => {
    const spreads = [
      formatSpread(policy.p50Ms, 0, policy.runs),
      formatSpread(policy.p95Ms, 0, policy.runs),
      formatSpread(policy.p99Ms, 0, policy.runs),
      formatSpread(policy.failed, 0, policy.runs),
      formatSpread(policy.replicaSeconds, 0, policy.runs),
      formatSpread(policy.scaleUpSeconds, 1, policy.runs),
      formatSpread(policy.scaleDownSeconds, 1, policy.runs),
    ];
    const stopped = policy.stoppedEarly.length > 0
      ? ` (run ${policy.stoppedEarly.join(", ")} stopped early)`
      : "";
    return `<tr data-policy="${escapeHtml(policy.label)}"><th>${escapeHtml(policy.label)}` +
      `${stopped}</th><td>${policy.runs}</td>` +
      spreads.map((text) => `<td>${escapeHtml(text)}</td>`).join("") +
      `<td>#${policy.medianRepeat}</td></tr>`;
  }).join("\n");
  return `<table id="policies"><caption>Median (min-max) over up to ${repeats} runs per policy
</caption><thead><tr><th>policy</th><th>runs</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th>
<th>failed</th><th>replica-s</th><th>up after s</th><th>down after s</th><th>charted run</th>
</tr></thead>
<tbody>${rows}</tbody></table>
`;
}

function cell(value: number | null, digits: number): string {
  return `<td>${value === null ? "-" : value.toFixed(digits)}</td>`;
}
