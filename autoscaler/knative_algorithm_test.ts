import assert from "node:assert/strict";
import { KnativeState } from "./knative_algorithm.ts";

const s = (seconds: number) => seconds * 1000;
// Target 10 in flight at 0.7 utilization: 7 per replica.
const options = { targetConcurrency: 10 };

Deno.test("Knative follows the stable window when calm", () => {
  const kpa = new KnativeState(options);
  const step = kpa.next(s(0), 2, 20, 22); // ceil(20 / 7) = 3; panic 22/7/2 = 1.6 < 2
  assert.deepEqual([step.desired, step.panicking, step.stableWants], [3, false, 3]);
});

Deno.test("Knative panics at 2x capacity, follows the panic window, never shrinks in panic", () => {
  const kpa = new KnativeState(options);
  // 2 ready replicas hold 14 at target; 28 over the panic window is exactly 2x.
  const enter = kpa.next(s(0), 2, 10, 28);
  assert.deepEqual([enter.desired, enter.panicking], [4, true]); // ceil(28 / 7)
  const peak = kpa.next(s(2), 4, 12, 63);
  assert.equal(peak.desired, 9); // ceil(63 / 7)
  // The burst ends: panic demand falls, but a panicking fleet keeps its peak.
  const calmer = kpa.next(s(10), 9, 20, 7);
  assert.deepEqual([calmer.desired, calmer.panicking], [9, true]);
});

Deno.test("Knative leaves panic one stable window after the last panic reading", () => {
  const kpa = new KnativeState(options);
  kpa.next(s(0), 2, 10, 28);
  kpa.next(s(30), 4, 10, 56); // 56 / 7 / 4 = 2: still over, panic extended to t=30
  assert.equal(kpa.next(s(89), 8, 14, 7).panicking, true); // 59 s since the last panic
  const out = kpa.next(s(90), 8, 14, 7); // 60 s: panic ends; stable wants 2
  assert.deepEqual([out.panicking, out.desired], [false, 4]); // at most halved: 8 -> 4
  assert.equal(kpa.next(s(92), 4, 14, 7).desired, 2);
});

Deno.test("Knative scales an all-unready fleet under demand", () => {
  const kpa = new KnativeState(options);
  const step = kpa.next(s(0), 0, 30, 30);
  assert.equal(step.panicking, true);
  assert.equal(step.desired, 5); // ceil(30 / 7)
});

Deno.test("Knative never sheds more than half per decision", () => {
  const kpa = new KnativeState(options);
  assert.equal(kpa.next(s(0), 10, 0, 0).desired, 5);
  assert.equal(kpa.next(s(1), 5, 0, 0).desired, 2);
  assert.equal(kpa.next(s(2), 1, 0, 0).desired, 0);
});
