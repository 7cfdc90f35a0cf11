import assert from "node:assert/strict";
import { PROFILE_NAMES, profileArrivalCount } from "./profile.ts";
import { buildProfile, flagOf, parseProfileFlag, PROFILE_DEFAULTS } from "./profile_build.ts";

Deno.test("buildProfile() fills in each profile's defaults", () => {
  assert.deepEqual(buildProfile("spike"), {
    kind: "spike",
    rate: PROFILE_DEFAULTS.spike.rate,
    peak: PROFILE_DEFAULTS.spike.peak,
    at: PROFILE_DEFAULTS.spike.spikeAt,
    for: PROFILE_DEFAULTS.spike.spikeFor,
    seconds: PROFILE_DEFAULTS.spike.duration,
  });
  assert.deepEqual(buildProfile("ramp", { to: 50 }), {
    kind: "ramp",
    from: 1,
    to: 50,
    seconds: 60,
  });
  assert.deepEqual(buildProfile("step", { steps: "1:2,3:4" }), {
    kind: "step",
    steps: [{ rate: 1, seconds: 2 }, { rate: 3, seconds: 4 }],
  });
  for (const name of PROFILE_NAMES.filter((n) => n !== "trace")) {
    assert.ok(profileArrivalCount(buildProfile(name)) > 0, name);
  }
  assert.deepEqual(buildProfile("trace", { trace: [{ second: 0, rate: 3 }] }), {
    kind: "trace",
    points: [{ second: 0, rate: 3 }],
    seconds: 1,
  });
});

Deno.test("buildProfile() refuses foreign and out-of-range settings", () => {
  assert.throws(() => buildProfile("constant", { peak: 3, rate: -1 }), {
    name: "RangeError",
    message: "Cannot build the constant profile: the constant profile takes no --peak setting; " +
      '--rate must be a number of requests per second above 0, at most 100000, got "-1"',
  });
  assert.throws(() => buildProfile("spike", { spikeAt: 60 }), {
    name: "RangeError",
    message: "Cannot build the spike profile: --spike-at must be seconds from 0 to below " +
      '--duration (60), got "60"',
  });
  assert.throws(() => buildProfile("ramp", { from: 0, to: 0 }), {
    name: "RangeError",
    message: "Cannot build the ramp profile: it schedules no arrival at all: raise its rates",
  });
  assert.throws(() => buildProfile("trace"), {
    name: "RangeError",
    message: "Cannot build the trace profile: expected its rows",
  });
});

Deno.test("parseProfileFlag() reads a name, settings or a step list", () => {
  assert.deepEqual(parseProfileFlag("diurnal"), { name: "diurnal", values: {} });
  assert.deepEqual(parseProfileFlag("spike: rate=4, peak=20,spike-at=10"), {
    name: "spike",
    values: { rate: "4", peak: "20", "spike-at": "10" },
  });
  assert.deepEqual(parseProfileFlag("step:2:10,10:20"), {
    name: "step",
    values: { steps: "2:10,10:20" },
  });
  assert.throws(() => parseProfileFlag("spike:peak"), {
    name: "SyntaxError",
    message: 'Cannot read --profile "spike:peak": expected key=value settings such as ' +
      '"peak=20", got "peak"',
  });
  assert.throws(() => parseProfileFlag("ramp:to=1,to=2"), {
    name: "SyntaxError",
    message: 'Cannot read --profile "ramp:to=1,to=2": to is given twice',
  });
  assert.equal(flagOf("spikeFor"), "--spike-for");
});
