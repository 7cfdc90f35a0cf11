import assert from "node:assert/strict";
import { buildProfile } from "../loadtest/profile_build.ts";
import { parseProfile, peakWindow } from "./profiles.ts";

Deno.test("peakWindow() finds where each kind of profile is highest", async (t) => {
  await t.step("a spike's peak is the spike", () => {
    const spike = buildProfile("spike", { rate: 2, peak: 14, spikeAt: 20, spikeFor: 15 });
    assert.deepEqual(peakWindow(spike), { start: 20, end: 35, rate: 14 });
  });
  await t.step("steps: the first run of steps at the highest rate", () => {
    const steps = buildProfile("step", { steps: "2:10,9:5,9:5,3:10,9:10" });
    assert.deepEqual(peakWindow(steps), { start: 10, end: 20, rate: 9 });
  });
  await t.step("a rising ramp peaks at its end", () => {
    const ramp = buildProfile("ramp", { from: 1, to: 11, duration: 100 });
    const peak = peakWindow(ramp);
    // Within 1 % of the top: the last second of the 100.
    assert.ok(peak.start >= 98.9 && peak.start <= 99.1, `start ${peak.start}`);
    assert.equal(peak.end, 100);
  });
});

Deno.test("parseProfile() reads the load tester's --profile text", () => {
  const spike = parseProfile("spike:rate=2,peak=14,spike-at=5,spike-for=10,duration=30");
  assert.deepEqual(spike, { kind: "spike", rate: 2, peak: 14, at: 5, for: 10, seconds: 30 });
  assert.throws(() => parseProfile("spike:peak=fast"), {
    name: "RangeError",
    message: 'Cannot read --profile "spike:peak=fast": peak must be a number',
  });
  assert.throws(() => parseProfile("sawtooth"), SyntaxError);
});
