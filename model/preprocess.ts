/**
 * The preprocessing the ResNet18 weights were trained with (torchvision's
 * convention): shorter side to 256 with an antialiased bilinear filter, centre
 * crop 224 x 224, scale to [0, 1], subtract the ImageNet mean, divide by its
 * standard deviation, channels first.
 *
 * The resampling follows Pillow's `resize(BILINEAR)` step by step (the same
 * filter support, 22-bit fixed-point weights, horizontal pass first, rounding
 * to 8 bits between the passes), because a classifier is sensitive to the
 * exact pixels it was trained on. Only the rows and columns that survive the
 * crop are computed.
 *
 * @module
 */

import type { Pixels } from "./pixels.ts";

/** Side of the square the model sees. */
export const CROP = 224;
/** Length of the shorter side after resizing, before the crop. */
export const RESIZE = 256;
/** Per-channel mean of ImageNet, RGB, in [0, 1]. */
export const MEAN = [0.485, 0.456, 0.406] as const;
/** Per-channel standard deviation of ImageNet, RGB, in [0, 1]. */
export const STD = [0.229, 0.224, 0.225] as const;
/** Floats in one preprocessed image: 3 x 224 x 224. */
export const TENSOR_LENGTH = 3 * CROP * CROP;

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

/** The size after the resize step: the shorter side becomes 256, the longer one is truncated. */
export function resizedSize(width: number, height: number): { width: number; height: number } {
  if (width <= height) {
    return { width: RESIZE, height: Math.trunc((RESIZE * height) / width) };
  }
  return { width: Math.trunc((RESIZE * width) / height), height: RESIZE };
}

/** Offset of a centred crop, rounded as Python's `round` does (half to even). */
export function cropOffset(size: number): number {
  const exact = (size - CROP) / 2;
  const floor = Math.floor(exact);
  const fraction = exact - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Preprocesses RGB or RGBA pixels into the float32 CHW tensor of one image,
 * written into `out` (allocated when absent). An alpha channel is dropped, as
 * Pillow's `convert("RGB")` does.
 */
export function preprocess(pixels: Pixels, out = new Float32Array(TENSOR_LENGTH)): Float32Array {
  const resized = resizedSize(pixels.width, pixels.height);
  const left = cropOffset(resized.width);
  const top = cropOffset(resized.height);
  const columns = coefficients(pixels.width, resized.width, left, CROP);
  const rows = coefficients(pixels.height, resized.height, top, CROP);

  // The horizontal pass only needs the source rows that some output row reads.
  const firstRow = rows.starts[0];
  let lastRow = 0;
  for (let i = 0; i < CROP; i++) lastRow = Math.max(lastRow, rows.starts[i] + rows.counts[i]);
  const bandHeight = lastRow - firstRow;

  const band = new Uint8Array(bandHeight * CROP * 3);
  horizontalPass(pixels, columns, firstRow, bandHeight, band);
  verticalPass(band, rows, firstRow, out);
  return out;
}

/** Fixed-point filter weights of the output positions [first, first + count). */
interface Coefficients {
  /** First input position each output reads. */
  starts: Int32Array;
  /** How many input positions each output reads. */
  counts: Int32Array;
  /** Weights, `stride` per output. */
  weights: Int32Array;
  stride: number;
}

function triangle(x: number): number {
  const distance = Math.abs(x);
  return distance < 1 ? 1 - distance : 0;
}

// Pillow's precompute_coeffs for the bilinear filter (support 1), widened by
// the scale when shrinking, which is what makes the filter antialiased.
function coefficients(
  inSize: number,
  outSize: number,
  first: number,
  count: number,
): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const starts = new Int32Array(count);
  const counts = new Int32Array(count);
  const weights = new Int32Array(count * stride);
  const floats = new Float64Array(stride);
  for (let i = 0; i < count; i++) {
    const center = (first + i + 0.5) * scale;
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    for (let x = 0; x < end - start; x++) {
      floats[x] = triangle((x + start - center + 0.5) / filterScale);
      total += floats[x];
    }
    starts[i] = start;
    counts[i] = end - start;
    for (let x = 0; x < end - start; x++) {
      const weight = total === 0 ? 0 : floats[x] / total;
      // Pillow rounds half away from zero when it converts to fixed point.
      weights[i * stride + x] = weight < 0
        ? Math.trunc(weight * ONE - 0.5)
        : Math.trunc(weight * ONE + 0.5);
    }
  }
  return { starts, counts, weights, stride };
}

// The triangle filter's weights are never negative, so a sum is never below
// zero and stays under 2^31: an integer shift rounds it down exactly.
function clip8(sum: number): number {
  const value = sum >> PRECISION_BITS;
  return value > 255 ? 255 : value;
}

// Turns an 8-bit value of channel c into its normalised float: entry c * 256 + v.
const NORMALISED = new Float32Array(3 * 256);
for (let c = 0; c < 3; c++) {
  for (let v = 0; v < 256; v++) NORMALISED[c * 256 + v] = (v / 255 - MEAN[c]) / STD[c];
}

function horizontalPass(
  pixels: Pixels,
  columns: Coefficients,
  firstRow: number,
  bandHeight: number,
  band: Uint8Array,
): void {
  const { data, width, channels } = pixels;
  const { starts, counts, weights, stride } = columns;
  for (let y = 0; y < bandHeight; y++) {
    const rowStart = (firstRow + y) * width * channels;
    for (let x = 0; x < CROP; x++) {
      let r = HALF, g = HALF, b = HALF;
      const k = x * stride;
      let source = rowStart + starts[x] * channels;
      for (let j = 0; j < counts[x]; j++, source += channels) {
        const weight = weights[k + j];
        r += data[source] * weight;
        g += data[source + 1] * weight;
        b += data[source + 2] * weight;
      }
      const target = (y * CROP + x) * 3;
      band[target] = clip8(r);
      band[target + 1] = clip8(g);
      band[target + 2] = clip8(b);
    }
  }
}

function verticalPass(
  band: Uint8Array,
  rows: Coefficients,
  firstRow: number,
  out: Float32Array,
): void {
  const { starts, counts, weights, stride } = rows;
  const plane = CROP * CROP;
  for (let y = 0; y < CROP; y++) {
    const k = y * stride;
    const bandRow = starts[y] - firstRow;
    for (let x = 0; x < CROP; x++) {
      let r = HALF, g = HALF, b = HALF;
      let source = (bandRow * CROP + x) * 3;
      for (let j = 0; j < counts[y]; j++, source += CROP * 3) {
        const weight = weights[k + j];
        r += band[source] * weight;
        g += band[source + 1] * weight;
        b += band[source + 2] * weight;
      }
      const pixel = y * CROP + x;
      out[pixel] = NORMALISED[clip8(r)];
      out[plane + pixel] = NORMALISED[256 + clip8(g)];
      out[2 * plane + pixel] = NORMALISED[512 + clip8(b)];
    }
  }
}
