/**
 * The model itself: one ONNX Runtime session, its input and output names read
 * from the file (exports name them differently), and a check at load time that
 * the shapes are the ones this service feeds and reads.
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import { TENSOR_LENGTH } from "./preprocess.ts";
import { identifyModel, type ModelIdentity } from "./model_identity.ts";

/** Number of classes the output must hold. */
export const CLASSES = 1000;

/** A loaded model, ready to score preprocessed images. */
export class Classifier {
  readonly identity: ModelIdentity;
  readonly inputName: string;
  readonly outputName: string;
  readonly threads: number;
  readonly #session: ort.InferenceSession;

  private constructor(
    session: ort.InferenceSession,
    identity: ModelIdentity,
    threads: number,
  ) {
    this.#session = session;
    this.identity = identity;
    this.threads = threads;
    this.inputName = session.inputNames[0];
    this.outputName = session.outputNames[0];
  }

  /**
   * Loads the model at `path` with `threads` intra-op threads and scores one
   * blank image, so the first client does not pay for ONNX Runtime's lazy set-up.
   *
   * @throws {Error} saying what to do when the file is missing or not a ResNet-shaped model
   */
  static async load(path: string, threads: number): Promise<Classifier> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(
          `Cannot find the model file ${path}: run \`deno task model:fetch\` for the real ` +
            "weights or `deno task model:synthetic` for offline ones, or pass --model",
        );
      }
      throw error;
    }
    const identity = identifyModel(path, bytes);
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      // One image at a time runs its operators in order; a second pool would
      // only compete with the intra-op threads for the same cores.
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
    const classifier = new Classifier(session, identity, threads);
    const scores = await classifier.score(new Float32Array(TENSOR_LENGTH));
    if (scores.length !== CLASSES) {
      await session.release();
      throw new Error(
        `Cannot serve ${path}: it outputs ${scores.length} scores per image, expected ` +
          `${CLASSES} (an ImageNet classifier taking [N, 3, 224, 224])`,
      );
    }
    return classifier;
  }

  /** Scores one preprocessed image (float32 CHW, 3 x 224 x 224) and returns the logits. */
  async score(tensor: Float32Array): Promise<Float32Array> {
    const input = new ort.Tensor("float32", tensor, [1, 3, 224, 224]);
    const outputs = await this.#session.run({ [this.inputName]: input });
    return outputs[this.outputName].data as Float32Array;
  }

  /** Frees the session's native memory. */
  async close(): Promise<void> {
    await this.#session.release();
  }
}
