import assert from "node:assert/strict";
import { freePort } from "@common/free_port.ts";
import { writeTargets } from "@common/targets.ts";
import { parseConfig } from "./config.ts";
import { type Dispatcher, startDispatcher } from "./server.ts";
import {
  type FakeReplica,
  memoryLogger,
  startFakeReplica,
  startTestDispatcher,
  tempTargets,
  until,
} from "./_test_support.ts";

interface Harness {
  dispatcher: Dispatcher;
  replicas: FakeReplica[];
  lines: Record<string, unknown>[];
  path: string;
  classify(body?: BodyInit, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** A dispatcher whose target file lists `replicas` plus any `extraTargets`. */
async function harness(
  replicas: FakeReplica[],
  options: { extraTargets?: string[]; args?: string[] } = {},
): Promise<Harness> {
  const { logger, lines } = memoryLogger();
  const { dispatcher, path, close } = await startTestDispatcher(replicas, { ...options, logger });
  return {
    dispatcher,
    replicas,
    lines,
    path,
    classify: (body = new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]), headers) =>
      fetch(`${dispatcher.url}/classify`, {
        method: "POST",
        body,
        headers: headers ?? { "content-type": "image/jpeg" },
      }),
    close,
  };
}

function total(replicas: FakeReplica[]): number {
  return replicas.reduce((sum, replica) => sum + replica.seen.length, 0);
}

Deno.test("POST /classify forwards body and type, naming the replica that answered", async () => {
  const replica = await startFakeReplica();
  const h = await harness([replica]);
  try {
    const response = await h.classify(new Uint8Array(1234), { "content-type": "image/png" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("x-replica"), replica.address);
    assert.match(response.headers.get("content-type") ?? "", /application\/json/);
    const body = await response.json();
    assert.equal(body.bytes, 1234);
    assert.deepEqual(replica.seen, [{ contentType: "image/png", bytes: 1234 }]);

    const json = await h.classify(JSON.stringify({ data: "AAAA" }), {
      "content-type": "application/json",
    });
    await json.body?.cancel();
    assert.equal(replica.seen[1].contentType, "application/json");
  } finally {
    await h.close();
  }
});

Deno.test("POST /classify passes a replica's 4xx through without retrying", async () => {
  const replicas = [
    await startFakeReplica({ status: 415 }),
    await startFakeReplica({ status: 415 }),
  ];
  const h = await harness(replicas);
  try {
    const response = await h.classify();
    assert.equal(response.status, 415);
    assert.deepEqual(await response.json(), { error: "status_415", message: "Fake refusal" });
    assert.ok(response.headers.get("x-replica"));
    assert.equal(total(replicas), 1, "exactly one replica saw the request");
  } finally {
    await h.close();
  }
});

Deno.test("POST /classify retries elsewhere when a replica refuses connections", async () => {
  const good = await startFakeReplica();
  const refused = `127.0.0.1:${freePort()}`;
  const h = await harness([good], { extraTargets: [refused] });
  try {
    // Idle replicas take turns, so two requests put the refusing one first once.
    for (let i = 0; i < 2; i++) {
      const response = await h.classify();
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-replica"), good.address);
      await response.body?.cancel();
    }
    assert.equal(good.seen.length, 2);
    const failed = h.lines.filter((line) => line.msg === "attempt failed");
    assert.ok(failed.length >= 1, "the refusing replica was tried");
    assert.ok(failed.every((line) => line.replica === refused && line.outcome === "unreachable"));
  } finally {
    await h.close();
  }
});

Deno.test("POST /classify retries elsewhere when a replica answers 503", async () => {
  const busy = await startFakeReplica({ status: 503 });
  const good = await startFakeReplica();
  const h = await harness([busy, good]);
  try {
    for (let i = 0; i < 2; i++) {
      const response = await h.classify();
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-replica"), good.address);
      await response.body?.cancel();
    }
    assert.equal(good.seen.length, 2);
    assert.ok(busy.seen.length >= 1, "the busy replica was tried");
  } finally {
    await h.close();
  }
});

Deno.test("POST /classify answers 503 with Retry-After when every attempt fails", async (t) => {
  const busy = await startFakeReplica({ status: 503 });
  const refused = `127.0.0.1:${freePort()}`;
  const h = await harness([busy], { extraTargets: [refused] });
  try {
    await t.step("every replica tried once, then 503", async () => {
      const response = await h.classify();
      assert.equal(response.status, 503);
      // The replica asked for 2 s, which beats the dispatcher's own 1 s.
      assert.equal(response.headers.get("retry-after"), "2");
      const body = await response.json();
      assert.equal(body.error, "unavailable");
      assert.match(body.message, /^Cannot classify: 2 attempt\(s\) failed: /);
      assert.equal(busy.seen.length, 1, "no replica is tried twice for one request");
    });

    await t.step("no replica at all, then 503 at the request's deadline", async () => {
      await writeTargets(h.path, []);
      await until(() => h.dispatcher.pool.size === 0, () => h.dispatcher.watcher.nextRead());
      const response = await h.classify(undefined, {
        "content-type": "image/jpeg",
        "x-deadline-ms": "150",
      });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get("retry-after"), "1");
      assert.deepEqual(await response.json(), {
        error: "no_replica",
        message: "Cannot classify: no model replica is known yet, and none appeared before " +
          "the request's deadline",
      });
      assert.equal(h.dispatcher.queue.depth, 0, "the expired waiter left the queue");
    });
  } finally {
    await h.close();
  }
});

Deno.test("POST /classify sends fewer requests to a slow replica", async () => {
  const slow = await startFakeReplica({ delayMs: 300 });
  const fast = await startFakeReplica();
  const h = await harness([slow, fast]);
  try {
    // Four clients, each sending six requests one after another.
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 6; i++) {
        const response = await h.classify();
        assert.equal(response.status, 200);
        await response.body?.cancel();
      }
    }));
    assert.equal(slow.seen.length + fast.seen.length, 24);
    // Round robin would split 12/12; least outstanding starves the slow one.
    assert.ok(
      slow.seen.length * 2 < fast.seen.length,
      `slow got ${slow.seen.length}, fast got ${fast.seen.length}`,
    );
  } finally {
    await h.close();
  }
});

Deno.test("POST /classify follows replicas added to the target file", async () => {
  const first = await startFakeReplica();
  const second = await startFakeReplica();
  const h = await harness([first]);
  try {
    await writeTargets(h.path, [first.address, second.address]);
    await until(() => h.dispatcher.pool.size === 2, () => h.dispatcher.watcher.nextRead());
    for (let i = 0; i < 2; i++) await (await h.classify()).body?.cancel();
    assert.equal(second.seen.length, 1, "idle replicas take turns, the new one included");
    assert.equal(h.lines.filter((line) => line.msg === "replicas changed").length, 2);
  } finally {
    await h.close();
  }
});

Deno.test("POST /classify refuses a body over the limit with 413", async (t) => {
  const replica = await startFakeReplica();
  const h = await harness([replica], { args: ["--max-body-bytes", "1000"] });
  try {
    await t.step("declared by Content-Length", async () => {
      const response = await h.classify(new Uint8Array(1001));
      assert.equal(response.status, 413);
      assert.deepEqual(await response.json(), {
        error: "body_too_large",
        message: "Cannot accept the image: expected a body of at most 1000 bytes, got 1001",
        accepted: ["a body of at most 1000 bytes"],
      });
    });

    await t.step("counted while reading a chunked body", async () => {
      const chunks = [new Uint8Array(600), new Uint8Array(600)];
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      });
      const response = await h.classify(stream);
      assert.equal(response.status, 413);
      assert.match((await response.json()).message, /got more than 1000$/);
    });

    await t.step("a body at the limit passes", async () => {
      const response = await h.classify(new Uint8Array(1000));
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });
    assert.deepEqual(replica.seen.map((seen) => seen.bytes), [1000]);
  } finally {
    await h.close();
  }
});

Deno.test("GET /metrics counts requests by outcome", async () => {
  const ok = await startFakeReplica();
  const bad = await startFakeReplica({ status: 400 });
  const h = await harness([ok]);
  try {
    await (await h.classify()).body?.cancel();
    await (await h.classify()).body?.cancel();
    await writeTargets(h.path, [bad.address]);
    await until(
      () => h.dispatcher.pool.addresses()[0] === bad.address,
      () => h.dispatcher.watcher.nextRead(),
    );
    await (await h.classify()).body?.cancel();
    await writeTargets(h.path, []);
    await until(() => h.dispatcher.pool.size === 0, () => h.dispatcher.watcher.nextRead());
    await (await h.classify()).body?.cancel();

    const text = await (await fetch(`${h.dispatcher.url}/metrics`)).text();
    const value = (series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.split(" ")[1]);
    };
    assert.equal(value('dispatcher_requests_total{outcome="ok"}'), 2);
    assert.equal(value('dispatcher_requests_total{outcome="bad_input"}'), 1);
    assert.equal(value('dispatcher_requests_total{outcome="overloaded"}'), 1);
    assert.equal(value('dispatcher_requests_total{outcome="error"}'), 0);
    assert.equal(value('dispatcher_request_duration_seconds_count{outcome="ok"}'), 2);
    assert.equal(value("dispatcher_in_flight"), 0);
    assert.equal(value("dispatcher_replicas"), 0);
  } finally {
    await h.close();
    await bad.close();
  }
});

Deno.test("GET /healthz, /readyz and unknown routes answer JSON", async () => {
  const h = await harness([], { extraTargets: ["127.0.0.1:1"] });
  try {
    const health = await fetch(`${h.dispatcher.url}/healthz`);
    assert.deepEqual([health.status, await health.json()], [200, { status: "ok" }]);
    const ready = await fetch(`${h.dispatcher.url}/readyz`);
    assert.deepEqual([ready.status, await ready.json()], [200, { status: "ready", replicas: 1 }]);
    const missing = await fetch(`${h.dispatcher.url}/nope`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error, "not_found");
  } finally {
    await h.close();
  }
});

Deno.test("Dispatcher.shutdown() lets a request in flight finish", async () => {
  const slow = await startFakeReplica({ delayMs: 200 });
  const h = await harness([slow]);
  try {
    const pending = h.classify();
    await until(() => slow.seen.length === 1, () => new Promise((r) => setTimeout(r, 10)));
    const stopped = h.dispatcher.shutdown();
    const response = await pending;
    assert.equal(response.status, 200);
    await response.body?.cancel();
    await stopped;
  } finally {
    await h.close();
  }
});

Deno.test("POST /classify survives a replica that stopped after serving", async () => {
  const leaving = await startFakeReplica();
  const staying = await startFakeReplica();
  const h = await harness([leaving, staying]);
  try {
    // Warm kept-alive connections to both, then stop one without telling the dispatcher.
    for (let i = 0; i < 2; i++) await (await h.classify()).body?.cancel();
    assert.equal(leaving.seen.length, 1);
    await leaving.close();
    for (let i = 0; i < 4; i++) {
      const response = await h.classify();
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-replica"), staying.address);
      await response.body?.cancel();
    }
    assert.equal(staying.seen.length, 5);
  } finally {
    await h.close();
  }
});

Deno.test("POST /classify answers 504 when a replica exceeds the attempt timeout", async () => {
  const stuck = await startFakeReplica({ delayMs: 500 });
  const h = await harness([stuck], { args: ["--upstream-timeout", "0.1"] });
  try {
    const response = await h.classify();
    assert.equal(response.status, 504);
    assert.deepEqual(await response.json(), {
      error: "upstream_timeout",
      message: `Cannot classify: replica ${stuck.address} gave no answer within 100 ms`,
    });
  } finally {
    await h.close();
  }
});

Deno.test("GET /metrics includes process metrics by default", async () => {
  const { dir, path } = await tempTargets();
  const config = parseConfig(["--port", "0", "--targets", path], {});
  const dispatcher = await startDispatcher(config, { logger: memoryLogger().logger });
  try {
    const text = await (await fetch(`${dispatcher.url}/metrics`)).text();
    assert.match(text, /^process_cpu_seconds_total \d/m);
    assert.match(text, /^dispatcher_replicas 0$/m);
  } finally {
    await dispatcher.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("POST /classify answers 503 when the uploads held fill the budget", async () => {
  // The replica answers slowly, so the first upload is still held when the next arrive.
  const replica = await startFakeReplica({ delayMs: 300 });
  const h = await harness([replica], { args: ["--max-buffered-bytes", "1500"] });
  try {
    const first = h.classify(new Uint8Array(1000));
    // The replica records a request as soon as it has read it.
    await until(() => replica.seen.length === 1, () => new Promise((r) => setTimeout(r, 5)));
    const refused = await h.classify(new Uint8Array(1000));
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.equal((await refused.json()).error, "busy");
    const small = await h.classify(new Uint8Array(400));
    assert.equal(small.status, 200);
    await small.body?.cancel();
    const answer = await first;
    assert.equal(answer.status, 200);
    await answer.body?.cancel();
    // Everything given back: a full-size upload fits again.
    const again = await h.classify(new Uint8Array(1400));
    assert.equal(again.status, 200);
    await again.body?.cancel();
  } finally {
    await h.close();
  }
});
