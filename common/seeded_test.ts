import assert from "node:assert/strict";
import { seededUniform } from "./seeded.ts";

Deno.test("seededUniform repeats for a seed, differs across seeds, stays in [0, 1)", () => {
  const take = (seed: number) => Array.from({ length: 1000 }, seededUniform(seed));
  assert.deepEqual(take(7), take(7));
  assert.notDeepEqual(take(7), take(8));
  const values = take(1);
  assert.ok(values.every((v) => v >= 0 && v < 1));
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
});
