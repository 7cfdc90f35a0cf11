import assert from "node:assert/strict";
import { percentile, sortedCopy } from "./percentile.ts";

/**
 * The nearest-rank percentile by its definition, with whole numbers only: the
 * smallest observed value v such that at least p percent of the values are
 * <= v. `pTenths` is p times 10, so 99.9 can be asked for exactly.
 */
function bruteForce(values: number[], pTenths: number): number {
  const candidates = [...values].sort((a, b) => a - b);
  for (const candidate of candidates) {
    const atOrBelow = values.filter((value) => value <= candidate).length;
    if (atOrBelow * 1000 >= pTenths * values.length) return candidate;
  }
  throw new Error("unreachable: the largest value covers every p");
}

Deno.test("percentile() follows the nearest-rank rule on small lists", () => {
  const sorted = sortedCopy([15, 20, 35, 40, 50]);
  assert.equal(percentile(sorted, 0), 15);
  assert.equal(percentile(sorted, 5), 15);
  assert.equal(percentile(sorted, 30), 20);
  assert.equal(percentile(sorted, 40), 20);
  assert.equal(percentile(sorted, 50), 35);
  assert.equal(percentile(sorted, 100), 50);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([], 50), undefined);
});

Deno.test("percentile() keeps whole ranks exact despite decimal rounding", () => {
  // 0.07 * 100 is 7.000000000000001 in floating point: rank 7, not 8.
  const hundred = sortedCopy(Array.from({ length: 100 }, (_, i) => i + 1));
  for (let p = 1; p <= 100; p++) assert.equal(percentile(hundred, p), p, `p${p}`);
  const thousand = sortedCopy(Array.from({ length: 1000 }, (_, i) => i + 1));
  assert.equal(percentile(thousand, 99.9), 999);
  assert.equal(percentile(thousand, 0.1), 1);
  assert.equal(percentile(thousand, 12.5), 125);
});

Deno.test("percentile() matches a brute-force computation on random data", () => {
  let seed = 2024;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let run = 0; run < 200; run++) {
    const length = 1 + Math.floor(random() * 300);
    // Few distinct values in some runs, so ties are tested too.
    const spread = random() < 0.3 ? 5 : 10_000;
    const values = Array.from({ length }, () => Math.floor(random() * spread) / 10);
    const sorted = sortedCopy(values);
    for (const pTenths of [0, 1, 10, 250, 500, 900, 950, 990, 999, 1000]) {
      assert.equal(
        percentile(sorted, pTenths / 10),
        bruteForce(values, pTenths),
        `p${pTenths / 10} of ${length} values`,
      );
    }
  }
});

Deno.test("percentile() refuses p outside 0..100", () => {
  for (const p of [-1, 100.5, NaN]) {
    assert.throws(() => percentile([1, 2], p), {
      name: "RangeError",
      message: `Cannot compute a percentile: expected p from 0 to 100, got ${p}`,
    });
  }
});

Deno.test("sortedCopy() sorts numerically and leaves its input alone", () => {
  const values = [10, 9, 100, 1.5, -2];
  assert.deepEqual([...sortedCopy(values)], [-2, 1.5, 9, 10, 100]);
  assert.deepEqual(values, [10, 9, 100, 1.5, -2]);
});
