import assert from "node:assert/strict";
import { cpuPerReplica, requestRate } from "@common/promql.ts";
import { DEFAULT_BEHAVIOR } from "./hpa_algorithm.ts";
import { hpaPolicy } from "./hpa_policy.ts";
import type { MetricSource, QueryResult } from "./prometheus_client.ts";

function source(answers: Record<string, QueryResult>): MetricSource {
  return {
    query: (promql) =>
      Promise.resolve(answers[promql] ?? { ok: false, reason: "query_error", detail: promql }),
  };
}

const options = { target: 0.5, window: "10s", tolerance: 0.1, behavior: DEFAULT_BEHAVIOR };
const empty: QueryResult = { ok: false, reason: "empty", detail: "no series" };

Deno.test("hpa policy scales on CPU per live replica", async () => {
  const policy = hpaPolicy(options);
  const result = await policy.recommend(
    source({ [cpuPerReplica("10s")]: { ok: true, value: 0.9, time: 0 } }),
    { current: 2, now: 0 },
  );
  assert.ok(result.valid && result.desired === 4, JSON.stringify(result)); // ceil(2 x 1.8)
});

Deno.test("hpa policy grows a fleet with no ready replica while traffic arrives", async () => {
  const policy = hpaPolicy(options);
  const busy = await policy.recommend(
    source({
      [cpuPerReplica("10s")]: empty,
      [requestRate("10s")]: { ok: true, value: 9, time: 0 },
    }),
    { current: 0, now: 0 },
  );
  assert.ok(busy.valid && busy.desired === 1, JSON.stringify(busy));
  const idle = await policy.recommend(
    source({
      [cpuPerReplica("10s")]: empty,
      [requestRate("10s")]: { ok: true, value: 0, time: 0 },
    }),
    { current: 0, now: 1000 },
  );
  assert.equal(idle.valid, false, "no traffic, no data: hold");
});
