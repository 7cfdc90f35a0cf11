import assert from "node:assert/strict";
import { sampleRecord } from "./_sample_run.ts";
import { escapeHtml, renderComparison, renderReport } from "./report.ts";
import { buildCharts } from "./report_charts.ts";
import type { RunRecord } from "./run_record.ts";

Deno.test("buildCharts() makes one series per measure, gaps left out", () => {
  const charts = buildCharts([{ label: "run", run: sampleRecord() }]);
  const counts = Object.fromEntries(
    charts.flatMap((chart) => chart.series.map((s) => [s.name, s.points.length])),
  );
  assert.deepEqual(counts, {
    offered: 3,
    achieved: 3,
    // The last second had no ok answer, so no latency.
    p50: 2,
    p95: 2,
    p99: 2,
    errors: 3,
    "errors:503": 3,
    "errors:timeout": 3,
    replicas: 3,
  });
  const errors = charts.find((chart) => chart.id === "errors")!.series[0];
  assert.deepEqual(errors.points, [[1, 0], [2, 1], [3, 2]]);
});

Deno.test("buildCharts() prefixes series with the run label on a comparison", () => {
  const second = sampleRecord();
  second.timeline.forEach((point) => point.replicas = null);
  const charts = buildCharts([{ label: "a", run: sampleRecord() }, { label: "b", run: second }]);
  const replicas = charts.find((chart) => chart.id === "replicas")!.series;
  assert.deepEqual(replicas.map((s) => [s.name, s.points.length]), [["a/replicas", 3], [
    "b/replicas",
    0,
  ]]);
});

Deno.test("renderReport() is one self-contained page with the summary in it", () => {
  const page = renderReport(sampleRecord());
  assert.match(page, /^<!DOCTYPE html>/);
  // Nothing is fetched: no external script, style, image or font.
  assert.doesNotMatch(page, /\b(src|href)\s*=/i);
  assert.doesNotMatch(page, /<link\b|@import|url\(/i);
  for (const cell of ["41.5", "60.1", "61.0", "70.3", "3.33", "2.50", "503 x1, timeout x1"]) {
    assert.ok(page.includes(`>${cell}</td>`), `summary cell ${cell}`);
  }
  assert.match(page, /spike 2\/s, 6\/s at 1 s for 1 s, 3 s/);
});

Deno.test("renderReport() keeps a hostile label or URL from breaking out", () => {
  const run = sampleRecord();
  run.settings.url = 'http://127.0.0.1:1/"><script>alert(1)</script>';
  const page = renderComparison([{ label: "</script><b>x", run }, { label: "b", run }]);
  assert.equal(page.match(/<script/g)?.length, 2, "only the page's own two scripts");
  assert.ok(page.includes("&#60;/script&#62;&#60;b&#62;x"));
});

Deno.test("renderComparison() refuses no runs and repeated labels", () => {
  assert.throws(() => renderComparison([]), {
    name: "RangeError",
    message: "Cannot render a comparison: expected at least one run, got none",
  });
  const run = sampleRecord();
  assert.throws(() => renderComparison([{ label: "x", run }, { label: "x", run }]), {
    name: "RangeError",
    message: 'Cannot render a comparison: expected distinct labels, got "x" twice',
  });
});

Deno.test("buildCharts() titles the replicas chart with the source the records name", () => {
  const title = (...runs: RunRecord[]) =>
    buildCharts(runs.map((run, i) => ({ label: `r${i}`, run })))
      .find((chart) => chart.id === "replicas")!.title;
  const asked = sampleRecord();
  asked.settings.prometheusUrl = "http://127.0.0.1:9090";
  const targets = sampleRecord();
  targets.settings.prometheusUrl = "http://127.0.0.1:9090";
  targets.settings.replicaSource = "target file";

  // A record from before replicaSource: Prometheus when it asked one, else nothing named.
  assert.equal(title(asked), "Replicas (Prometheus)");
  assert.equal(title(sampleRecord()), "Replicas");
  assert.equal(title(targets), "Replicas (target file)");
  assert.equal(title(targets, targets), "Replicas (target file)");
  assert.equal(title(asked, targets), "Replicas (Prometheus, target file)");
});

Deno.test("renderComparison() puts the caller's sections before the charts", () => {
  const run = sampleRecord();
  const page = renderComparison([{ label: "a", run }, { label: "b", run }], {
    sections: [{
      heading: "Ours <&>",
      trustedHtml: '<table id="ours"><tr><td>7</td></tr></table>',
    }],
  });
  // The heading is text, escaped; the body is trusted HTML, kept as it is.
  assert.ok(page.includes("<h2>Ours &#60;&#38;&#62;</h2>"));
  const ours = page.indexOf('<table id="ours"><tr><td>7</td></tr></table>');
  assert.ok(ours > page.indexOf("<h1>"), "after the page heading");
  assert.ok(ours < page.indexOf('id="chart-rate"'), "before the first chart");
  assert.ok(!renderComparison([{ label: "a", run }]).includes('class="extra"'));
});

Deno.test("escapeHtml() leaves no character that could end text or an attribute", () => {
  assert.equal(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    "&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;",
  );
});
