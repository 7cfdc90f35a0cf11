/**
 * Turns the bytes of an uploaded image into pixels, or into a refusal that
 * says what was wrong and what is accepted. The size the header claims is
 * checked before any decoder runs, so a decompression bomb costs nothing and
 * no decoder ever sees a header it could choke on.
 *
 * @module
 */

import { HttpError } from "@common/http_error.ts";
import { acceptedImages, type ImageDecoder } from "./image_decoder.ts";
import { type ImageHeader, readImageHeader } from "./image_header.ts";
import type { Pixels } from "./pixels.ts";

/** A header that passed every check, with the size it claims. */
export type CheckedHeader = ImageHeader & { width: number; height: number };

/**
 * Checks what the header of `bytes` claims, without decoding a pixel.
 *
 * @throws {HttpError} 400 for an empty, unrecognised or truncated file, 415
 *   for a known format the decoder does not read, 413 when the header claims
 *   more than `maxPixels` pixels
 */
export function checkImage(
  bytes: Uint8Array,
  maxPixels: number,
  decoder: ImageDecoder,
): CheckedHeader {
  const accepted = acceptedImages(decoder);
  if (bytes.length === 0) {
    throw new HttpError(400, "empty_body", "Cannot classify an empty body: send image bytes", {
      accepted,
    });
  }
  const header = readImageHeader(bytes);
  if (header === undefined) {
    throw new HttpError(
      400,
      "not_an_image",
      "Cannot recognise the body as an image: its first bytes match no known image format",
      { accepted },
    );
  }
  const format = header.format.toUpperCase();
  if (!decoder.formats.includes(header.format)) {
    throw new HttpError(
      415,
      "unsupported_format",
      `Cannot decode ${format} images here; convert it to JPEG or PNG`,
      { accepted },
    );
  }
  const { width, height } = header;
  if (width === undefined || height === undefined || width === 0 || height === 0) {
    throw new HttpError(
      400,
      "bad_image",
      `Cannot read the size of this ${format} image: its header is truncated or says zero pixels`,
      { accepted },
    );
  }
  if (width * height > maxPixels) {
    throw new HttpError(
      413,
      "too_many_pixels",
      `Cannot decode a ${width}x${height} image (${width * height} pixels): ` +
        `at most ${maxPixels} pixels are accepted; scale it down first`,
      { accepted },
    );
  }
  return { ...header, width, height };
}

/**
 * Decodes `bytes`, whose header {@linkcode checkImage} accepted, with `decoder`.
 *
 * @throws {HttpError} 400 when the data turns out corrupt or truncated
 */
export async function decodeChecked(
  bytes: Uint8Array,
  header: CheckedHeader,
  decoder: ImageDecoder,
): Promise<Pixels> {
  const accepted = acceptedImages(decoder);
  const format = header.format.toUpperCase();
  try {
    return await decoder.decode(bytes, header);
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0];
    throw new HttpError(
      400,
      "bad_image",
      `Cannot decode this ${format} image: ${reason}; the file may be truncated or corrupt`,
      { accepted, cause: error },
    );
  }
}

/** Checks and decodes `bytes`: {@linkcode checkImage}, then {@linkcode decodeChecked}. */
export function decodeImage(
  bytes: Uint8Array,
  maxPixels: number,
  decoder: ImageDecoder,
): Promise<Pixels> {
  return decodeChecked(bytes, checkImage(bytes, maxPixels, decoder), decoder);
}
