import assert from "node:assert/strict";
import { LatencyState } from "./latency_algorithm.ts";

const s = (seconds: number) => seconds * 1000;
const options = { sloSeconds: 0.2 }; // comfortably below: under 140 ms

Deno.test("latency grows in proportion to the overshoot, at least by one", () => {
  const rule = new LatencyState(options);
  assert.equal(rule.next(s(0), 2, 0.5).desired, 5); // 2 x 2.5
  assert.equal(rule.next(s(1), 4, 0.21).desired, 5); // 4 x 1.05 -> ceil 4.2 = 5
  assert.equal(rule.next(s(2), 3, 0.201).desired, 4); // barely over: still one more
});

Deno.test("latency holds between comfortably-low and the SLO", () => {
  const rule = new LatencyState(options);
  assert.equal(rule.next(s(0), 3, 0.15).desired, 3);
  assert.equal(rule.next(s(100), 3, 0.19).desired, 3);
});

Deno.test("latency shrinks one replica per stabilization window of low readings", () => {
  const rule = new LatencyState(options);
  assert.equal(rule.next(s(0), 4, 0.05).desired, 4);
  assert.equal(rule.next(s(59), 4, 0.05).desired, 4);
  assert.equal(rule.next(s(60), 4, 0.05).desired, 3);
  assert.equal(rule.next(s(61), 3, 0.05).desired, 3); // a fresh window starts
  assert.equal(rule.next(s(120), 3, 0.05).desired, 2);
});

Deno.test("latency restarts the window after any reading that is not low", () => {
  const rule = new LatencyState(options);
  rule.next(s(0), 4, 0.05);
  rule.next(s(50), 4, 0.16); // not comfortably low: the window restarts
  assert.equal(rule.next(s(70), 4, 0.05).desired, 4);
  assert.equal(rule.next(s(130), 4, 0.05).desired, 3);
});
