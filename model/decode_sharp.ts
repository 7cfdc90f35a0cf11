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
      const input = sharp(bytes, { ignoreIcc: true, pages: 1, sequentialRead: true }).rotate();
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
      return { width: info.width, height: info.height, channels: 3, data };
    },
  };
}
