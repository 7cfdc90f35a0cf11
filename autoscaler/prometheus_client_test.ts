import assert from "node:assert/strict";
import { parseQueryResponse, PrometheusClient } from "./prometheus_client.ts";

const NOW = 1_700_000_000;

function vector(...values: string[]) {
  return {
    status: "success",
    data: {
      resultType: "vector",
      result: values.map((value) => ({ metric: {}, value: [NOW - 1, value] })),
    },
  };
}

Deno.test("parseQueryResponse() reduces a one-sample vector to its value", () => {
  assert.deepEqual(parseQueryResponse(vector("12.5"), 200, NOW, 60), {
    ok: true,
    value: 12.5,
    time: NOW - 1,
  });
});

Deno.test("parseQueryResponse() gives a reason for every unusable answer", async (t) => {
  const cases: [string, unknown, number, string][] = [
    ["empty vector", vector(), 200, "empty"],
    ["NaN", vector("NaN"), 200, "not_finite"],
    ["+Inf", vector("+Inf"), 200, "not_finite"],
    ["-Inf", vector("-Inf"), 200, "not_finite"],
    ["two series", vector("1", "2"), 200, "bad_response"],
    [
      "matrix",
      { status: "success", data: { resultType: "matrix", result: [] } },
      200,
      "bad_response",
    ],
    [
      "bad PromQL",
      { status: "error", errorType: "bad_data", error: "parse error at char 5" },
      400,
      "query_error",
    ],
    ["server error", { status: "error", errorType: "internal", error: "boom" }, 503, "http_error"],
    ["not an answer", { hello: "world" }, 200, "http_error"],
    [
      "sample without value",
      { status: "success", data: { resultType: "vector", result: [{}] } },
      200,
      "bad_response",
    ],
  ];
  for (const [name, body, status, reason] of cases) {
    await t.step(name, () => {
      const result = parseQueryResponse(body, status, NOW, 60);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.reason, reason);
    });
  }
});

Deno.test("parseQueryResponse() calls a sample older than the limit stale", () => {
  const body = {
    status: "success",
    data: { resultType: "vector", result: [{ metric: {}, value: [NOW - 120, "3"] }] },
  };
  const result = parseQueryResponse(body, 200, NOW, 60);
  assert.deepEqual(result, { ok: false, reason: "stale", detail: `sample is from ${NOW - 120}` });
});

Deno.test("PrometheusClient.query() calls a closed port unreachable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const client = new PrometheusClient({ url: `http://127.0.0.1:${port}` });
  const result = await client.query("up");
  assert.equal(!result.ok && result.reason, "unreachable");
});

Deno.test("PrometheusClient.query() gives up on a slow server with timeout", async () => {
  const release = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    await release.promise;
    return Response.json(vector("1"));
  });
  try {
    const client = new PrometheusClient({
      url: `http://127.0.0.1:${server.addr.port}`,
      timeoutMs: 50,
    });
    const result = await client.query("up");
    assert.equal(!result.ok && result.reason, "timeout");
  } finally {
    release.resolve();
    await server.shutdown();
  }
});

Deno.test("PrometheusClient.query() sends the PromQL and reads the answer", async () => {
  let seen = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    seen = new URL(request.url).searchParams.get("query") ?? "";
    return Response.json(vector("7"));
  });
  try {
    const client = new PrometheusClient({
      url: `http://127.0.0.1:${server.addr.port}/`,
      now: () => NOW * 1000,
    });
    const result = await client.query('sum(rate(x{job="a b"}[10s]))');
    assert.equal(seen, 'sum(rate(x{job="a b"}[10s]))');
    assert.deepEqual(result, { ok: true, value: 7, time: NOW - 1 });
  } finally {
    await server.shutdown();
  }
});

Deno.test("PrometheusClient.query() names an HTML error page as an HTTP error", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("<html>bad gateway</html>", { status: 502 }),
  );
  try {
    const client = new PrometheusClient({ url: `http://127.0.0.1:${server.addr.port}` });
    const result = await client.query("up");
    assert.deepEqual(result, {
      ok: false,
      reason: "http_error",
      detail: "HTTP 502 with a body that is not JSON",
    });
  } finally {
    await server.shutdown();
  }
});
