import assert from "node:assert/strict";
import { builtInTrace, csvTrace } from "./traces.ts";

Deno.test("built-in traces have the shapes their documentation gives", () => {
  const step = builtInTrace("step", 4);
  assert.deepEqual([step.rate(0), step.rate(300), step.rate(1499), step.rate(1500)], [
    4,
    16,
    16,
    4,
  ]);
  const spike = builtInTrace("spike", 4);
  assert.deepEqual([spike.rate(449), spike.rate(450), spike.rate(569), spike.rate(570)], [
    4,
    40,
    40,
    4,
  ]);
  const ramp = builtInTrace("ramp", 4);
  assert.deepEqual([ramp.rate(0), ramp.rate(1800), ramp.rate(3600)], [0, 24, 0]);
  const day = builtInTrace("diurnal", 4);
  assert.ok(Math.abs(day.rate(0) - 1) < 1e-9 && Math.abs(day.rate(1800) - 20) < 1e-9);
});

Deno.test("csvTrace holds each rate until the next row and names bad rows", () => {
  const trace = csvTrace("t.csv", "time,rate\n0,2\n10,8\n30,0\n");
  assert.deepEqual([trace.rate(0), trace.rate(9.9), trace.rate(10), trace.rate(29)], [2, 2, 8, 8]);
  assert.equal(trace.seconds, 30);
  assert.throws(() => csvTrace("t.csv", "0,2\n0,3\n"), /row 2/);
  assert.throws(() => csvTrace("t.csv", "0,2\n5,-1\n"), /row 2/);
  assert.throws(() => csvTrace("t.csv", "0,2\n"), /at least two rows/);
});

Deno.test("csvTrace reads numbers in any notation and refuses endless traces", () => {
  const trace = csvTrace("t.csv", "0,1e1\n100,5\n200,5\n");
  assert.equal(trace.rate(0), 10);
  assert.throws(() => csvTrace("t.csv", "0,2\n1e9,2\n"), /more than 604800 s/);
});
