import assert from "node:assert/strict";
import { concurrencyOver, inFlight, queueDepth, requestRate } from "@common/promql.ts";
import { createDispatcherMetrics, outcomeOf } from "./metrics.ts";

Deno.test("createDispatcherMetrics() exports every series the autoscaler reads", async () => {
  const metrics = createDispatcherMetrics({
    processMetrics: false,
    load: { queueDepth: () => 2, replicas: () => [{ address: "a:1", outstanding: 3 }] },
  });
  const text = await metrics.registry.metrics();
  // From the first scrape on, before any request: the labelled latency
  // histogram that latencyQuantile() reads has series only after an answer.
  const queries = [concurrencyOver("10s"), queueDepth(), inFlight(), requestRate("10s")];
  for (const query of queries) {
    for (const [name] of query.matchAll(/\bdispatcher_[a-z_]+/g)) {
      assert.match(text, new RegExp(`^${name}[{ ]`, "m"), `${name} (from ${query})`);
    }
  }
  assert.match(text, /^dispatcher_queue_depth 2$/m);
  assert.match(text, /^dispatcher_replica_in_flight\{replica="a:1"\} 3$/m);
  // Every async job status has a series before the first job.
  for (const status of ["pending", "done", "failed"]) {
    assert.match(text, new RegExp(`^dispatcher_async_jobs\\{status="${status}"\\} 0$`, "m"));
  }
});

Deno.test("outcomeOf() sorts statuses into outcomes", () => {
  assert.deepEqual(
    [200, 400, 413, 499, 500, 503, 504].map(outcomeOf),
    ["ok", "bad_input", "bad_input", "client_closed", "error", "overloaded", "timeout"],
  );
});
