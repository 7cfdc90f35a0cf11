import assert from "node:assert/strict";
import { applyOrientation } from "./orientation.ts";

// A 3x2 image whose pixels are numbered 1-6, row by row:
//   1 2 3
//   4 5 6
function numbered() {
  const rgba = new Uint8Array(6 * 4);
  for (let i = 0; i < 6; i++) rgba[i * 4] = i + 1;
  return { width: 3, height: 2, channels: 4 as const, data: rgba };
}

function rows(pixels: { width: number; height: number; data: Uint8Array }): number[][] {
  return Array.from(
    { length: pixels.height },
    (_, y) =>
      Array.from({ length: pixels.width }, (_, x) => pixels.data[(y * pixels.width + x) * 4]),
  );
}

Deno.test("applyOrientation turns each EXIF orientation upright", () => {
  const expected: Record<number, number[][]> = {
    1: [[1, 2, 3], [4, 5, 6]],
    2: [[3, 2, 1], [6, 5, 4]],
    3: [[6, 5, 4], [3, 2, 1]],
    4: [[4, 5, 6], [1, 2, 3]],
    5: [[1, 4], [2, 5], [3, 6]],
    6: [[4, 1], [5, 2], [6, 3]],
    7: [[6, 3], [5, 2], [4, 1]],
    8: [[3, 6], [2, 5], [1, 4]],
  };
  for (const [orientation, want] of Object.entries(expected)) {
    assert.deepEqual(rows(applyOrientation(numbered(), Number(orientation))), want, orientation);
  }
});
