import assert from "node:assert/strict";
import { Fallback } from "./fallback.ts";
import type { Recommendation } from "./policy.ts";

const missing: Recommendation = {
  valid: false,
  cause: "unreachable",
  reason: "Prometheus is down",
  inputs: {},
};
const fine: Recommendation = { valid: true, desired: 2, reason: "ok", inputs: {} };

Deno.test("Fallback applies after N invalid readings in a row and never shrinks", () => {
  const fallback = new Fallback({ replicas: 4, afterFailures: 3 });
  assert.equal(fallback.apply(missing, 1).valid, false);
  assert.equal(fallback.apply(missing, 1).valid, false);
  const third = fallback.apply(missing, 1);
  assert.ok(third.valid && third.desired === 4, JSON.stringify(third));
  const big = fallback.apply(missing, 6);
  assert.ok(big.valid && big.desired === 6, "a bigger fleet is kept");
});

Deno.test("Fallback starts counting again after a good reading", () => {
  const fallback = new Fallback({ replicas: 4, afterFailures: 2 });
  fallback.apply(missing, 1);
  assert.deepEqual(fallback.apply(fine, 1), fine);
  assert.equal(fallback.failures, 0);
  assert.equal(fallback.apply(missing, 1).valid, false);
});
