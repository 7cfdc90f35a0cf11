/**
 * The one interface over the image decoders. Two engines implement it: sharp
 * (libvips, native, several times faster) and imagescript (WebAssembly, runs
 * wherever Deno runs). The service picks sharp when it loads and says which
 * one it uses at start-up, in `/info` and in `model_info`.
 *
 * @module
 */

import type { ImageFormat, ImageHeader } from "./image_header.ts";
import type { Pixels } from "./pixels.ts";

/** Names of the engines. */
export type DecoderName = "sharp" | "imagescript";

/** Turns image bytes whose header was already checked into upright RGB(A) pixels. */
export interface ImageDecoder {
  readonly name: DecoderName;
  /** Formats this engine decodes; others are refused with 415 before it is called. */
  readonly formats: readonly ImageFormat[];
  /**
   * Decodes the first frame, EXIF orientation applied, colour profile ignored
   * (as the training pipeline did), alpha left for preprocessing to drop.
   *
   * @throws {Error} when the data is corrupt or truncated
   */
  decode(bytes: Uint8Array, header: ImageHeader): Promise<Pixels>;
}

/** How each format is described to clients in the list of accepted inputs. */
export const FORMAT_NOTES: Record<ImageFormat, string> = {
  jpeg: "image/jpeg (baseline, progressive, grayscale, CMYK)",
  png: "image/png (8 or 16 bits, gray, palette, alpha)",
  gif: "image/gif (first frame)",
  webp: "image/webp",
  tiff: "image/tiff (first page)",
  bmp: "image/bmp",
};

/** The accepted-inputs list of error answers for `decoder`. */
export function acceptedImages(decoder: ImageDecoder): string[] {
  return decoder.formats.map((format) => FORMAT_NOTES[format]);
}
