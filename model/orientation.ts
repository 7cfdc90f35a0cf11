/**
 * Applies an EXIF orientation to decoded pixels. Cameras store a photo as the
 * sensor saw it and record how to turn it; a classifier shown the sideways
 * pixels sees a sideways cat.
 *
 * @module
 */

import type { Pixels } from "./pixels.ts";

/**
 * Returns RGBA `pixels` turned upright. Orientation 1 (or any value outside
 * 2-8) returns the input itself.
 */
export function applyOrientation(pixels: Pixels, orientation: number): Pixels {
  if (orientation < 2 || orientation > 8) return pixels;
  if (pixels.channels !== 4) throw new RangeError("applyOrientation needs RGBA pixels");
  const { width: w, height: h } = pixels;
  const swaps = orientation >= 5;
  const outWidth = swaps ? h : w;
  const outHeight = swaps ? w : h;
  // One 32-bit word per RGBA pixel moves a pixel in one step.
  const source = new Uint32Array(pixels.data.buffer, pixels.data.byteOffset, w * h);
  const target = new Uint32Array(outWidth * outHeight);
  const sourceIndex = sourceIndexOf(orientation, w, h);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) target[y * outWidth + x] = source[sourceIndex(x, y)];
  }
  return { width: outWidth, height: outHeight, channels: 4, data: new Uint8Array(target.buffer) };
}

// For an output pixel (x, y), the index of the stored pixel that lands there.
function sourceIndexOf(orientation: number, w: number, h: number) {
  switch (orientation) {
    case 2: // mirrored left to right
      return (x: number, y: number) => y * w + (w - 1 - x);
    case 3: // upside down
      return (x: number, y: number) => (h - 1 - y) * w + (w - 1 - x);
    case 4: // mirrored top to bottom
      return (x: number, y: number) => (h - 1 - y) * w + x;
    case 5: // transposed
      return (x: number, y: number) => x * w + y;
    case 6: // stored turned 90 degrees counter-clockwise: turn it clockwise
      return (x: number, y: number) => (h - 1 - x) * w + y;
    case 7: // transposed across the other diagonal
      return (x: number, y: number) => (h - 1 - x) * w + (w - 1 - y);
    default: // 8: stored turned clockwise: turn it counter-clockwise
      return (x: number, y: number) => x * w + (w - 1 - y);
  }
}
