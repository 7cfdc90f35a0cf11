import assert from "node:assert/strict";
import {
  aggregatePolicies,
  formatSpread,
  medianRepeat,
  type RunFigures,
  spread,
} from "./aggregate.ts";

/** A run's figures; anything not given is that of an unremarkable run. */
function run(label: string, repeat: number, figures: Partial<RunFigures> = {}): RunFigures {
  return {
    label,
    repeat,
    failed: 0,
    p50Ms: 50,
    p95Ms: 80,
    p99Ms: 100,
    replicaSeconds: 120,
    scaleUpSeconds: 2,
    scaleDownSeconds: 15,
    stoppedEarly: false,
    ...figures,
  };
}

Deno.test("spread() takes the middle value of an odd count, whatever the order", () => {
  assert.deepEqual(spread([1630, 1402, 1514]), { median: 1514, min: 1402, max: 1630, count: 3 });
  assert.deepEqual(spread([7]), { median: 7, min: 7, max: 7, count: 1 });
});

Deno.test("spread() averages the two middle values of an even count", () => {
  assert.deepEqual(spread([40, 10, 30, 20]), { median: 25, min: 10, max: 40, count: 4 });
  assert.deepEqual(spread([3, 4]), { median: 3.5, min: 3, max: 4, count: 2 });
});

Deno.test("spread() leaves out runs without a value and says how many had one", () => {
  assert.deepEqual(spread([null, 9, null, 5]), { median: 7, min: 5, max: 9, count: 2 });
  assert.deepEqual(spread([null, null]), { median: null, min: null, max: null, count: 0 });
  assert.deepEqual(spread([]), { median: null, min: null, max: null, count: 0 });
});

Deno.test("formatSpread() prints the median, the range and the share of runs", () => {
  const of = (values: (number | null)[], digits = 0) =>
    formatSpread(spread(values), digits, values.length);
  assert.equal(of([1514, 1402, 1630]), "1514 (1402-1630)");
  assert.equal(of([2.25, 5.5], 1), "3.9 (2.3-5.5)");
  // Runs that agree need no range.
  assert.equal(of([0, 0, 0]), "0");
  assert.equal(of([4.01, 3.99], 1), "4.0");
  assert.equal(of([null, 6, 8], 1), "7.0 (6.0-8.0) [2/3]");
  assert.equal(of([null, null]), "-");
});

Deno.test("aggregatePolicies() groups interleaved runs by policy, in first-seen order", () => {
  const rows = [
    run("rate", 1, { p95Ms: 90, replicaSeconds: 150 }),
    run("hpa:0.7", 1, { p95Ms: 300, failed: 4 }),
    run("rate", 2, { p95Ms: 70, replicaSeconds: 130 }),
    run("hpa:0.7", 2, { p95Ms: 200, failed: 0 }),
    run("rate", 3, { p95Ms: 110, replicaSeconds: 170 }),
    run("hpa:0.7", 3, { p95Ms: 250, failed: 1 }),
  ];
  const [rate, hpa] = aggregatePolicies(rows);
  assert.equal(rate.label, "rate");
  assert.equal(rate.runs, 3);
  assert.deepEqual(rate.p95Ms, { median: 90, min: 70, max: 110, count: 3 });
  assert.deepEqual(rate.replicaSeconds, { median: 150, min: 130, max: 170, count: 3 });
  assert.equal(rate.medianRepeat, 1);
  assert.equal(hpa.label, "hpa:0.7");
  assert.deepEqual(hpa.failed, { median: 1, min: 0, max: 4, count: 3 });
  assert.deepEqual(hpa.p95Ms, { median: 250, min: 200, max: 300, count: 3 });
  assert.equal(hpa.medianRepeat, 3);
  assert.deepEqual(hpa.stoppedEarly, []);
});

Deno.test("aggregatePolicies() copes with a policy whose runs partly failed", () => {
  const [latency] = aggregatePolicies([
    // Every request failed: no latency, and the fleet never grew.
    run("latency:150", 1, {
      failed: 60,
      p50Ms: null,
      p95Ms: null,
      p99Ms: null,
      scaleUpSeconds: null,
      scaleDownSeconds: null,
    }),
    run("latency:150", 2, { failed: 2, p95Ms: 400, scaleUpSeconds: 3, scaleDownSeconds: null }),
    // Interrupted: its figures cover part of the load only.
    run("latency:150", 3, { p95Ms: 200, scaleUpSeconds: 5, stoppedEarly: true }),
    run("latency:150", 4, { p95Ms: 250, scaleUpSeconds: 4, scaleDownSeconds: 20 }),
  ]);
  assert.equal(latency.runs, 4);
  assert.deepEqual(latency.failed, { median: 1, min: 0, max: 60, count: 4 });
  assert.deepEqual(latency.p95Ms, { median: 250, min: 200, max: 400, count: 3 });
  assert.deepEqual(latency.scaleUpSeconds, { median: 4, min: 3, max: 5, count: 3 });
  assert.deepEqual(latency.scaleDownSeconds, { median: 17.5, min: 15, max: 20, count: 2 });
  assert.deepEqual(latency.stoppedEarly, [3]);
  assert.equal(latency.medianRepeat, 4);
  assert.equal(formatSpread(latency.p95Ms, 0, latency.runs), "250 (200-400) [3/4]");
});

Deno.test("medianRepeat() picks the median run by p95, the lower middle of an even count", () => {
  // Median of 100, 200, 300, 400 is 250: 200 and 300 are as near; the lower wins.
  const even = [400, 300, 100, 200].map((p95, i) => run("rate", i + 1, { p95Ms: p95 }));
  assert.equal(medianRepeat(even), 4);
  // Middles whose distances to the mean differ only by rounding: still the lower.
  const close = [149.631, 109.055].map((p95, i) => run("hpa", i + 1, { p95Ms: p95 }));
  assert.equal(medianRepeat(close), 2);
  // Odd count: the middle one; a run without answers does not count.
  const odd = [300, null, 100, 200].map((p95, i) => run("rate", i + 1, { p95Ms: p95 }));
  assert.equal(medianRepeat(odd), 4);
  // Equal p95: the earlier run.
  assert.equal(medianRepeat([run("rate", 1), run("rate", 2)]), 1);
  // No run has a p95: the first run stands in.
  const none = [run("rate", 2, { p95Ms: null }), run("rate", 1, { p95Ms: null })];
  assert.equal(medianRepeat(none), 2);
  assert.throws(() => medianRepeat([]), RangeError);
});
