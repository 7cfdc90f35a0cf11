import assert from "node:assert/strict";
import { DISPATCHER } from "./metrics.ts";
import { concurrencyOver, durationSeconds, inFlight, queueDepth } from "./promql.ts";

Deno.test("concurrencyOver() adds time in queue and time at replicas per second", () => {
  assert.equal(
    concurrencyOver("30s"),
    `(sum(rate(${DISPATCHER.queueDuration}_sum[30s])) + ` +
      `sum(rate(${DISPATCHER.upstreamDuration}_sum[30s])))`,
  );
});

Deno.test("queueDepth() and inFlight() read the dispatcher's gauges", () => {
  assert.equal(queueDepth(), "sum(dispatcher_queue_depth)");
  assert.equal(inFlight(), "sum(dispatcher_in_flight)");
});

Deno.test("durationSeconds() reads Prometheus durations and names a bad one", () => {
  assert.deepEqual(["500ms", "10s", "2m", "1h"].map(durationSeconds), [0.5, 10, 120, 3600]);
  assert.throws(() => durationSeconds("10"), {
    name: "SyntaxError",
    message: 'Cannot parse duration: expected a number and a unit (ms, s, m, h), got "10"',
  });
});
