import assert from "node:assert/strict";
import { buildProfile } from "../loadtest/profile_build.ts";
import { renderComparison } from "../loadtest/report.ts";
import { RUN_RECORD_VERSION } from "../loadtest/run_record.ts";
import { compareRuns, formatComparison } from "./compare.ts";
import { comparisonSection } from "./compare_html.ts";
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
