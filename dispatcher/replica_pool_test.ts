import assert from "node:assert/strict";
import { type Replica, ReplicaPool } from "./replica_pool.ts";

Deno.test("ReplicaPool.acquire() takes idle replicas in turn", () => {
  const pool = new ReplicaPool();
  pool.update(["b:1", "a:1", "c:1"]);
  const order = [];
  for (let i = 0; i < 6; i++) {
    const replica = pool.acquire()!;
    order.push(replica.address);
    pool.release(replica);
  }
  assert.deepEqual(order, ["a:1", "b:1", "c:1", "a:1", "b:1", "c:1"]);
});

Deno.test("ReplicaPool.acquire() picks the replica with the fewest outstanding requests", () => {
  const pool = new ReplicaPool();
  pool.update(["a:1", "b:1", "c:1"]);
  const a = pool.acquire()!;
  const b = pool.acquire()!;
  const c = pool.acquire()!;
  assert.deepEqual([a.address, b.address, c.address], ["a:1", "b:1", "c:1"]);
  pool.release(b);
  assert.equal(pool.acquire()!.address, "b:1");
  pool.release(c);
  pool.release(c);
  assert.equal(c.outstanding, 0, "release never goes below zero");
  assert.equal(pool.acquire()!.address, "c:1");
});

Deno.test("ReplicaPool.acquire() skips excluded replicas and gives up when none is left", () => {
  const pool = new ReplicaPool();
  assert.equal(pool.acquire(), undefined);
  pool.update(["a:1", "b:1"]);
  assert.equal(pool.acquire(new Set(["a:1"]))!.address, "b:1");
  assert.equal(pool.acquire(new Set(["a:1", "b:1"])), undefined);
});

Deno.test("ReplicaPool.penalize() avoids a failed replica for the cool-down only", () => {
  let now = 0;
  const pool = new ReplicaPool({ cooldownMs: 1000, now: () => now });
  pool.update(["a:1", "b:1"]);
  const a = pool.acquire()!;
  pool.release(a);
  pool.penalize(a);
  // b is busy, a is idle but cooling: b still wins while a cools down.
  pool.acquire();
  assert.equal(pool.acquire()!.address, "b:1");
  // With b excluded, the cooling replica is better than nothing.
  assert.equal(pool.acquire(new Set(["b:1"]))!.address, "a:1");
  now = 1000;
  assert.equal(pool.acquire()!.address, "a:1");
});

Deno.test("ReplicaPool.update() reports changes and keeps counts of staying replicas", () => {
  const pool = new ReplicaPool();
  assert.deepEqual(pool.update(["a:1", "b:1"]), { added: ["a:1", "b:1"], removed: [] });
  const a = pool.acquire()!;
  assert.deepEqual(pool.update(["a:1", "c:1", "c:1"]), { added: ["c:1"], removed: ["b:1"] });
  assert.deepEqual(pool.addresses(), ["a:1", "c:1"]);
  assert.equal(a.outstanding, 1);
  assert.equal(pool.acquire()!.address, "c:1", "the busy replica stays busy after an update");
  assert.deepEqual(pool.update([]), { added: [], removed: ["a:1", "c:1"] });
  assert.equal(pool.size, 0);
  pool.release(a);
  assert.equal(a.outstanding, 0, "a request on a removed replica still releases it");
});

Deno.test("ReplicaPool() refuses a negative cool-down", () => {
  assert.throws(() => new ReplicaPool({ cooldownMs: -1 }), {
    name: "RangeError",
    message: "Cannot create pool: expected cooldownMs >= 0, got -1",
  });
});

Deno.test("ReplicaPool.acquire() keeps each replica under maxInFlight", () => {
  const pool = new ReplicaPool({ maxInFlight: 2 });
  pool.update(["a:1", "b:1"]);
  const taken = Array.from({ length: 4 }, () => pool.acquire()!);
  assert.deepEqual(taken.map((replica) => replica.address).sort(), ["a:1", "a:1", "b:1", "b:1"]);
  assert.equal(pool.acquire(), undefined, "both replicas are at their cap");
  assert.equal(pool.hasCandidate(), true, "but both could take a request later");
  pool.release(taken[0]);
  assert.equal(pool.acquire()!.address, taken[0].address);
});

Deno.test("ReplicaPool.recordFailure() ejects after failures in a row, longer each time", () => {
  let now = 0;
  const pool = new ReplicaPool({
    ejectAfter: 3,
    ejectBaseMs: 1000,
    ejectMaxMs: 3000,
    now: () => now,
  });
  pool.update(["a:1", "b:1"]);
  const [a] = pool.replicas() as Replica[];
  const lengths: (number | undefined)[] = [];
  for (let i = 0; i < 3; i++) lengths.push(pool.recordFailure(a));
  assert.deepEqual(lengths, [undefined, undefined, 1000]);
  assert.equal(pool.isEjected("a:1"), true);
  assert.equal(pool.hasCandidate(new Set(["b:1"])), false, "an ejected replica is no candidate");
  for (let i = 0; i < 4; i++) {
    const replica = pool.acquire()!;
    assert.equal(replica.address, "b:1");
    pool.release(replica);
  }

  now = 1000;
  assert.equal(pool.isEjected("a:1"), false, "back after its ejection");
  for (let i = 0; i < 2; i++) pool.recordFailure(a);
  assert.equal(pool.recordFailure(a), 2000, "the second ejection doubles");
  now = 3000;
  for (let i = 0; i < 2; i++) pool.recordFailure(a);
  assert.equal(pool.recordFailure(a), 3000, "capped at ejectMaxMs");

  // A success right after an ejection is what a flapping replica gives: the
  // failures in a row start again, the ejection length does not.
  now = 6000;
  pool.recordSuccess(a);
  assert.equal(pool.recordFailure(a), undefined, "failures in a row counted afresh");
  pool.recordFailure(a);
  assert.equal(pool.recordFailure(a), 3000, "a flapping replica keeps its long ejection");

  // Serving well for ejectMaxMs after the last ejection ended forgives it.
  now = 9000 + 3000;
  pool.recordSuccess(a);
  for (let i = 0; i < 2; i++) pool.recordFailure(a);
  assert.equal(
    pool.recordFailure(a),
    1000,
    "a success after a quiet spell starts the growth again",
  );
});

Deno.test("ReplicaPool.recordFailure() never ejects the last replica serving", () => {
  const now = 0;
  const pool = new ReplicaPool({ ejectAfter: 1, now: () => now });
  pool.update(["a:1", "b:1"]);
  const [a, b] = pool.replicas() as Replica[];
  assert.ok(pool.recordFailure(a) !== undefined);
  assert.equal(pool.recordFailure(b), undefined, "b is the last one not ejected");
  assert.equal(pool.acquire()!.address, "b:1");

  // With b gone, only the ejected a is left: serving from it beats serving from none.
  pool.update(["a:1"]);
  assert.equal(pool.isEjected("a:1"), false);
  assert.equal(pool.acquire()!.address, "a:1");
});
