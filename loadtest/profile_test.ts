import assert from "node:assert/strict";
import {
  expectedArrivals,
  profileArrivalCount,
  profileArrivalTimes,
  profileSeconds,
  type ProfileSpec,
  rateAt,
} from "./profile.ts";
import { arrivalTimes } from "./schedule.ts";

const PROFILES: Record<string, ProfileSpec> = {
  constant: { kind: "constant", rate: 7, seconds: 5 },
  fractional: { kind: "constant", rate: 0.7, seconds: 10 },
  ramp: { kind: "ramp", from: 0, to: 20, seconds: 12 },
  "ramp down": { kind: "ramp", from: 15, to: 3, seconds: 9 },
  spike: { kind: "spike", rate: 2, peak: 25, at: 4, for: 3, seconds: 12 },
  diurnal: { kind: "diurnal", min: 1, max: 13, period: 10, seconds: 25 },
  trace: {
    kind: "trace",
    points: [{ second: 0, rate: 3 }, { second: 2, rate: 0.5 }, { second: 5, rate: 9 }],
    seconds: 6,
  },
};

/** Arrivals whose time falls in [from, to) seconds. */
function countBetween(times: number[], from: number, to: number): number {
  return times.filter((ms) => ms >= from * 1000 && ms < to * 1000).length;
}

Deno.test("profileArrivalTimes() follows the integral of the rate, second by second", async (t) => {
  for (const [label, spec] of Object.entries(PROFILES)) {
    await t.step(label, () => {
      const times = profileArrivalTimes(spec);
      const seconds = profileSeconds(spec);
      assert.equal(times.length, profileArrivalCount(spec));
      for (let i = 1; i < times.length; i++) {
        assert.ok(times[i] > times[i - 1], `arrival ${i} at ${times[i]} ms is not after the last`);
      }
      assert.ok(times[0] >= 0 && times.at(-1)! < seconds * 1000);
      for (let s = 1; s <= Math.ceil(seconds); s++) {
        // Arrivals up to s are the integral rounded up: never a whole arrival off.
        const owed = expectedArrivals(spec, s);
        assert.equal(countBetween(times, 0, s), Math.ceil(owed - 1e-9), `${label} by ${s} s`);
        const inSecond = countBetween(times, s - 1, s);
        const integral = owed - expectedArrivals(spec, s - 1);
        assert.ok(
          Math.abs(inSecond - integral) < 1,
          `${label} second ${s}: ${inSecond} vs ${integral}`,
        );
      }
    });
  }
});

Deno.test("expectedArrivals() integrates each shape as worked out by hand", () => {
  // Ramp 0 -> 20 over 12 s: the area of a triangle, 12 * 20 / 2.
  assert.equal(expectedArrivals(PROFILES.ramp, 12), 120);
  // Spike: 4 s at 2, 3 s at 25, 5 s at 2.
  assert.equal(expectedArrivals(PROFILES.spike, 12), 8 + 75 + 10);
  // Diurnal: whole periods average (min + max) / 2.
  assert.ok(Math.abs(expectedArrivals(PROFILES.diurnal, 20) - 20 * 7) < 1e-9);
  // Trace: 2 s at 3, 3 s at 0.5, the last row for 1 s at 9.
  assert.equal(expectedArrivals(PROFILES.trace, 6), 6 + 1.5 + 9);
});

Deno.test("rateAt() gives each shape's rate at a moment", () => {
  assert.equal(rateAt(PROFILES.ramp, 6), 10);
  assert.equal(rateAt(PROFILES.spike, 3.9), 2);
  assert.equal(rateAt(PROFILES.spike, 4), 25);
  assert.equal(rateAt(PROFILES.spike, 7), 2);
  assert.equal(rateAt(PROFILES.diurnal, 0), 1);
  assert.ok(Math.abs(rateAt(PROFILES.diurnal, 5) - 13) < 1e-9);
  assert.equal(rateAt(PROFILES.trace, 3), 0.5);
  assert.equal(rateAt(PROFILES.trace, 6), 0);
});

Deno.test("profileArrivalTimes() sends nothing while the rate is 0", async (t) => {
  await t.step("a spike over silence", () => {
    const spec: ProfileSpec = { kind: "spike", rate: 0, peak: 10, at: 3, for: 2, seconds: 8 };
    const times = profileArrivalTimes(spec);
    assert.equal(times.length, 20);
    assert.equal(times[0], 3000);
    assert.ok(times.at(-1)! < 5000);
  });
  await t.step("a trace with a silent stretch", () => {
    const spec: ProfileSpec = {
      kind: "trace",
      points: [{ second: 0, rate: 2 }, { second: 1, rate: 0 }, { second: 4, rate: 2 }],
      seconds: 5,
    };
    assert.deepEqual(profileArrivalTimes(spec), [0, 500, 4000, 4500]);
  });
  await t.step("a ramp up from 0 starts at once, as its integral passes 0 there", () => {
    const times = profileArrivalTimes({ kind: "ramp", from: 0, to: 4, seconds: 2 });
    // Λ(t) = t², so arrival k comes at √k seconds.
    assert.deepEqual(times.map((ms) => Math.round(ms)), [0, 1000, 1414, 1732]);
  });
  await t.step("a ramp down to 0 ends early", () => {
    const times = profileArrivalTimes({ kind: "ramp", from: 4, to: 0, seconds: 2 });
    assert.equal(times.length, 4);
  });
  await t.step("all zero", () => {
    const spec: ProfileSpec = { kind: "diurnal", min: 0, max: 0, period: 5, seconds: 5 };
    assert.deepEqual(profileArrivalTimes(spec), []);
    assert.equal(profileArrivalCount(spec), 0);
  });
});

Deno.test("profileArrivalTimes() keeps the step profile's own spacing", () => {
  const steps = [{ rate: 2, seconds: 1.5 }, { rate: 0, seconds: 1 }, { rate: 3, seconds: 1 }];
  assert.deepEqual(profileArrivalTimes({ kind: "step", steps }), arrivalTimes(steps));
  assert.equal(profileSeconds({ kind: "step", steps }), 3.5);
});

Deno.test("profileArrivalTimes() of a constant rate matches the old constant schedule", () => {
  const spec: ProfileSpec = { kind: "constant", rate: 7, seconds: 3 };
  const steps = arrivalTimes([{ rate: 7, seconds: 3 }]);
  const times = profileArrivalTimes(spec);
  assert.equal(times.length, steps.length);
  times.forEach((ms, i) => assert.ok(Math.abs(ms - steps[i]) < 1e-6, `arrival ${i}`));
});
