import assert from "node:assert/strict";
import {
  peakReplicas,
  type ReplicaEvent,
  replicasAt,
  replicaSeconds,
  scaleDownSeconds,
  scaleUpSeconds,
} from "./fleet_metrics.ts";

// A spike from 20 s to 40 s: the fleet grows to 2 at 23.5 s and to 3 at 26 s,
// drops to 2 at 52 s and is back to 1 at 61 s.
const SPIKE: ReplicaEvent[] = [
  { t: 0, replicas: 1 },
  { t: 23.5, replicas: 2 },
  { t: 26, replicas: 3 },
  { t: 52, replicas: 2 },
  { t: 61, replicas: 1 },
];
const WINDOW = { start: 20, end: 40 };

Deno.test("replicaSeconds() integrates the step function up to the horizon", async (t) => {
  await t.step("the worked case of its doc comment", () => {
    const events = [{ t: 0, replicas: 1 }, { t: 10, replicas: 3 }, { t: 15, replicas: 1 }];
    assert.equal(replicaSeconds(events, 20), 30);
  });
  await t.step("a spike: each count times how long it held", () => {
    // 23.5*1 + 2.5*2 + 26*3 + 9*2 + (100-61)*1
    assert.equal(replicaSeconds(SPIKE, 100), 23.5 + 5 + 78 + 18 + 39);
  });
  await t.step("the last count holds until the horizon, later events are cut", () => {
    assert.equal(replicaSeconds([{ t: 0, replicas: 2 }], 7), 14);
    assert.equal(replicaSeconds(SPIKE, 25), 23.5 + 1.5 * 2);
  });
  await t.step("no events cost nothing", () => {
    assert.equal(replicaSeconds([], 10), 0);
  });
});

Deno.test("replicasAt() and peakReplicas() read the step function", () => {
  assert.equal(replicasAt(SPIKE, 23.4), 1);
  assert.equal(replicasAt(SPIKE, 23.5), 2);
  assert.equal(replicasAt(SPIKE, 1000), 1);
  assert.equal(peakReplicas(SPIKE), 3);
  assert.equal(peakReplicas([]), 0);
});

Deno.test("scaleUpSeconds() measures from the load rising to the first growth", () => {
  assert.equal(scaleUpSeconds(SPIKE, WINDOW.start), 3.5);
  // A fleet already grown before the rise must grow again to count.
  assert.equal(scaleUpSeconds(SPIKE, 24), 2);
  assert.equal(scaleUpSeconds([{ t: 0, replicas: 1 }], 20), null);
});

Deno.test("scaleDownSeconds() measures from the load falling to the old count", async (t) => {
  await t.step("back to 1 replica 21 s after the spike ended", () => {
    assert.equal(scaleDownSeconds(SPIKE, WINDOW), 21);
  });
  await t.step("already back when the load fell", () => {
    const early = [{ t: 0, replicas: 1 }, { t: 22, replicas: 2 }, { t: 35, replicas: 1 }];
    assert.equal(scaleDownSeconds(early, WINDOW), 0);
  });
  await t.step("null when it never grew or never came back", () => {
    assert.equal(scaleDownSeconds([{ t: 0, replicas: 1 }], WINDOW), null);
    assert.equal(scaleDownSeconds(SPIKE.slice(0, 4), WINDOW), null);
  });
  await t.step("a fleet that grew only after the load fell is not back yet", () => {
    const late = [{ t: 0, replicas: 1 }, { t: 40.1, replicas: 2 }];
    assert.equal(scaleDownSeconds(late, WINDOW), null);
    assert.equal(scaleDownSeconds([...late, { t: 55, replicas: 1 }], WINDOW), 15);
  });
});
