import assert from "node:assert/strict";
import { join } from "node:path";
import { sampleRecord } from "./_sample_run.ts";
import { dumpDom, findChromium, screenshot } from "./chromium.ts";
import { renderComparison, renderReport } from "./report.ts";
import { buildCharts } from "./report_charts.ts";
import type { RunRecord } from "./run_record.ts";

const chromium = findChromium();
if (chromium === undefined) {
  // deno-lint-ignore no-console
  console.warn(
    "report_browser_test.ts: SKIPPED, /usr/bin/chromium is missing " +
      "(apt-get install chromium; CI installs it)",
  );
}

/** Every drawn series of a DOM dump, as name -> point count. */
function drawnSeries(dom: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const tag of dom.match(/<path\b[^>]*>/g) ?? []) {
    const name = /data-series="([^"]*)"/.exec(tag)?.[1];
    const points = /data-points="(\d+)"/.exec(tag)?.[1];
    if (name !== undefined) found[name.replaceAll("&amp;", "&")] = Number(points);
  }
  return found;
}

/** What the charts should show, worked out from the timelines directly. */
function expectedSeries(runs: { label: string; run: RunRecord }[]): Record<string, number> {
  const expected: Record<string, number> = {};
  for (const { label, run } of runs) {
    const name = (series: string) => runs.length > 1 ? `${label}/${series}` : series;
    const count = (values: (number | null)[]) => values.filter((v) => v !== null).length;
    const t = run.timeline;
    expected[name("offered")] = t.length;
    expected[name("achieved")] = t.length;
    expected[name("p50")] = count(t.map((p) => p.p50Ms));
    expected[name("p95")] = count(t.map((p) => p.p95Ms));
    expected[name("p99")] = count(t.map((p) => p.p99Ms));
    expected[name("errors")] = t.length;
    for (const kind of new Set(t.flatMap((p) => Object.keys(p.errors)))) {
      expected[name(`errors:${kind}`)] = t.length;
    }
    expected[name("replicas")] = count(t.map((p) => p.replicas));
  }
  return expected;
}

Deno.test({
  name: "renderReport() draws every series in a real browser",
  ignore: chromium === undefined,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "loadtest-report-" });
    try {
      await t.step("one run", async () => {
        const run = sampleRecord();
        const page = join(dir, "run.html");
        await Deno.writeTextFile(page, renderReport(run));
        const dom = await dumpDom(page);

        assert.match(dom, /<body[^>]*data-drawn="4"/);
        assert.deepEqual(drawnSeries(dom), expectedSeries([{ label: "run", run }]));
        assert.equal((dom.match(/<svg\b/g) ?? []).length, 4);
        for (const number of ["41.5", "60.1", "61.0", "70.3", "2.50"]) {
          assert.ok(dom.includes(`>${number}</td>`), `summary shows ${number}`);
        }
      });

      await t.step("a comparison of two runs", async () => {
        const slower = sampleRecord();
        slower.timeline.push({ ...slower.timeline[0], t: 4, replicas: null, p50Ms: 90 });
        const runs = [{ label: "fast", run: sampleRecord() }, { label: "slow", run: slower }];
        const page = join(dir, "compare.html");
        await Deno.writeTextFile(page, renderComparison(runs));
        const dom = await dumpDom(page);

        assert.deepEqual(drawnSeries(dom), expectedSeries(runs));
        assert.equal(drawnSeries(dom)["slow/p50"], 3);
        assert.match(dom, /<tr data-run="fast">/);
        assert.match(dom, /<tr data-run="slow">/);
        // The page's own data agrees with what was drawn.
        const charted = buildCharts(runs).flatMap((c) => c.series.map((s) => s.name));
        assert.deepEqual(Object.keys(drawnSeries(dom)).sort(), charted.sort());
      });

      await t.step("a comparison with the caller's own section", async () => {
        const counted = sampleRecord();
        counted.settings.replicaSource = "target file";
        const runs = [{ label: "a", run: counted }, { label: "b", run: counted }];
        const page = join(dir, "sections.html");
        await Deno.writeTextFile(
          page,
          renderComparison(runs, {
            sections: [{ heading: "Policies", trustedHtml: '<table id="ours"></table>' }],
          }),
        );
        const dom = await dumpDom(page);

        // The section sits in the page and the script still draws every chart.
        assert.match(dom, /<body[^>]*data-drawn="4"/);
        assert.match(dom, /<h2>Policies<\/h2>\s*<table id="ours">/);
        assert.deepEqual(drawnSeries(dom), expectedSeries(runs));
        assert.match(dom, /<title>Replicas \(target file\)<\/title>/);
      });

      await t.step("a screenshot", async () => {
        const png = join(dir, "run.png");
        await screenshot(join(dir, "run.html"), png, { width: 800, height: 600 });
        const bytes = await Deno.readFile(png);
        assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47]);
        assert.ok(bytes.length > 5000, `${bytes.length} bytes`);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
