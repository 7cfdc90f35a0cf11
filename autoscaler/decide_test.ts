import assert from "node:assert/strict";
import { decide, Stabilizer } from "./decide.ts";
import type { Recommendation } from "./policy.ts";

const OPTIONS = { min: 1, max: 4, scaleDownWindowMs: 30_000 };

function wants(desired: number): Recommendation {
  return { valid: true, desired, reason: "test", inputs: {} };
}

const NO_DATA: Recommendation = {
  valid: false,
  cause: "unreachable",
  reason: "no request rate (unreachable: connection refused)",
  inputs: {},
};

function context(now: number, stabilizer = new Stabilizer(OPTIONS.scaleDownWindowMs)) {
  return { now, options: OPTIONS, stabilizer };
}

Deno.test("decide() scales up at once", () => {
  const decision = decide(wants(3), 1, context(0));
  assert.equal(decision.desired, 3);
  assert.equal(decision.direction, "up");
});

Deno.test("decide() keeps the count within min and max", () => {
  assert.equal(decide(wants(9), 2, context(0)).desired, 4);
  assert.match(decide(wants(9), 2, context(0)).reason, /bounded to 4 by \[1, 4\]/);
  assert.equal(decide(wants(0), 1, context(0)).desired, 1);
  assert.equal(decide(wants(0), 1, context(0)).direction, "none");
});

Deno.test("decide() holds the count when there is no data, never scaling down", () => {
  const stabilizer = new Stabilizer(OPTIONS.scaleDownWindowMs);
  const decision = decide(NO_DATA, 3, context(0, stabilizer));
  assert.deepEqual(decision, {
    current: 3,
    desired: 3,
    direction: "hold",
    reason: "hold: no request rate (unreachable: connection refused)",
  });
});

Deno.test("decide() still brings a fleet outside its bounds back in without data", () => {
  assert.equal(decide(NO_DATA, 0, context(0)).desired, 1);
  assert.equal(decide(NO_DATA, 6, context(0)).desired, 4);
});

Deno.test("decide() delays scale-down until higher recommendations leave the window", () => {
  const stabilizer = new Stabilizer(OPTIONS.scaleDownWindowMs);
  // The load peaked at 3 replicas, then fell away.
  assert.equal(decide(wants(3), 3, context(0, stabilizer)).desired, 3);
  const early = decide(wants(1), 3, context(10_000, stabilizer));
  assert.equal(early.desired, 3);
  assert.match(early.reason, /held at 3 by the 30 s scale-down window/);
  // 31 s after the peak only the 10 s and 31 s recommendations (1 and 1) remain.
  const late = decide(wants(1), 3, context(31_000, stabilizer));
  assert.equal(late.desired, 1);
  assert.equal(late.direction, "down");
});

Deno.test("decide() with a zero window scales down at once", () => {
  const stabilizer = new Stabilizer(0);
  assert.equal(decide(wants(3), 3, context(0, stabilizer)).desired, 3);
  assert.equal(decide(wants(1), 3, context(1, stabilizer)).desired, 1);
});

Deno.test("decide() keeps the count inside the tolerance and limits the step", () => {
  const valid = (desired: number): Recommendation => ({
    valid: true,
    desired,
    reason: "r",
    inputs: {},
  });
  const options = { min: 1, max: 40, scaleDownWindowMs: 0, tolerance: 0.1, maxStep: 3 };
  const context = () => ({ now: 0, options, stabilizer: new Stabilizer(0) });
  assert.equal(decide(valid(22), 20, context()).desired, 20); // +10 %: inside
  assert.equal(decide(valid(18), 20, context()).desired, 20); // -10 %: inside
  assert.equal(decide(valid(23), 20, context()).desired, 23); // +15 %: moves
  assert.equal(decide(valid(2), 1, context()).desired, 2); // +100 %
  const stepped = decide(valid(30), 20, context());
  assert.equal(stepped.desired, 23);
  assert.match(stepped.reason, /maximum step of 3/);
  assert.equal(decide(valid(1), 20, context()).desired, 17);
});
