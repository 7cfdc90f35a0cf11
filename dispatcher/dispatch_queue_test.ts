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

Deno.test("DispatchQueue.take() honours a request's own maxDepth", async () => {
  const { queue } = setup(4);
  const held = replicaOf(await queue.take({ deadline: later() }));
  const waiting = queue.take({ deadline: later(), maxDepth: 1 });
  assert.deepEqual(await queue.take({ deadline: later(), maxDepth: 1 }), { kind: "full" });
  // The queue's own size still leaves room for requests without a share.
  const sync = queue.take({ deadline: later() });
  assert.equal(queue.depth, 2);
  queue.release(held);
  queue.release(replicaOf(await waiting));
  queue.release(replicaOf(await sync));
});

Deno.test("DispatchQueue.waitForRoom() wakes parked requests only as places free", async (t) => {
  await t.step("first come, first served, as many as there are places", async () => {
    const { queue } = setup(4);
    const held = replicaOf(await queue.take({ deadline: later() }));
    const queued = queue.take({ deadline: later(), maxDepth: 1 });
    const woken: string[] = [];
    const parked = ["p", "q"].map((name) =>
      queue.waitForRoom({ maxDepth: 1, deadline: later() }).then((room) => {
        woken.push(`${name}:${room}`);
      })
    );
    assert.equal(queue.parked, 2);
    // The queued request gets the slot: one place frees, so one parked wakes.
    queue.release(held);
    const second = replicaOf(await queued);
    await parked[0];
    assert.deepEqual(woken, ["p:room"]);
    assert.equal(queue.parked, 1);
    queue.release(second);
    await parked[1];
    assert.deepEqual(woken, ["p:room", "q:room"]);
  });
  await t.step("a free replica slot is room even with no queue share", async () => {
    const { queue } = setup(0);
    assert.equal(await queue.waitForRoom({ maxDepth: 0, deadline: later() }), "room");
    const held = replicaOf(await queue.take({ deadline: later() }));
    const parked = queue.waitForRoom({ maxDepth: 0, deadline: later() });
    queue.release(held);
    assert.equal(await parked, "room");
  });
  await t.step("the deadline or the signal ends the wait and leaves nothing", async () => {
    const { queue } = setup(0);
    const held = replicaOf(await queue.take({ deadline: later() }));
    const expiring = queue.waitForRoom({ maxDepth: 0, deadline: performance.now() + 20 });
    const controller = new AbortController();
    const aborted = queue.waitForRoom({
      maxDepth: 0,
      deadline: later(),
      signal: controller.signal,
    });
    controller.abort();
    assert.deepEqual([await expiring, await aborted], ["expired", "aborted"]);
    assert.equal(queue.parked, 0);
    queue.release(held);
  });
});
