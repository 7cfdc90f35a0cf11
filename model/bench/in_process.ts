/**
 * The ceiling: decode, preprocess and inference in a loop in this process,
 * with no HTTP, no JSON and no admission control. What a replica achieves over
 * HTTP is judged against this.
 *
 * @module
 */

import type { Classifier } from "../classifier.ts";
import { decodeImage } from "../decode.ts";
import type { ImageDecoder } from "../image_decoder.ts";
import { preprocess, TENSOR_LENGTH } from "../preprocess.ts";
import { softmax, topK } from "../top_k.ts";
import { figures, type PhaseFigures } from "./stats.ts";

/**
 * Runs `pipelines` loops side by side for `seconds`, each taking the next
 * image, decoding, preprocessing and scoring it. Two pipelines let one decode
 * while the other is in ONNX Runtime, as concurrent requests do.
 */
export async function ceiling(
  classifier: Classifier,
  decoder: ImageDecoder,
  images: readonly Uint8Array[],
  pipelines: number,
  seconds: number,
): Promise<PhaseFigures> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  let next = 0;
  const loop = async () => {
    while (performance.now() < end) {
      const bytes = images[next++ % images.length];
      const started = performance.now();
      const tensor = preprocess(await decodeImage(bytes, 4e7, decoder));
      topK(softmax(await classifier.score(tensor)), [], 5);
      latencies.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: pipelines }, loop));
  return figures(latencies, (performance.now() - started) / 1000);
}

/**
 * Inference alone on one image at a time and on batches of `batch`, for
 * `seconds` each: whether dynamic batching could pay on this CPU.
 */
export async function batchGain(
  classifier: Classifier,
  batch: number,
  seconds: number,
): Promise<{ single: number; batched: number }> {
  const rate = async (count: number) => {
    let images = 0;
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      // Each call hands its buffer to the inference worker.
      await classifier.scoreBatch(new Float32Array(TENSOR_LENGTH * count).fill(0.5), count);
      images += count;
    }
    return images / ((performance.now() - started) / 1000);
  };
  await rate(batch); // ONNX Runtime plans memory for a new shape on its first run.
  return { single: await rate(1), batched: await rate(batch) };
}
