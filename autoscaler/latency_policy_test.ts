import assert from "node:assert/strict";
import { latencyQuantile, requestRate } from "@common/promql.ts";
import { latencyPolicy } from "./latency_policy.ts";
import type { MetricSource, QueryResult } from "./prometheus_client.ts";

function source(answers: Record<string, QueryResult>): MetricSource {
  return {
    query: (promql) =>
      Promise.resolve(answers[promql] ?? { ok: false, reason: "query_error", detail: promql }),
  };
}

const options = { sloSeconds: 0.2, window: "10s", stabilizationSeconds: 60 };
const nan: QueryResult = { ok: false, reason: "not_finite", detail: "NaN" };
const rate = (value: number): QueryResult => ({ ok: true, value, time: 0 });

Deno.test("latency policy grows a fleet with no ready replica while traffic arrives", async () => {
  const policy = latencyPolicy(options);
  const answers = { [latencyQuantile(0.95, "10s")]: nan, [requestRate("10s")]: rate(5) };
  const result = await policy.recommend(source(answers), { current: 0, now: 0 });
  assert.ok(result.valid && result.desired === 1, JSON.stringify(result));
});

Deno.test("latency policy holds without a p95 under traffic, shrinks when idle", async () => {
  const policy = latencyPolicy({ ...options, stabilizationSeconds: 0 });
  const busy = { [latencyQuantile(0.95, "10s")]: nan, [requestRate("10s")]: rate(5) };
  assert.equal((await policy.recommend(source(busy), { current: 2, now: 0 })).valid, false);
  const idle = { [latencyQuantile(0.95, "10s")]: nan, [requestRate("10s")]: rate(0) };
  const result = await policy.recommend(source(idle), { current: 2, now: 1000 });
  assert.ok(result.valid && result.desired === 1, JSON.stringify(result));
});
