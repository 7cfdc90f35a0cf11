import assert from "node:assert/strict";
import { requestRate } from "@common/promql.ts";
import type { MetricSource, QueryResult } from "./prometheus_client.ts";
import { ratePolicy } from "./rate_policy.ts";

function fixed(result: QueryResult, seen: string[] = []): MetricSource {
  return {
    query: (promql) => {
      seen.push(promql);
      return Promise.resolve(result);
    },
  };
}

const INPUT = { current: 2, now: 0 };

Deno.test("ratePolicy() asks for ceil(rate / target) replicas", async (t) => {
  const policy = ratePolicy({ targetPerReplica: 5, window: "10s" });
  const cases: [number, number][] = [[0, 0], [4.9, 1], [5, 1], [5.01, 2], [23, 5], [
    10.0000000001,
    2,
  ]];
  for (const [rate, desired] of cases) {
    await t.step(`${rate} req/s -> ${desired}`, async () => {
      const result = await policy.recommend(fixed({ ok: true, value: rate, time: 0 }), INPUT);
      assert.equal(result.valid && result.desired, desired);
      assert.deepEqual(result.inputs, { requestRate: rate, targetPerReplica: 5 });
    });
  }
});

Deno.test("ratePolicy() queries the common request-rate PromQL with its window", async () => {
  const seen: string[] = [];
  const policy = ratePolicy({ targetPerReplica: 5, window: "30s" });
  await policy.recommend(fixed({ ok: true, value: 1, time: 0 }, seen), INPUT);
  assert.deepEqual(seen, [requestRate("30s")]);
});

Deno.test("ratePolicy() makes no recommendation without data", async () => {
  const policy = ratePolicy({ targetPerReplica: 5, window: "10s" });
  const result = await policy.recommend(
    fixed({ ok: false, reason: "empty", detail: "empty vector" }),
    INPUT,
  );
  assert.deepEqual(result, {
    valid: false,
    cause: "empty",
    reason: "no request rate (empty: empty vector)",
    inputs: { targetPerReplica: 5 },
  });
});

Deno.test("ratePolicy() refuses a target that is not positive", () => {
  assert.throws(() => ratePolicy({ targetPerReplica: 0, window: "10s" }), {
    name: "RangeError",
    message: "Cannot create rate policy: target per replica must be > 0, got 0",
  });
});
