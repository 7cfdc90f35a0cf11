/**
 * The portable decoder: imagescript, pure WebAssembly. About 24 ms for a
 * typical photo, on the event loop's thread; JPEG, PNG and GIF only.
 *
 * @module
 */

import { decode, GIF } from "imagescript";
import type { ImageDecoder } from "./image_decoder.ts";
import { applyOrientation } from "./orientation.ts";

/** Creates the imagescript engine. */
export function imagescriptDecoder(): ImageDecoder {
  return {
    name: "imagescript",
    formats: ["jpeg", "png", "gif"],
    async decode(bytes, header) {
      const decoded = await decode(bytes, true);
      const image: { width: number; height: number; bitmap: Uint8ClampedArray } =
        decoded instanceof GIF ? decoded[0] : decoded;
      const { bitmap } = image;
      const pixels = {
        width: image.width,
        height: image.height,
        channels: 4 as const,
        data: new Uint8Array(bitmap.buffer, bitmap.byteOffset, bitmap.byteLength),
      };
      return applyOrientation(pixels, header.orientation);
    },
  };
}
