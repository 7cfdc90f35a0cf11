/**
 * Turns the bytes of an uploaded image into RGBA pixels, or into a refusal
 * that says what was wrong and what is accepted. The size the header claims is
 * checked before any decoder runs, so a decompression bomb costs nothing.
 *
 * @module
 */

import { decode as decodeImagescript, GIF } from "imagescript";
import { HttpError } from "@common/http_error.ts";
import { type ImageFormat, readImageHeader } from "./image_header.ts";
import { applyOrientation } from "./orientation.ts";

/** Decoded pixels: 4 bytes (R, G, B, A) per pixel, rows top to bottom. */
export interface Pixels {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Formats this decoder turns into pixels. */
export const DECODABLE: readonly ImageFormat[] = ["jpeg", "png", "gif"];

/** What error answers list as accepted. */
export const ACCEPTED_IMAGES = [
  "image/jpeg (baseline, progressive, grayscale, CMYK)",
  "image/png (8 or 16 bits, gray, palette, alpha)",
  "image/gif (first frame)",
];

/**
 * Decodes `bytes`, applying the EXIF orientation of a JPEG.
 *
 * @throws {HttpError} 400 for an empty, unrecognised or broken file, 415 for
 *   a known format this decoder does not read, 413 when the header claims
 *   more than `maxPixels` pixels
 */
export async function decodeImage(bytes: Uint8Array, maxPixels: number): Promise<Pixels> {
  if (bytes.length === 0) {
    throw new HttpError(400, "empty_body", "Cannot classify an empty body: send image bytes", {
      accepted: ACCEPTED_IMAGES,
    });
  }
  const header = readImageHeader(bytes);
  if (header === undefined) {
    throw new HttpError(
      400,
      "not_an_image",
      "Cannot recognise the body as an image: its first bytes match no known image format",
      { accepted: ACCEPTED_IMAGES },
    );
  }
  if (!DECODABLE.includes(header.format)) {
    throw new HttpError(
      415,
      "unsupported_format",
      `Cannot decode ${header.format.toUpperCase()} images; convert it to JPEG or PNG`,
      { accepted: ACCEPTED_IMAGES },
    );
  }
  const { width, height } = header;
  if (width === undefined || height === undefined || width === 0 || height === 0) {
    throw new HttpError(
      400,
      "bad_image",
      `Cannot read the size of this ${header.format.toUpperCase()} image: its header is ` +
        "truncated or says zero pixels",
      { accepted: ACCEPTED_IMAGES },
    );
  }
  if (width * height > maxPixels) {
    throw new HttpError(
      413,
      "too_many_pixels",
      `Cannot decode a ${width}x${height} image (${width * height} pixels): ` +
        `at most ${maxPixels} pixels are accepted; scale it down first`,
      { accepted: ACCEPTED_IMAGES },
    );
  }

  let image: { width: number; height: number; bitmap: Uint8ClampedArray };
  try {
    const decoded = await decodeImagescript(bytes, true);
    image = decoded instanceof GIF ? decoded[0] : decoded;
  } catch (error) {
    throw new HttpError(
      400,
      "bad_image",
      `Cannot decode this ${header.format.toUpperCase()} image: ${(error as Error).message}; ` +
        "the file may be truncated or corrupt",
      { accepted: ACCEPTED_IMAGES, cause: error },
    );
  }
  const pixels = {
    width: image.width,
    height: image.height,
    rgba: new Uint8Array(image.bitmap.buffer, image.bitmap.byteOffset, image.bitmap.byteLength),
  };
  return applyOrientation(pixels, header.orientation);
}
