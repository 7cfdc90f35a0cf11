import assert from "node:assert/strict";
import { DispatchQueue, type Slot } from "./dispatch_queue.ts";
import { type Replica, ReplicaPool } from "./replica_pool.ts";

function setup(maxWaiting: number, addresses = ["a:1"]) {
  const pool = new ReplicaPool({ maxInFlight: 1 });
  pool.update(addresses);
  return { pool, queue: new DispatchQueue(pool, maxWaiting) };
}

const later = () => performance.now() + 60_000;

function replicaOf(slot: Slot): Replica {
  assert.equal(slot.kind, "replica");
  return (slot as { replica: Replica }).replica;
}

Deno.test("DispatchQueue.take() serves waiters in arrival order as slots free", async () => {
  const { queue } = setup(5);
  const first = replicaOf(await queue.take({ deadline: later() }));
  const order: string[] = [];
  const waiting = ["x", "y", "z"].map((name) =>
    queue.take({ deadline: later() }).then((slot) => {
      order.push(name);
      return replicaOf(slot);
    })
  );
  assert.equal(queue.depth, 3);
  queue.release(first);
  const second = await waiting[0];
  queue.release(second);
  const third = await waiting[1];
  queue.release(third);
  queue.release(await waiting[2]);
  assert.deepEqual(order, ["x", "y", "z"]);
  assert.equal(queue.depth, 0);
});

Deno.test("DispatchQueue.take() refuses at once when the queue is full", async () => {
  const { queue } = setup(1);
  const held = replicaOf(await queue.take({ deadline: later() }));
  const waiting = queue.take({ deadline: later() });
  assert.deepEqual(await queue.take({ deadline: later() }), { kind: "full" });
  const retry = queue.take({ deadline: later(), admitted: true, exclude: new Set(["b:1"]) });
  assert.equal(queue.depth, 2, "an admitted request (a retry) still gets in");
  queue.release(held);
  queue.release(replicaOf(await waiting));
  queue.release(replicaOf(await retry));
});

Deno.test("DispatchQueue.take() lets an expired waiter go and leaves nothing behind", async () => {
  const { queue, pool } = setup(5);
  const held = replicaOf(await queue.take({ deadline: later() }));
  const slot = await queue.take({ deadline: performance.now() + 30 });
  assert.equal(slot.kind, "expired");
  assert.equal((slot as { noReplica: boolean }).noReplica, false);
  assert.equal(queue.depth, 0);
  queue.release(held);
  assert.equal(pool.replicas()[0].outstanding, 0, "the expired waiter took no slot");

  const past = await queue.take({ deadline: performance.now() - 1 });
  assert.equal(past.kind, "expired", "a passed deadline is never sent, even with room free");
  assert.equal(pool.replicas()[0].outstanding, 0);
});

Deno.test("DispatchQueue.take() leaves the queue when its signal aborts", async () => {
  const { queue } = setup(5);
  const held = replicaOf(await queue.take({ deadline: later() }));
  const controller = new AbortController();
  const waiting = queue.take({ deadline: later(), signal: controller.signal });
  assert.equal(queue.depth, 1);
  controller.abort();
  assert.equal((await waiting).kind, "aborted");
  assert.equal(queue.depth, 0);
  assert.equal(
    (await queue.take({ deadline: later(), signal: controller.signal })).kind,
    "aborted",
  );
  queue.release(held);
});

Deno.test("DispatchQueue.wake() gives new replicas to waiters, skipping excluded", async () => {
  const { queue, pool } = setup(5, []);
  const waiting = queue.take({ deadline: later() });
  pool.update(["a:1"]);
  queue.wake();
  const a = replicaOf(await waiting);
  assert.equal(a.address, "a:1");

  // A retry that tried a:1 may wait only while another replica exists.
  assert.deepEqual(await queue.take({ deadline: later(), exclude: new Set(["a:1"]) }), {
    kind: "none",
  });
  pool.update(["a:1", "b:1"]);
  const b = replicaOf(await queue.take({ deadline: later() }));
  const plain = queue.take({ deadline: later() });
  const retry = queue.take({ deadline: later(), exclude: new Set(["a:1"]), admitted: true });
  queue.release(b);
  assert.equal(replicaOf(await plain).address, "b:1", "first come, first served");
  queue.release(a);
  queue.release(pool.replicas()[1] as Replica);
  assert.equal(replicaOf(await retry).address, "b:1", "the retry waited for a replica it may use");
});
