import assert from "node:assert/strict";
import { createLogger } from "@common/log.ts";
import { Stabilizer } from "./decide.ts";
import { Fallback } from "./fallback.ts";
import { type LoopContext, tick } from "./loop.ts";
import { createAutoscalerMetrics } from "./metrics.ts";
import type { MetricSource, QueryResult } from "./prometheus_client.ts";
import { ratePolicy } from "./rate_policy.ts";
import type { Scaler } from "./scaler.ts";

class CountingScaler implements Scaler {
  readonly kind = "test";
  replicas: number;
  calls: number[] = [];
  fail = false;
  constructor(replicas: number) {
    this.replicas = replicas;
  }
  current() {
    return Promise.resolve(this.replicas);
  }
  scaleTo(replicas: number) {
    this.calls.push(replicas);
    if (this.fail) return Promise.reject(new Error("Cannot start replica: no memory"));
    this.replicas = replicas;
    return Promise.resolve();
  }
  close() {
    return Promise.resolve();
  }
}

function setup(result: QueryResult, replicas: number, dryRun = false) {
  const lines: Record<string, unknown>[] = [];
  const source: MetricSource = { query: () => Promise.resolve(result) };
  const scaler = new CountingScaler(replicas);
  const metrics = createAutoscalerMetrics();
  const options = { min: 1, max: 4, scaleDownWindowMs: 0, dryRun };
  const context: LoopContext = {
    policy: ratePolicy({ targetPerReplica: 5, window: "10s" }),
    source,
    scaler,
    options,
    stabilizer: new Stabilizer(0),
    metrics,
    logger: createLogger({
      component: "test",
      write: (line) => lines.push(JSON.parse(line)),
      now: () => 0,
    }),
  };
  return { context, scaler, lines, metrics };
}

Deno.test("tick() applies a scale-up and logs one decision line with its inputs", async () => {
  const { context, scaler, lines } = setup({ ok: true, value: 12, time: 0 }, 1);
  const decision = await tick(context, 0);
  assert.equal(decision.desired, 3);
  assert.deepEqual(scaler.calls, [3]);
  assert.equal(lines.length, 1);
  assert.deepEqual(lines[0], {
    time: "1970-01-01T00:00:00.000Z",
    level: "info",
    component: "test",
    msg: "decision",
    policy: "rate",
    inputs: { requestRate: 12, targetPerReplica: 5 },
    current: 1,
    desired: 3,
    direction: "up",
    applied: true,
    dryRun: false,
    reason: "12.00 req/s at 5 req/s per replica -> 3",
  });
});

Deno.test("tick() keeps the count and counts the error when Prometheus is down", async () => {
  const { context, scaler, lines, metrics } = setup(
    { ok: false, reason: "unreachable", detail: "connection refused" },
    3,
  );
  const decision = await tick(context, 0);
  assert.equal(decision.direction, "hold");
  assert.deepEqual(scaler.calls, []);
  assert.equal(lines[0].reason, "hold: no request rate (unreachable: connection refused)");
  const text = await metrics.registry.metrics();
  assert.match(text, /autoscaler_errors_total\{source="metrics",reason="unreachable"\} 1/);
});

Deno.test("tick() in dry run decides but changes nothing", async () => {
  const { context, scaler, lines } = setup({ ok: true, value: 20, time: 0 }, 1, true);
  await tick(context, 0);
  assert.deepEqual(scaler.calls, []);
  assert.equal(lines[0].applied, false);
  assert.equal(lines[0].desired, 4);
});

Deno.test("tick() logs a failed apply as an error and survives it", async () => {
  const { context, scaler, lines, metrics } = setup({ ok: true, value: 20, time: 0 }, 1);
  scaler.fail = true;
  await tick(context, 0);
  assert.equal(lines[0].level, "error");
  assert.equal(lines[0].error, "Cannot start replica: no memory");
  assert.match(await metrics.registry.metrics(), /reason="apply_failed"\} 1/);
});

Deno.test("tick() goes to the fallback count after readings without data", async () => {
  const down: QueryResult = { ok: false, reason: "unreachable", detail: "connection refused" };
  const { context, scaler, lines } = setup(down, 1);
  context.fallback = new Fallback({ replicas: 3, afterFailures: 2 });
  await tick(context, 0);
  assert.deepEqual(scaler.calls, []);
  await tick(context, 1000);
  assert.deepEqual(scaler.calls, [3]);
  assert.match(String(lines[1].reason), /fallback to 3 after 2 readings without data/);
  scaler.replicas = 4;
  await tick(context, 2000);
  assert.deepEqual(scaler.calls, [3], "a fleet above the fallback is kept");
});

Deno.test("tick() holds and logs when the scaler cannot read the current count", async () => {
  const { context, scaler, lines, metrics } = setup({ ok: true, value: 12, time: 0 }, 1);
  scaler.current = () => Promise.reject(new Error("Kubernetes API unreachable"));
  const decision = await tick(context, 0);
  assert.equal(decision.direction, "hold");
  assert.deepEqual(scaler.calls, []);
  assert.equal(lines.length, 1);
  assert.equal(lines[0].level, "error");
  assert.match(String(lines[0].error), /unreachable/);
  assert.match(await metrics.registry.metrics(), /source="scaler",reason="read_failed"} 1/);
});
