/**
 * CMYK to RGB the way Pillow's `convert("RGB")` does it: no colour profile,
 * each channel `(255 - K) - C * (255 - K) / 255` with Pillow's rounding. The
 * weights were trained on images converted like this, so a colour-managed
 * conversion (what libvips does by default) would shift every pixel.
 *
 * @module
 */

function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** Converts 4-byte CMYK pixels to 3-byte RGB pixels. */
export function cmykToRgb(cmyk: Uint8Array): Uint8Array {
  const pixels = cmyk.length / 4;
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const notK = 255 - cmyk[i * 4 + 3];
    rgb[i * 3] = notK - mulDiv255(cmyk[i * 4], notK);
    rgb[i * 3 + 1] = notK - mulDiv255(cmyk[i * 4 + 1], notK);
    rgb[i * 3 + 2] = notK - mulDiv255(cmyk[i * 4 + 2], notK);
  }
  return rgb;
}
