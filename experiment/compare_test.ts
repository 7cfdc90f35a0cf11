import assert from "node:assert/strict";
import { buildProfile } from "../loadtest/profile_build.ts";
import { renderComparison } from "../loadtest/report.ts";
import { RUN_RECORD_VERSION } from "../loadtest/run_record.ts";
import { compareRuns, formatComparison } from "./compare.ts";
import { chartedRuns, comparisonSection } from "./compare_html.ts";
import type { ReplicaEvent } from "./fleet_metrics.ts";
import { peakWindow } from "./profiles.ts";
import { fleetFacts, type RunRecord } from "./run_policy.ts";

const PROFILE = buildProfile("step", { steps: "2:20,14:20,2:30" });
const PEAK = peakWindow(PROFILE);
const HORIZON = 100;

/** A run record as runPolicy writes it, from a fleet history and a few answers. */
function record(label: string, events: ReplicaEvent[], latencies: number[]): RunRecord {
  const ups = events.slice(1).filter((event, i) => event.replicas > events[i].replicas).length;
  const downs = events.length - 1 - ups;
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (share: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))];
  return {
    version: RUN_RECORD_VERSION,
    startedAt: "2026-12-04T18:00:00.000Z",
    settings: {
      url: "http://127.0.0.1:1/classify",
      mode: "open",
      profile: PROFILE,
      users: null,
      thinkTimeMs: null,
      maxOutstanding: 1000,
      requestTimeoutMs: 30_000,
      drainTimeoutMs: 30_000,
      prometheusUrl: null,
      images: { dir: "photos", count: 3 },
    },
    timeline: [],
    summary: {
      url: "http://127.0.0.1:1/classify",
      mode: "open",
      scheduledSeconds: 70,
      durationSeconds: 70,
      offered: latencies.length + 1,
      sent: latencies.length + 1,
      ok: latencies.length,
      failed: 1,
      errors: { "503": 1 },
      latencyMs: {
        p50: at(0.5),
        p90: at(0.9),
        p95: at(0.95),
        p99: at(0.99),
        p999: at(0.999),
        max: sorted.at(-1)!,
      },
      offeredRate: 1,
      achievedRate: 1,
      stoppedEarly: false,
    },
    experiment: {
      label,
      policy: label.split(":")[0],
      parameter: label.split(":")[1] ?? null,
      autoscalerArgs: [],
      profileText: "step:2:20,14:20,2:30",
      seed: 1,
      peak: PEAK,
      horizonSeconds: HORIZON,
      replicaEvents: events,
      decisions: {
        logged: { up: ups, down: downs, none: 50 },
        applied: [
          ...Array.from({ length: ups }, () => direction("up")),
          ...Array.from({ length: downs }, () => direction("down")),
        ],
      },
      fleet: fleetFacts(events, PEAK, HORIZON),
    },
  } as RunRecord;
}

function direction(direction: string) {
  return { t: 0, direction, current: 1, desired: 1, reason: "test" };
}

// Fast up and slow down, against slow up and fast down.
const FAST = record("rate", [
  { t: 0, replicas: 1 },
  { t: 22, replicas: 3 },
  { t: 65, replicas: 1 },
], [40, 50, 60, 70]);
const SLOW = record("hpa:0.9", [
  { t: 0, replicas: 1 },
  { t: 30, replicas: 2 },
  { t: 45, replicas: 1 },
], [40, 300, 900, 1200]);

Deno.test("compareRuns() gives each policy its latency, errors, cost and reaction", () => {
  const comparison = compareRuns(
    [FAST, SLOW],
    ["1-rate/run.json", "2-hpa-0.9/run.json"],
    new Date(0),
  );
  assert.deepEqual(comparison.peak, { start: 20, end: 40, rate: 14 });
  assert.equal(comparison.horizonSeconds, 100);
  const [fast, slow] = comparison.rows;
  assert.equal(fast.label, "rate");
  assert.equal(fast.file, "1-rate/run.json");
  // 22 s at 1, 43 s at 3, 35 s at 1 = 22 + 129 + 35.
  assert.equal(fast.replicaSeconds, 186);
  assert.equal(fast.peakReplicas, 3);
  assert.equal(fast.scaleUpSeconds, 2);
  assert.equal(fast.scaleDownSeconds, 25);
  // 30 s at 1, 15 s at 2, 55 s at 1 = 30 + 30 + 55.
  assert.equal(slow.replicaSeconds, 115);
  assert.equal(slow.scaleUpSeconds, 10);
  assert.equal(slow.scaleDownSeconds, 5);
  assert.equal(slow.p50Ms, 900);
  assert.equal(slow.maxMs, 1200);
  assert.deepEqual([fast.ups, fast.downs, slow.ups, slow.downs], [1, 1, 1, 1]);
  assert.deepEqual(slow.errors, { "503": 1 });
});

Deno.test("compareRuns() refuses runs under different loads", () => {
  const other = record("concurrency", [{ t: 0, replicas: 1 }], [50]);
  other.experiment.seed = 2;
  assert.throws(() => compareRuns([FAST, other], ["a", "b"], new Date(0)), {
    name: "RangeError",
    message: 'Cannot compare runs under different loads: "concurrency" differs from "rate" ' +
      "in profile, seed or horizon",
  });
  assert.throws(() => compareRuns([], [], new Date(0)), RangeError);
});

Deno.test("formatComparison() prints one aligned row per policy and the errors", () => {
  const text = formatComparison(compareRuns([FAST, SLOW], ["a", "b"], new Date(0)));
  const lines = text.split("\n");
  assert.match(lines[0], /^policy\s+p50 ms\s+p95 ms\s+p99 ms\s+max ms\s+ok\s+failed\s+replica-s/);
  assert.match(lines[1], /^rate\s+60\s+70\s+70\s+70\s+4\s+1\s+186\s+3\s+2\.0\s+25\.0\s+1\/1$/);
  assert.match(lines[2], /^hpa:0\.9\s+900\s+1200\s+1200\s+1200\s+4\s+1\s+115\s+2\s+10\.0\s+5\.0/);
  assert.equal(lines[1].length, lines[0].length);
  assert.equal(lines[3], "errors of rate: 503 x1");
  assert.ok(!text.includes("stopped early"));
  assert.match(lines.at(-1)!, /^peak load 14\/s from 20 s to 40 s/);
});

Deno.test("formatComparison() says which run was stopped early", () => {
  const stopped = record("concurrency", [{ t: 0, replicas: 1 }], [50]);
  stopped.summary.stoppedEarly = true;
  const comparison = compareRuns([FAST, stopped], ["a", "b"], new Date(0));
  assert.deepEqual(comparison.rows.map((row) => row.stoppedEarly), [false, true]);
  assert.match(
    formatComparison(comparison),
    /\nconcurrency was stopped early: its figures cover part of the load only\n/,
  );
});

Deno.test("comparisonSection() holds every run's row and escapes what it prints", () => {
  const hostile = record("<b>latency</b>", [{ t: 0, replicas: 1 }, { t: 25, replicas: 2 }], [5]);
  const section = comparisonSection(compareRuns([FAST, hostile], ["a", "b"], new Date(0)));
  const html = section.trustedHtml;
  assert.equal(html.match(/<tr data-policy=/g)?.length, 2);
  assert.ok(!html.includes("<b>latency</b>"));
  assert.match(html, /<th>&#60;b&#62;latency&#60;\/b&#62;<\/th>/);
  // The fast run's row: its cost, peak and reaction times, in table cells.
  assert.match(html, /<td>186<\/td><td>3<\/td><td>2\.0<\/td><td>25\.0<\/td>/);
  assert.match(html, /<td>503 x1<\/td>/);
});

Deno.test("compare.html is one page: the comparison table and the runs' charts", () => {
  const runs = [FAST, SLOW];
  const page = renderComparison(
    runs.map((run) => ({ label: run.experiment.label, run })),
    { sections: [comparisonSection(compareRuns(runs, ["a", "b"], new Date(0)))] },
  );
  assert.equal(page.match(/<table id="comparison">/g)?.length, 1);
  assert.equal(page.match(/<table id="summary">/g)?.length, 1);
  for (const chart of ["rate", "latency", "errors", "replicas"]) {
    assert.ok(page.includes(`id="chart-${chart}"`), chart);
  }
  // Nothing links away: the page stands alone.
  assert.doesNotMatch(page, /\bhref\s*=/i);
});

/** `record()` as the given run of its policy. */
function repeated(base: RunRecord, repeat: number, latencies: number[]): RunRecord {
  const copy = record(base.experiment.label, base.experiment.replicaEvents, latencies);
  copy.experiment.repeat = repeat;
  return copy;
}

// Two policies, twice each, interleaved as the experiment runs them.
const REPEATED = [
  repeated(FAST, 1, [40, 50, 60, 70]),
  repeated(SLOW, 1, [40, 300, 900, 1200]),
  repeated(FAST, 2, [40, 50, 80, 90]),
  repeated(SLOW, 2, [40, 300, 700, 800]),
];
const REPEATED_FILES = ["1-rate-r1", "2-hpa-0.9-r1", "3-rate-r2", "4-hpa-0.9-r2"]
  .map((folder) => `${folder}/run.json`);

Deno.test("compareRuns() keeps every run's row and adds each policy's median and range", () => {
  const comparison = compareRuns(REPEATED, REPEATED_FILES, new Date(0));
  assert.equal(comparison.repeats, 2);
  assert.deepEqual(
    comparison.rows.map((row) => `${row.label} ${row.repeat} ${row.file}`),
    [
      "rate 1 1-rate-r1/run.json",
      "hpa:0.9 1 2-hpa-0.9-r1/run.json",
      "rate 2 3-rate-r2/run.json",
      "hpa:0.9 2 4-hpa-0.9-r2/run.json",
    ],
  );
  const [rate, hpa] = comparison.policies;
  assert.equal(rate.label, "rate");
  assert.equal(rate.runs, 2);
  // p95 of the runs is 70 and 90: the median of two is their mean.
  assert.deepEqual(rate.p95Ms, { median: 80, min: 70, max: 90, count: 2 });
  assert.deepEqual(rate.replicaSeconds, { median: 186, min: 186, max: 186, count: 2 });
  assert.equal(hpa.label, "hpa:0.9");
  assert.deepEqual(hpa.p50Ms, { median: 800, min: 700, max: 900, count: 2 });
  assert.deepEqual(hpa.failed, { median: 1, min: 1, max: 1, count: 2 });
  // Of two runs (p95 1200 and 800) the lower middle one stands for the policy.
  assert.equal(hpa.medianRepeat, 2);
  // A run from before --repeat existed counts as run 1.
  const old = record("rate", FAST.experiment.replicaEvents, [10]);
  delete old.experiment.repeat;
  assert.equal(compareRuns([old], ["a"], new Date(0)).rows[0].repeat, 1);
});

Deno.test("formatComparison() names each repeated run and ends with the medians", () => {
  const text = formatComparison(compareRuns(REPEATED, REPEATED_FILES, new Date(0)));
  const lines = text.split("\n");
  assert.match(lines[1], /^rate #1\s+60\s+70\s/);
  assert.match(lines[4], /^hpa:0\.9 #2\s+700\s+800\s/);
  assert.equal(lines[5], "errors of rate #1: 503 x1");
  const head = lines.findIndex((line) => /^policy\s+runs\s+p50 ms\s+p95 ms/.test(line));
  assert.ok(head > 5, text);
  assert.match(lines[head - 1], /^Per policy over its runs: median \(min-max\)/);
  assert.match(lines[head + 1], /^rate\s+2\s+70 \(60-80\)\s+80 \(70-90\)\s+80 \(70-90\)\s+1\s+186/);
  assert.match(lines[head + 2], /^hpa:0\.9\s+2\s+800 \(700-900\)\s+1000 \(800-1200\)/);
  assert.equal(lines[head + 1].length, lines[head].length);
  assert.match(lines.at(-1)!, /^peak load 14\/s/);
});

Deno.test("formatComparison() without repeats prints no per-policy table", () => {
  const text = formatComparison(compareRuns([FAST, SLOW], ["a", "b"], new Date(0)));
  assert.ok(!text.includes("Per policy"));
  assert.ok(!text.includes("#1"));
});

Deno.test("compare.html with repeats: the medians, every run, and one charted run each", () => {
  const comparison = compareRuns(REPEATED, REPEATED_FILES, new Date(0));
  const html = comparisonSection(comparison).trustedHtml;
  assert.equal(html.match(/<table id="policies">/g)?.length, 1);
  assert.match(html, /<td>80 \(70-90\)<\/td>/);
  assert.equal(html.match(/<tr data-policy="[^"]+" data-repeat=/g)?.length, 4);
  assert.match(html, /<th>hpa:0\.9 #2<\/th>/);
  const charted = chartedRuns(comparison, REPEATED);
  assert.deepEqual(charted.map((run) => run.label), ["rate #1", "hpa:0.9 #2"]);
  assert.equal(charted[1].run, REPEATED[3]);
  const page = renderComparison(charted, { sections: [comparisonSection(comparison)] });
  assert.ok(page.includes('id="chart-latency"'));
  // Without repeats every run is charted under its policy's name.
  const single = compareRuns([FAST, SLOW], ["a", "b"], new Date(0));
  assert.deepEqual(chartedRuns(single, [FAST, SLOW]).map((run) => run.label), ["rate", "hpa:0.9"]);
  assert.ok(!comparisonSection(single).trustedHtml.includes('id="policies"'));
});
