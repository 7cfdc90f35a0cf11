import assert from "node:assert/strict";
import { Tally } from "./tally.ts";

Deno.test("Tally counts answers and failures by kind", () => {
  const tally = new Tally();
  assert.equal(tally.busy, false);
  tally.succeed(12.5);
  tally.succeed(30);
  tally.fail("503");
  tally.fail("timeout");
  tally.fail("503");
  assert.equal(tally.ok, 2);
  assert.equal(tally.latency.count, 2);
  assert.equal(tally.latency.summary()?.max, 30);
  assert.deepEqual(tally.errors, { "503": 2, timeout: 1 });
  assert.equal(tally.failed, 3);
  assert.equal(tally.busy, true);
});

Deno.test("Tally is busy after an arrival alone", () => {
  const tally = new Tally();
  tally.offered++;
  assert.equal(tally.busy, true);
  assert.equal(tally.failed, 0);
});
