import assert from "node:assert/strict";
import { sampleRecord } from "./_sample_run.ts";
import { renderComparison, renderReport } from "./report.ts";
import { buildCharts } from "./report_charts.ts";

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
