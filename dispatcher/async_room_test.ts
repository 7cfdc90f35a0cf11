import assert from "node:assert/strict";
import { type Dispatcher } from "./server.ts";
import {
  type FakeReplica,
  type FakeReplicaOptions,
  startFakeReplica,
  startTestDispatcher,
  until,
} from "./_test_support.ts";

interface Harness {
  dispatcher: Dispatcher;
  replicas: FakeReplica[];
  enqueue(bytes: number[]): Promise<Response>;
  classify(): Promise<Response>;
  close(): Promise<void>;
}

async function harness(
  count: number,
  replica: FakeReplicaOptions,
  args: string[] = [],
): Promise<Harness> {
  const replicas = await Promise.all(
    Array.from({ length: count }, () => startFakeReplica(replica)),
  );
  const { dispatcher, close } = await startTestDispatcher(replicas, { args });
  return {
    dispatcher,
    replicas,
    enqueue: (bytes) =>
      fetch(`${dispatcher.url}/enqueue`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ data: Uint8Array.from(bytes).toBase64() }),
      }),
    classify: () =>
      fetch(`${dispatcher.url}/classify`, {
        method: "POST",
        headers: { "content-type": "image/jpeg" },
        body: new Uint8Array([0xff, 0xd8, 0xff, 1]),
      }),
    close,
  };
}

/** Lets the server run a turn between checks: the state read is in-process. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 5));

Deno.test("a burst of async jobs waits for room instead of failing queue_full", async () => {
  const open = Promise.withResolvers<void>();
  // 2 replicas x 4 in flight, queue of 64 of which async jobs may hold 32.
  const h = await harness(2, { gate: () => open.promise });
  try {
    const answers = await Promise.all(Array.from({ length: 150 }, (_, i) => h.enqueue([i, 1])));
    const ids: string[] = [];
    for (const answer of answers) {
      assert.equal(answer.status, 202);
      ids.push((await answer.json()).id);
    }
    const { queue } = h.dispatcher;
    await until(() => queue.depth === 32 && queue.parked === 110, turn);

    // The other half of the queue stays for synchronous requests, and once
    // that is full /classify is still refused at once.
    const sync = Array.from({ length: 32 }, () => h.classify());
    await until(() => queue.depth === 64, turn);
    const refused = await h.classify();
    assert.equal(refused.status, 503);
    assert.equal((await refused.json()).error, "queue_full");
    assert.equal(h.dispatcher.results.counts().failed, 0);

    open.resolve();
    for (const answer of await Promise.all(sync)) {
      assert.equal(answer.status, 200);
      await answer.body?.cancel();
    }
    await until(() => h.dispatcher.results.counts().pending === 0, turn, 20_000);
    const counts = h.dispatcher.results.counts();
    assert.deepEqual([counts.done, counts.failed], [150, 0]);
    for (const id of ids) assert.equal(h.dispatcher.results.get(id)?.status, "done");
    for (const replica of h.replicas) assert.ok(replica.load.maxActive <= 4);
    assert.equal(queue.parked, 0);
  } finally {
    open.resolve();
    await h.close();
  }
});

Deno.test("an async job refused for lack of room fails at its deadline with 504", async () => {
  // Every attempt answers 503: the job keeps trying, then names the last refusal.
  const h = await harness(1, { status: 503 }, ["--pending-timeout", "0.6"]);
  try {
    const answer = await h.enqueue([1, 2, 3]);
    assert.equal(answer.status, 202);
    const { id } = await answer.json();
    await until(() => h.dispatcher.results.get(id)?.status !== "pending", turn, 10_000);
    const view = h.dispatcher.results.get(id);
    assert.equal(view?.status, "failed");
    assert.equal(view.status === "failed" && view.error.status, 504);
    assert.equal(view.status === "failed" && view.error.code, "pending_timeout");
    assert.match(view.status === "failed" ? view.error.message : "", /503 overloaded/);
    // Tried again after a backoff, not only once; and not polled in a tight loop.
    const tries = h.replicas[0].seen.length;
    assert.ok(tries >= 2 && tries <= 10, `${tries} attempts in 0.6 s`);
  } finally {
    await h.close();
  }
});

Deno.test("time an async job waits outside the queue counts as time in queue", async () => {
  const open = Promise.withResolvers<void>();
  // One place at the replica, a queue of 2 of which async jobs may hold 1:
  // the first job is at the replica, the second queued, the third parked.
  const h = await harness(1, { gate: () => open.promise }, [
    "--max-in-flight-per-replica",
    "1",
    "--queue-size",
    "2",
  ]);
  try {
    for (const i of [1, 2, 3]) assert.equal((await h.enqueue([i])).status, 202);
    const { queue } = h.dispatcher;
    await until(() => queue.depth === 1 && queue.parked === 1, turn);
    // The measured quantity itself, not a wait for readiness: both waiting
    // jobs spend at least this long before the replica takes anything.
    const heldMs = 300;
    await new Promise((resolve) => setTimeout(resolve, heldMs));
    open.resolve();
    await until(() => h.dispatcher.results.counts().done === 3, turn, 10_000);

    const metric = await h.dispatcher.metrics.queueDuration.get();
    const sum = metric.values.find((v) => v.metricName?.endsWith("_sum"))?.value ?? 0;
    // Parked time left out, the third job would add only its few ms in the queue.
    assert.ok(sum >= (2 * heldMs) / 1000, `queue time sum ${sum} s, expected >= 0.6 s`);
  } finally {
    open.resolve();
    await h.close();
  }
});

Deno.test("async jobs that time out say where they were, in async terms", async (t) => {
  // One async job per case, with synchronous requests holding the places
  // ahead of it, so no timeout frees a place another job could move into.
  const cases: [string, number, RegExp][] = [
    ["at a replica", 0, /it was at replica 127\.0\.0\.1:\d+, which had not answered yet/],
    ["in the queue", 1, /it was in the queue, waiting for a replica with a free slot/],
    ["waiting for room", 2, /it was waiting for room: the queue places async jobs may take/],
  ];
  for (const [name, held, where] of cases) {
    await t.step(name, async () => {
      const open = Promise.withResolvers<void>();
      // A queue of 2 of which async jobs may hold 1.
      const h = await harness(1, { gate: () => open.promise }, [
        "--max-in-flight-per-replica",
        "1",
        "--queue-size",
        "2",
        "--pending-timeout",
        "0.5",
      ]);
      const sync: Promise<Response>[] = [];
      try {
        const { queue, results } = h.dispatcher;
        for (let i = 0; i < held; i++) sync.push(h.classify());
        await until(() => h.replicas[0].seen.length + queue.depth === held, turn);
        const answer = await h.enqueue([1, 2, 3]);
        assert.equal(answer.status, 202);
        const { id } = await answer.json();
        await until(() => results.get(id)?.status !== "pending", turn, 10_000);
        const view = results.get(id);
        assert.equal(view?.status, "failed");
        const { error } = view as { error: { status: number; code: string; message: string } };
        assert.equal(error.status, 504);
        assert.equal(error.code, "pending_timeout");
        assert.match(error.message, where);
        assert.match(error.message, /--pending-timeout \(500 ms\)/);
        assert.match(error.message, /enqueue fewer jobs at once, add replicas/);
        assert.doesNotMatch(error.message, /x-deadline-ms|did not finish/);
      } finally {
        open.resolve();
        for (const response of await Promise.all(sync)) await response.body?.cancel();
        await h.close();
      }
    });
  }
});
