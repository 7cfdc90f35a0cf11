import assert from "node:assert/strict";
import {
  arrivalCount,
  arrivalTimes,
  constantSteps,
  parseSteps,
  type RateStep,
  totalSeconds,
} from "./schedule.ts";

Deno.test("parseSteps() reads rate:seconds pairs in order", () => {
  assert.deepEqual(parseSteps("2:10,6:5"), [{ rate: 2, seconds: 10 }, { rate: 6, seconds: 5 }]);
  assert.deepEqual(parseSteps(" 0.5:1.5 , 0:2 "), [
    { rate: 0.5, seconds: 1.5 },
    { rate: 0, seconds: 2 },
  ]);
});

Deno.test("parseSteps() names the first malformed step and the rule", async (t) => {
  const cases: [text: string, step: number, part: string][] = [
    ["", 1, ""],
    ["2", 1, "2"],
    ["2:10,", 2, ""],
    ["2:10;6:5", 1, "2:10;6:5"],
    ["-1:10", 1, "-1:10"],
    ["2:0", 1, "2:0"],
    ["2:10,abc:5,x", 2, "abc:5"],
    ["1e3:5", 1, "1e3:5"],
    ["2:10:3", 1, "2:10:3"],
  ];
  for (const [text, step, part] of cases) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(() => parseSteps(text), {
        name: "SyntaxError",
        message: `Cannot parse step ${step} of "${text}": expected rate:seconds with rate >= 0 ` +
          `and seconds > 0, e.g. "2:10,10:20", got "${part}"`,
      });
    });
  }
});

Deno.test("constantSteps() refuses a rate or length that is not above 0", () => {
  assert.deepEqual(constantSteps(3, 4), [{ rate: 3, seconds: 4 }]);
  assert.throws(() => constantSteps(0, 4), {
    name: "RangeError",
    message: "Cannot build a constant profile: expected rate > 0, got 0",
  });
  assert.throws(() => constantSteps(3, NaN), {
    name: "RangeError",
    message: "Cannot build a constant profile: expected seconds > 0, got NaN",
  });
});

Deno.test("totalSeconds() adds the step lengths, pauses included", () => {
  assert.equal(totalSeconds(parseSteps("2:10,6:5")), 15);
  assert.equal(totalSeconds(parseSteps("0:1.5,3:0.25")), 1.75);
  assert.equal(totalSeconds([]), 0);
});

Deno.test("arrivalTimes() spaces arrivals 1/rate apart from each step's start", () => {
  const times = arrivalTimes(parseSteps("2:10,6:5"));
  assert.equal(times.length, 2 * 10 + 6 * 5);
  assert.deepEqual(times.slice(0, 3), [0, 500, 1000]);
  assert.equal(times[19], 9500);
  // The second step starts at 10 s whatever the first step's last gap was.
  assert.equal(times[20], 10_000);
  for (let i = 21; i < times.length; i++) {
    assert.ok(Math.abs(times[i] - times[i - 1] - 1000 / 6) < 1e-6, `gap before arrival ${i}`);
  }
  assert.ok(times.at(-1)! < 15_000);
});

Deno.test("arrivalTimes() leaves pauses empty and keeps partial gaps", () => {
  assert.deepEqual(arrivalTimes(parseSteps("2:1.5")), [0, 500, 1000]);
  assert.deepEqual(arrivalTimes(parseSteps("0:2,1:2")), [2000, 3000]);
  assert.deepEqual(arrivalTimes(parseSteps("0.5:3")), [0, 2000]);
  // Rates whose gap is not a whole number of ms still give rate x seconds.
  assert.equal(arrivalTimes(parseSteps("10:1")).length, 10);
  assert.equal(arrivalTimes(parseSteps("3:1")).length, 3);
  assert.equal(arrivalTimes(parseSteps("7:3")).length, 21);
});

Deno.test("arrivalCount() equals the length of arrivalTimes() on random profiles", () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let run = 0; run < 500; run++) {
    const steps: RateStep[] = Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({
      rate: random() < 0.2 ? 0 : Math.round(random() * 5000) / 100,
      seconds: Math.round(1 + random() * 300) / 100,
    }));
    assert.equal(arrivalCount(steps), arrivalTimes(steps).length, JSON.stringify(steps));
  }
  assert.equal(arrivalCount(parseSteps("100000:86400")), 8_640_000_000);
  assert.equal(arrivalCount([{ rate: 1, seconds: Infinity }]), Infinity);
});
