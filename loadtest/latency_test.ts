import assert from "node:assert/strict";
import { LatencyHistogram } from "./latency.ts";

Deno.test("LatencyHistogram reads percentiles within 0.1 % of the exact ones", () => {
  const histogram = new LatencyHistogram();
  // 1..10000 ms in 1 ms steps: the exact p-th percentile is p * 100 ms.
  for (let ms = 1; ms <= 10_000; ms++) histogram.record(ms);
  const summary = histogram.summary()!;
  const exact = { p50: 5000, p90: 9000, p95: 9500, p99: 9900, p999: 9990, max: 10_000 };
  for (const [name, value] of Object.entries(exact)) {
    const got = summary[name as keyof typeof summary];
    assert.ok(Math.abs(got - value) <= value * 0.001, `${name}: ${got} vs ${value}`);
  }
  assert.equal(summary.max, 10_000);
  assert.equal(histogram.count, 10_000);
});

Deno.test("LatencyHistogram keeps microseconds and never reads a percentile above max", () => {
  const histogram = new LatencyHistogram();
  histogram.record(0.0004);
  histogram.record(1.2345);
  histogram.record(45.0237);
  const summary = histogram.summary()!;
  assert.equal(summary.p50, 1.235);
  assert.equal(summary.max, 45.024);
  assert.ok(summary.p999 <= summary.max);
  // Below 1 µs counts as 1 µs.
  assert.equal(histogram.percentile(0), 0.001);
});

Deno.test("LatencyHistogram without values reads null and refuses a bad percentile", () => {
  const histogram = new LatencyHistogram();
  assert.equal(histogram.summary(), null);
  assert.equal(histogram.percentile(50), null);
  assert.throws(() => histogram.percentile(101), {
    name: "RangeError",
    message: "Cannot read a percentile: expected p from 0 to 100, got 101",
  });
});
