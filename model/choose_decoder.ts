/**
 * Picks the decoder engine: sharp when asked for or when `auto` and it loads,
 * imagescript otherwise. The reason travels with the choice so the start-up
 * log can say why a slower engine runs.
 *
 * @module
 */

import type { ImageDecoder } from "./image_decoder.ts";
import { imagescriptDecoder } from "./decode_imagescript.ts";
import { sharpDecoder } from "./decode_sharp.ts";

/** What users may ask for. */
export const DECODER_CHOICES = ["auto", "sharp", "imagescript"] as const;

/** One of {@linkcode DECODER_CHOICES}. */
export type DecoderChoice = typeof DECODER_CHOICES[number];

/** The engine and why it was chosen. */
export interface ChosenDecoder {
  decoder: ImageDecoder;
  reason: string;
}

/**
 * Creates the engine for `choice`.
 *
 * @throws {Error} when sharp was asked for explicitly and cannot load
 */
export async function chooseDecoder(choice: DecoderChoice): Promise<ChosenDecoder> {
  if (choice === "imagescript") {
    return { decoder: await imagescriptDecoder(), reason: "asked for with --decoder imagescript" };
  }
  const sharp = await sharpDecoder();
  if ("decode" in sharp) {
    return { decoder: sharp, reason: "sharp loaded (about 5x faster than imagescript)" };
  }
  if (choice === "sharp") {
    throw new Error(
      `Cannot load sharp: ${sharp.unavailable}; use --decoder imagescript, which runs anywhere`,
    );
  }
  return {
    decoder: await imagescriptDecoder(),
    reason: `sharp cannot load here (${sharp.unavailable}), so the portable engine runs`,
  };
}
