/**
 * Decoded pixels as every decoder hands them to preprocessing.
 *
 * @module
 */

/** 8-bit pixels, rows top to bottom, `channels` bytes per pixel: RGB, or RGBA whose A is unused. */
export interface Pixels {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array;
}
