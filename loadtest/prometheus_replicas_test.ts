import assert from "node:assert/strict";
import { freePort } from "@common/free_port.ts";
import { replicasUp } from "@common/promql.ts";
import {
  prometheusReplicas,
  replicaCount,
  type ReplicaSourceChange,
} from "./prometheus_replicas.ts";

/** What the fake answers next: a status and a body, or nothing until released. */
type Answer = { status: number; body: string } | "hang";

/**
 * A loopback stand-in for Prometheus's query endpoint that records the
 * queries it receives and answers whatever the test set last.
 */
function fakePrometheus() {
  const queries: string[] = [];
  let answer: Answer = { status: 200, body: "{}" };
  const release = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== "/api/v1/query") return new Response("not found", { status: 404 });
    queries.push(url.searchParams.get("query") ?? "");
    const current = answer;
    if (current === "hang") {
      await release.promise;
      return new Response("too late", { status: 503 });
    }
    return new Response(current.body, {
      status: current.status,
      headers: { "content-type": "application/json" },
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    queries,
    answer(next: Answer) {
      answer = next;
    },
    async close() {
      release.resolve();
      await server.shutdown();
    },
  };
}

function vector(result: unknown[]): string {
  return JSON.stringify({ status: "success", data: { resultType: "vector", result } });
}

Deno.test("prometheusReplicas() asks Prometheus how many model replicas are up", async (t) => {
  const prometheus = fakePrometheus();
  try {
    // A trailing slash on the base URL must not double up in the path.
    const replicas = prometheusReplicas(`${prometheus.baseUrl}/`, { timeoutMs: 2000 });

    await t.step("a count", async () => {
      prometheus.answer({ status: 200, body: vector([{ metric: {}, value: [1.5e9, "3"] }]) });
      assert.equal(await replicas(), 3);
      assert.deepEqual(prometheus.queries, [replicasUp()]);
    });

    await t.step("no series at all means none is up", async () => {
      prometheus.answer({ status: 200, body: vector([]) });
      assert.equal(await replicas(), 0);
    });

    await t.step("a query error gives undefined", async () => {
      const body = JSON.stringify({ status: "error", errorType: "bad_data", error: "parse" });
      prometheus.answer({ status: 400, body });
      assert.equal(await replicas(), undefined);
    });

    await t.step("a body that is not JSON gives undefined", async () => {
      prometheus.answer({ status: 502, body: "<html>bad gateway</html>" });
      assert.equal(await replicas(), undefined);
    });

    await t.step("a non-numeric sample gives undefined", async () => {
      prometheus.answer({ status: 200, body: vector([{ metric: {}, value: [1, "NaN"] }]) });
      assert.equal(await replicas(), undefined);
    });
    assert.equal(prometheus.queries.length, 5);
  } finally {
    await prometheus.close();
  }
});

Deno.test("prometheusReplicas() gives undefined when Prometheus is slow", async () => {
  const prometheus = fakePrometheus();
  try {
    prometheus.answer("hang");
    const replicas = prometheusReplicas(prometheus.baseUrl, { timeoutMs: 100 });
    const started = performance.now();
    assert.equal(await replicas(), undefined);
    assert.ok(performance.now() - started < 2000, "the time limit must cut the query short");
    assert.equal(prometheus.queries.length, 1);
  } finally {
    await prometheus.close();
  }
});

Deno.test("prometheusReplicas() gives undefined when nothing listens", async () => {
  const replicas = prometheusReplicas(`http://127.0.0.1:${freePort()}`);
  assert.equal(await replicas(), undefined);
});

Deno.test("prometheusReplicas() reports losing and regaining the count once each", async (t) => {
  const prometheus = fakePrometheus();
  try {
    const changes: ReplicaSourceChange[] = [];
    const replicas = prometheusReplicas(prometheus.baseUrl, {
      timeoutMs: 2000,
      onChange: (change) => changes.push(change),
    });
    await t.step("a source that works from the start says nothing", async () => {
      prometheus.answer({ status: 200, body: vector([{ metric: {}, value: [1, "2"] }]) });
      assert.equal(await replicas(), 2);
      assert.deepEqual(changes, []);
    });
    await t.step("failures give one change, not one per query", async () => {
      prometheus.answer({ status: 503, body: "down" });
      for (let i = 0; i < 3; i++) assert.equal(await replicas(), undefined);
      assert.equal(changes.length, 1);
      assert.equal(changes[0].known, false);
      assert.equal(changes[0].url, prometheus.baseUrl);
      assert.match((changes[0] as { reason: string }).reason, /HTTP 503.*down/);
    });
    await t.step("an answer again gives one change back", async () => {
      prometheus.answer({ status: 200, body: vector([]) });
      assert.equal(await replicas(), 0);
      assert.equal(await replicas(), 0);
      assert.deepEqual(changes.slice(1), [{ known: true, url: prometheus.baseUrl }]);
    });
  } finally {
    await prometheus.close();
  }
});

Deno.test("prometheusReplicas() reports a Prometheus unreachable from the start", async () => {
  const changes: ReplicaSourceChange[] = [];
  const base = `http://127.0.0.1:${freePort()}`;
  const replicas = prometheusReplicas(base, { onChange: (change) => changes.push(change) });
  assert.equal(await replicas(), undefined);
  assert.equal(await replicas(), undefined);
  assert.equal(changes.length, 1);
  assert.equal(changes[0].known, false);
  assert.equal(changes[0].url, base);
});

Deno.test("replicaCount() accepts only a successful instant vector", () => {
  assert.equal(replicaCount(JSON.parse(vector([{ value: [0, "2"] }]))), 2);
  assert.equal(replicaCount(JSON.parse(vector([]))), 0);
  assert.equal(replicaCount(null), undefined);
  assert.equal(replicaCount("success"), undefined);
  assert.equal(replicaCount({ status: "success", data: { resultType: "matrix" } }), undefined);
  const notAList = { status: "success", data: { resultType: "vector", result: {} } };
  assert.equal(replicaCount(notAList), undefined);
  assert.equal(replicaCount(JSON.parse(vector([{ metric: {} }]))), undefined);
});
