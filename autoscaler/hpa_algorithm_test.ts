import assert from "node:assert/strict";
import { DEFAULT_BEHAVIOR, type HpaBehavior, HpaState, proportional } from "./hpa_algorithm.ts";

const s = (seconds: number) => seconds * 1000;

Deno.test("proportional: ceil(ready x metric / target), unchanged inside the tolerance", () => {
  assert.equal(proportional(3, 80, 50, 0.1), 5); // 3 x 1.6 = 4.8
  assert.equal(proportional(3, 53, 50, 0.1), 3); // ratio 1.06: inside 0.1
  assert.equal(proportional(3, 54, 50, 0.1), 3); // ratio 1.08: inside
  assert.equal(proportional(3, 44, 50, 0.1), 3); // ratio 0.88 -> ceil(2.64)
  assert.equal(proportional(4, 10, 50, 0.1), 1); // ratio 0.2 -> ceil(0.8)
  assert.equal(proportional(3, 53, 50, 0), 4); // no tolerance: ceil(3.18)
});

Deno.test("HPA scale-down waits out the 300 s stabilization window", () => {
  const hpa = new HpaState();
  assert.equal(hpa.next(s(0), 5, 5).desired, 5);
  const held = hpa.next(s(60), 5, 2);
  assert.deepEqual([held.desired, held.limitedBy], [5, "stabilization window"]);
  assert.equal(hpa.next(s(200), 5, 3).desired, 5);
  // At 301 s the 5 of t=0 has aged out; the highest left is the 3 of t=200.
  assert.equal(hpa.next(s(301), 5, 2).desired, 3);
  // At 501 s only recommendations of 2 remain.
  assert.equal(hpa.next(s(501), 3, 2).desired, 2);
});

Deno.test("HPA scale-up is limited to max(4 pods, 100 %) per 15 s by default", () => {
  const hpa = new HpaState();
  const first = hpa.next(s(0), 2, 20);
  assert.deepEqual([first.desired, first.limitedBy], [6, "scale-up policy"]); // 2 + 4 > 2 x 2
  // Within the same 15 s period the period started at 2: the limit is still 6.
  assert.equal(hpa.next(s(5), 6, 20).desired, 6);
  // A new period starts from 6: max(6 + 4, 6 x 2) = 12.
  assert.equal(hpa.next(s(16), 6, 20).desired, 12);
  assert.equal(hpa.next(s(32), 12, 20).desired, 20);
});

Deno.test("HPA selectPolicy Min takes the smaller change, Disabled none", () => {
  const min: HpaBehavior = {
    ...DEFAULT_BEHAVIOR,
    scaleUp: { ...DEFAULT_BEHAVIOR.scaleUp, selectPolicy: "Min" },
  };
  assert.equal(new HpaState(min).next(s(0), 2, 20).desired, 4); // min(2 + 4, 2 x 2)
  const frozen: HpaBehavior = {
    scaleUp: DEFAULT_BEHAVIOR.scaleUp,
    scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: "Disabled", policies: [] },
  };
  assert.equal(new HpaState(frozen).next(s(0), 5, 1).desired, 5);
});

Deno.test("HPA scale-down policy of 1 pod per 60 s steps down one at a time", () => {
  const slow: HpaBehavior = {
    scaleUp: DEFAULT_BEHAVIOR.scaleUp,
    scaleDown: {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
    },
  };
  const hpa = new HpaState(slow);
  assert.equal(hpa.next(s(0), 5, 1).desired, 4);
  assert.equal(hpa.next(s(30), 4, 1).desired, 4); // the period that started at 5 allows 4
  assert.equal(hpa.next(s(61), 4, 1).desired, 3);
});

Deno.test("HPA scale-up stabilization takes the lowest recent recommendation", () => {
  const damped: HpaBehavior = {
    scaleUp: { ...DEFAULT_BEHAVIOR.scaleUp, stabilizationWindowSeconds: 60 },
    scaleDown: DEFAULT_BEHAVIOR.scaleDown,
  };
  const hpa = new HpaState(damped);
  assert.equal(hpa.next(s(0), 2, 2).desired, 2);
  assert.equal(hpa.next(s(10), 2, 8).desired, 2); // 2 is still in the window
  assert.equal(hpa.next(s(61), 2, 8).desired, 6); // lowest left is 8, rate-limited to 2 + 4
});
