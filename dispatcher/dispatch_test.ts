import assert from "node:assert/strict";
import { writeTargets } from "@common/targets.ts";
import { type Dispatcher } from "./server.ts";
import {
  type FakeReplica,
  memoryLogger,
  startFakeReplica,
  startTestDispatcher,
  until,
} from "./_test_support.ts";

/** A gate each request of a fake replica waits at until the test opens it. */
class Gate {
  #open = Promise.withResolvers<void>();
  #closed = true;

  /** What a fake replica calls per request. */
  readonly wait = (): Promise<void> => this.#closed ? this.#open.promise : Promise.resolve();

  open(): void {
    this.#closed = false;
    this.#open.resolve();
  }

  close(): void {
    if (!this.#closed) this.#open = Promise.withResolvers<void>();
    this.#closed = true;
  }
}

interface Harness {
  dispatcher: Dispatcher;
  lines: Record<string, unknown>[];
  path: string;
  classify(headers?: Record<string, string>, signal?: AbortSignal): Promise<Response>;
  metric(series: string): Promise<number | undefined>;
  close(): Promise<void>;
}

async function harness(replicas: FakeReplica[], args: string[]): Promise<Harness> {
  const { logger, lines } = memoryLogger();
  const { dispatcher, path, close } = await startTestDispatcher(replicas, { args, logger });
  return {
    dispatcher,
    lines,
    path,
    classify: (headers = {}, signal) =>
      fetch(`${dispatcher.url}/classify`, {
        method: "POST",
        body: new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]),
        headers: { "content-type": "image/jpeg", ...headers },
        signal,
      }),
    metric: async (series) => {
      const text = await dispatcher.metrics.registry.metrics();
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.split(" ")[1]);
    },
    close,
  };
}

/** Re-checks a condition that the dispatcher's own state moves towards. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

async function drain(responses: Promise<Response>[]): Promise<number[]> {
  return await Promise.all(responses.map(async (pending) => {
    const response = await pending;
    await response.body?.cancel();
    return response.status;
  }));
}

Deno.test("dispatch keeps each replica under its cap and queues the rest", async () => {
  const gate = new Gate();
  const replica = await startFakeReplica({ gate: gate.wait });
  const h = await harness([replica], ["--max-in-flight-per-replica", "2"]);
  try {
    const responses = Array.from({ length: 5 }, () => h.classify());
    await until(() => h.dispatcher.queue.depth === 3 && replica.seen.length === 2, tick);
    assert.equal(await h.metric("dispatcher_queue_depth"), 3);
    assert.equal(await h.metric("dispatcher_in_flight"), 2);
    assert.equal(await h.metric(`dispatcher_replica_in_flight{replica="${replica.address}"}`), 2);
    gate.open();
    assert.deepEqual(await drain(responses), [200, 200, 200, 200, 200]);
    assert.equal(replica.load.maxActive, 2, "never more than the cap at once");
    assert.equal(replica.seen.length, 5);
    assert.equal(await h.metric("dispatcher_queue_duration_seconds_count"), 5);
  } finally {
    gate.open();
    await h.close();
  }
});

Deno.test("dispatch answers 503 with Retry-After when the queue is full", async () => {
  const gate = new Gate();
  const replica = await startFakeReplica({ gate: gate.wait });
  const h = await harness([replica], ["--max-in-flight-per-replica", "1", "--queue-size", "1"]);
  try {
    const held = [h.classify(), h.classify()];
    await until(() => h.dispatcher.queue.depth === 1 && replica.seen.length === 1, tick);
    const refused = await h.classify();
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.match(refused.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await refused.json(), {
      error: "queue_full",
      message: "Cannot classify now: every replica is at its in-flight limit and 1 requests " +
        "already wait; retry after the delay",
    });
    gate.open();
    assert.deepEqual(await drain(held), [200, 200]);
    assert.equal(replica.seen.length, 2, "the refused request never reached the replica");
    assert.equal(await h.metric('dispatcher_requests_total{outcome="overloaded"}'), 1);
  } finally {
    gate.open();
    await h.close();
  }
});

Deno.test("dispatch answers 504 to a request whose deadline passed in the queue", async () => {
  const gate = new Gate();
  const replica = await startFakeReplica({ gate: gate.wait });
  const h = await harness([replica], ["--max-in-flight-per-replica", "1"]);
  try {
    const held = h.classify();
    await until(() => replica.seen.length === 1, tick);
    const late = await h.classify({ "x-deadline-ms": "100" });
    assert.equal(late.status, 504);
    const body = await late.json();
    assert.equal(body.error, "deadline_exceeded");
    assert.match(
      body.message,
      new RegExp(
        "^Cannot classify within the request's deadline: it passed while waiting \\d+ ms " +
          "for a free replica; ",
      ),
    );
    assert.equal(h.dispatcher.queue.depth, 0, "the expired waiter left the queue");
    gate.open();
    assert.deepEqual(await drain([held]), [200]);
    // The slot the first request gave back must not go to the expired one.
    const after = await h.classify();
    await after.body?.cancel();
    assert.equal(replica.seen.length, 2, "the late request was never sent");
    assert.equal(await h.metric('dispatcher_requests_total{outcome="timeout"}'), 1);
  } finally {
    gate.open();
    await h.close();
  }
});

Deno.test("dispatch refuses a bad x-deadline-ms with 400", async () => {
  const replica = await startFakeReplica();
  const h = await harness([replica], []);
  try {
    const response = await h.classify({ "x-deadline-ms": "soon" });
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error, "bad_deadline");
    assert.equal(replica.seen.length, 0);
  } finally {
    await h.close();
  }
});

Deno.test("dispatch stops retrying when the retry budget is spent", async () => {
  const busy = await startFakeReplica({ status: 503 });
  const good = await startFakeReplica();
  const h = await harness([busy, good], ["--retry-budget-ratio", "0", "--retry-budget-min", "0"]);
  try {
    // Idle replicas take turns, so one of two requests meets the busy one first.
    const answers = [];
    for (let i = 0; i < 2; i++) {
      const response = await h.classify();
      answers.push({ status: response.status, body: await response.json() });
    }
    const refused = answers.filter((answer) => answer.status === 503);
    assert.equal(refused.length, 1, JSON.stringify(answers));
    assert.equal(refused[0].body.error, "overloaded");
    assert.match(refused[0].body.message, /; no retry left in the retry budget$/);
    assert.equal(busy.seen.length, 1);
    assert.equal(good.seen.length, 1);
    assert.equal(await h.metric('dispatcher_retries_total{decision="refused"}'), 1);
    assert.equal(await h.metric('dispatcher_retries_total{decision="sent"}'), 0);
  } finally {
    await h.close();
  }
});

Deno.test("dispatch retries on another replica within the budget", async () => {
  const busy = await startFakeReplica({ status: 503 });
  const good = await startFakeReplica();
  const h = await harness([busy, good], []);
  try {
    for (let i = 0; i < 2; i++) {
      const response = await h.classify();
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-replica"), good.address);
      await response.body?.cancel();
    }
    assert.equal(busy.seen.length, 1);
    assert.equal(await h.metric('dispatcher_retries_total{decision="sent"}'), 1);
  } finally {
    await h.close();
  }
});

Deno.test("dispatch ejects a failing replica, then lets it back", async () => {
  const gate = new Gate();
  gate.open();
  const failing = await startFakeReplica({ status: 500 });
  const good = await startFakeReplica({ gate: gate.wait });
  const h = await harness([failing, good], [
    "--max-in-flight-per-replica",
    "1",
    "--eject-after",
    "2",
    "--eject-time",
    "0.3",
  ]);
  try {
    // A replica's 500 goes back to its client as it is, and counts as a failure.
    const statuses: number[] = [];
    while (failing.seen.length < 2) statuses.push(...await drain([h.classify()]));
    assert.equal(statuses.filter((status) => status === 500).length, 2);
    assert.equal(h.dispatcher.pool.isEjected(failing.address), true);
    assert.equal(await h.metric("dispatcher_ejections_total"), 1);
    assert.ok(h.lines.some((line) => line.msg === "replica ejected after failures in a row"));

    // With the good replica full, a request waits rather than use the ejected one
    // (a mere cool-down would have sent it there).
    gate.close();
    const held = h.classify();
    await until(() => good.load.active === 1, tick);
    const waited = await h.classify({ "x-deadline-ms": "100" });
    assert.equal(waited.status, 504);
    await waited.body?.cancel();
    assert.equal(failing.seen.length, 2, "no request reached the ejected replica");
    gate.open();
    assert.deepEqual(await drain([held]), [200]);

    // After its ejection (and cool-down) it gets requests again.
    await until(() => !h.dispatcher.pool.isEjected(failing.address), tick);
    await until(() => failing.seen.length > 2, async () => await drain([h.classify()]));
  } finally {
    gate.open();
    await h.close();
  }
});

Deno.test("dispatch cancels the upstream request when its client disconnects", async (t) => {
  const gate = new Gate();
  const replica = await startFakeReplica({ gate: gate.wait });
  const h = await harness([replica], ["--max-in-flight-per-replica", "1"]);
  try {
    await t.step("at the replica: the replica sees its request aborted", async () => {
      const controller = new AbortController();
      const pending = h.classify({}, controller.signal).catch((error) => error);
      await until(() => replica.seen.length === 1, tick);
      controller.abort();
      assert.equal((await pending).name, "AbortError");
      await until(() => replica.aborted === 1, tick);
      await until(() => h.dispatcher.pool.replicas()[0].outstanding === 0, tick);
      assert.equal(await h.metric('dispatcher_requests_total{outcome="client_closed"}'), 1);
    });

    await t.step("in the queue: the waiter leaves and is never sent", async () => {
      const held = h.classify();
      await until(() => replica.seen.length === 2, tick);
      const controller = new AbortController();
      const pending = h.classify({}, controller.signal).catch((error) => error);
      await until(() => h.dispatcher.queue.depth === 1, tick);
      controller.abort();
      assert.equal((await pending).name, "AbortError");
      await until(() => h.dispatcher.queue.depth === 0, tick);
      gate.open();
      assert.deepEqual(await drain([held]), [200]);
      assert.equal(replica.seen.length, 2);
      // The waiter's answer was counted when it left, before the held one was answered.
      assert.equal(await h.metric('dispatcher_requests_total{outcome="client_closed"}'), 2);
    });

    await t.step("a completed request is not counted as a disconnect", async () => {
      const response = await h.classify();
      assert.equal(response.status, 200);
      await response.json();
      // Deno aborts the request's signal once the answer is sent: that must change nothing.
      const text = await (await fetch(`${h.dispatcher.url}/metrics`)).text();
      assert.match(text, /^dispatcher_requests_total\{outcome="client_closed"\} 2$/m);
      assert.match(text, /^dispatcher_requests_total\{outcome="ok"\} 2$/m);
      assert.equal(replica.aborted, 1);
    });
  } finally {
    gate.open();
    await h.close();
  }
});

Deno.test("GET /metrics drops a replica's in-flight series when it leaves", async () => {
  const first = await startFakeReplica();
  const second = await startFakeReplica();
  const h = await harness([first, second], []);
  try {
    await drain([h.classify(), h.classify()]);
    const before = await (await fetch(`${h.dispatcher.url}/metrics`)).text();
    for (const replica of [first, second]) {
      assert.match(
        before,
        new RegExp(`^dispatcher_replica_in_flight\\{replica="${replica.address}"\\} 0$`, "m"),
      );
    }
    for (const name of ["queue_duration_seconds", "upstream_duration_seconds"]) {
      assert.match(before, new RegExp(`^dispatcher_${name}_count 2$`, "m"));
    }
    assert.match(before, /^dispatcher_queue_depth 0$/m);
    assert.match(before, /^dispatcher_ejections_total 0$/m);

    await writeTargets(h.path, [second.address]);
    await until(() => h.dispatcher.pool.size === 1, () => h.dispatcher.watcher.nextRead());
    const after = await (await fetch(`${h.dispatcher.url}/metrics`)).text();
    assert.doesNotMatch(after, new RegExp(`replica="${first.address}"`));
    assert.match(after, new RegExp(`replica="${second.address}"`));
  } finally {
    await h.close();
  }
});

Deno.test("Dispatcher.dispatch() serves other callers, waiting for a replica", async () => {
  const replica = await startFakeReplica();
  const h = await harness([], []);
  try {
    const pending = h.dispatcher.dispatch(new Uint8Array([1, 2, 3]), "image/png", {
      deadlineMs: 5000,
    });
    await until(() => h.dispatcher.queue.depth === 1, tick);
    await writeTargets(h.path, [replica.address]);
    const response = await pending;
    assert.equal(response.status, 200);
    assert.equal((await response.json()).bytes, 3);
    assert.deepEqual(replica.seen, [{ contentType: "image/png", bytes: 3 }]);
    assert.equal(await h.metric('dispatcher_requests_total{outcome="ok"}'), 1);
  } finally {
    await h.close();
    await replica.close();
  }
});

Deno.test("Dispatcher.dispatch() tells onStage where a request is", async () => {
  const gate = new Gate();
  const replica = await startFakeReplica({ gate: gate.wait });
  const h = await harness([replica], ["--max-in-flight-per-replica", "1", "--queue-size", "2"]);
  try {
    const stages = (queueShare?: number) => {
      const seen: string[] = [];
      const answer = h.dispatcher.dispatch(new Uint8Array([1]), "image/png", {
        queueShare,
        onStage: (stage, at) => seen.push(at ? `${stage} ${at}` : stage),
      });
      return { seen, answer };
    };
    const first = stages();
    await until(() => replica.seen.length === 1, tick);
    const second = stages();
    await until(() => h.dispatcher.queue.depth === 1, tick);
    // Async share of 1 place, already taken: the third waits outside.
    const third = stages(1);
    await until(() => h.dispatcher.queue.parked === 1, tick);
    assert.deepEqual(first.seen, ["queue", `replica ${replica.address}`]);
    assert.deepEqual(second.seen, ["queue"]);
    assert.deepEqual(third.seen, ["queue", "room"]);
    gate.open();
    assert.deepEqual(await drain([first.answer, second.answer, third.answer]), [200, 200, 200]);
    assert.deepEqual(third.seen, ["queue", "room", "queue", `replica ${replica.address}`]);
  } finally {
    gate.open();
    await h.close();
  }
});
