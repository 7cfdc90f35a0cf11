import assert from "node:assert/strict";
import { parseLoadShape } from "../loadtest/config_profile.ts";
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

Deno.test("parseProfile() reads --profile text as the load tester does", async (t) => {
  const parse = (text: string) => {
    const problems: string[] = [];
    return { spec: parseProfile(text, problems), problems };
  };

  await t.step("a valid text gives the same profile as deno task load", () => {
    for (
      const text of ["spike", "spike:rate=2,peak=14,spike-at=5,duration=30", "step:1:3,6:5"]
    ) {
      const loadtest = parseLoadShape({ profile: text }, []);
      assert.deepEqual(parse(text), { spec: loadtest?.profile, problems: [] }, text);
    }
    assert.deepEqual(parse("ramp:from=1,to=4,duration=10").spec, {
      kind: "ramp",
      from: 1,
      to: 4,
      seconds: 10,
    });
  });

  await t.step("a bad text is refused in the load tester's words", () => {
    for (const text of ["spike:peak=fast", "sawtooth", "ramp:peak=3", "spike:rate=-1"]) {
      const loadtest: string[] = [];
      parseLoadShape({ profile: text }, loadtest);
      assert.ok(loadtest.length > 0, text);
      assert.deepEqual(parse(text), {
        spec: undefined,
        problems: loadtest.map((problem) => `--profile: ${problem}`),
      });
    }
    assert.deepEqual(parse("spike:peak=fast").problems, [
      "--profile: --peak must be a number of requests per second from 0, at most 100000, " +
      'got "fast"',
    ]);
  });

  await t.step("what only an experiment refuses", () => {
    assert.deepEqual(parse("trace").problems, [
      "--profile: Cannot use a trace in an experiment: choose another profile",
    ]);
    assert.deepEqual(parse("ramp:from=0,to=0,duration=5").problems, [
      "--profile: the ramp profile schedules no arrival at all: raise its rates",
    ]);
  });
});
