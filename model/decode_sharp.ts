/**
 * The fast decoder: sharp (libvips with libjpeg-turbo, natively compiled).
 * About 4 ms for a typical photo, off the event loop on libuv's thread pool;
 * JPEG, PNG, GIF, WebP and TIFF.
 *
 * libvips manages colour by default; the training pipeline (Pillow) did not,
 * so embedded ICC profiles are ignored and CMYK is read raw and converted the
 * way Pillow converts it.
 *
 * @module
 */

import type { ImageDecoder } from "./image_decoder.ts";
import { cmykToRgb } from "./cmyk.ts";

type Sharp = typeof import("sharp");

/** Images above this many pixels are read sequentially. */
const SEQUENTIAL_ABOVE_PIXELS = 4_000_000;

/**
 * Loads sharp and creates the engine; undefined (with the reason) when its
 * native library cannot be loaded on this platform.
 */
export async function sharpDecoder(): Promise<ImageDecoder | { unavailable: string }> {
  let sharp: Sharp;
  try {
    sharp = (await import("sharp")).default;
  } catch (error) {
    return { unavailable: (error as Error).message.split("\n")[0] };
  }
  // One libvips thread per image: parallelism comes from concurrent requests,
  // and ONNX Runtime needs the cores more than a single decode does.
  sharp.concurrency(1);
  sharp.cache(false);
  return {
    name: "sharp",
    formats: ["jpeg", "png", "gif", "webp", "tiff"],
    async decode(bytes, header) {
      // Reading sequentially saves memory on big images and costs 0.4 ms on
      // a photo; turning costs another 0.4 ms, skipped when a JPEG's own EXIF
      // (read with the header) says it is upright.
      const pixels = (header.width ?? 0) * (header.height ?? 0);
      const sequentialRead = pixels > SEQUENTIAL_ABOVE_PIXELS;
      let input = sharp(bytes, { ignoreIcc: true, pages: 1, sequentialRead });
      if (header.format !== "jpeg" || header.orientation !== 1) input = input.rotate();
      if (header.format === "jpeg" && header.components === 4) {
        const { data, info } = await input.pipelineColourspace("cmyk").toColourspace("cmyk")
          .raw().toBuffer({ resolveWithObject: true });
        return { width: info.width, height: info.height, channels: 3, data: cmykToRgb(data) };
      }
      const { data, info } = await input.removeAlpha().toColourspace("srgb").raw()
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) {
        throw new Error(`libvips produced ${info.channels} channels instead of 3`);
      }
      // A plain view, not the Buffer subclass: preprocessing's loops then
      // see one array type, whichever engine decoded.
      const view = new Uint8Array(data.buffer, data.byteOffset, data.length);
      return { width: info.width, height: info.height, channels: 3, data: view };
    },
  };
}
