/**
 * The portable decoder: imagescript, pure WebAssembly. About 24 ms for a
 * typical photo, on the event loop's thread; JPEG, PNG and GIF only.
 *
 * @module
 */

import type { ImageDecoder } from "./image_decoder.ts";
import { applyOrientation } from "./orientation.ts";

/**
 * Creates the imagescript engine. Loaded on demand: a replica that decodes
 * with sharp does not carry the WebAssembly module in its memory.
 */
export async function imagescriptDecoder(): Promise<ImageDecoder> {
  const { decode, GIF } = await import("imagescript");
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
