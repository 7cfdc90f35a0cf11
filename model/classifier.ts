/**
 * The model as the service sees it: scores preprocessed images and says what
 * it is. The ONNX Runtime session itself lives in a worker (see
 * `inference_worker.ts`), so inference never blocks the event loop.
 *
 * @module
 */

import { TENSOR_LENGTH } from "./preprocess.ts";
import { identifyModel, type ModelIdentity } from "./model_identity.ts";
import type { WorkerReply, WorkerRequest } from "./inference_protocol.ts";

/** Number of classes the output must hold. */
export const CLASSES = 1000;

/** A loaded model, ready to score preprocessed images. */
export class Classifier {
  readonly identity: ModelIdentity;
  readonly inputName: string;
  readonly outputName: string;
  readonly threads: number;
  readonly #worker: Worker;
  readonly #pending = new Map<number, PromiseWithResolvers<Float32Array>>();
  #nextId = 0;
  #failure: Error | undefined;
  #closed: PromiseWithResolvers<void> | undefined;

  private constructor(
    worker: Worker,
    identity: ModelIdentity,
    threads: number,
    names: { input: string; output: string },
  ) {
    this.#worker = worker;
    this.identity = identity;
    this.threads = threads;
    this.inputName = names.input;
    this.outputName = names.output;
    worker.onmessage = (event: MessageEvent<WorkerReply>) => this.#receive(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`the inference worker failed: ${event.message}`));
    };
  }

  /**
   * Loads the model at `path` with `threads` intra-op threads and scores one
   * blank image, so the first client does not pay for ONNX Runtime's lazy set-up.
   *
   * @throws {Error} saying what to do when the file is missing or not a ResNet-shaped model
   */
  static async load(path: string, threads: number): Promise<Classifier> {
    let identity: ModelIdentity;
    try {
      identity = await identifyModel(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(
          `Cannot find the model file ${path}: run \`deno task model:fetch\` for the real ` +
            "weights or `deno task model:synthetic` for offline ones, or pass --model",
        );
      }
      throw new Error(`Cannot read ${path} as an ONNX model: ${(error as Error).message}`);
    }

    const worker = new Worker(new URL("./inference_worker.ts", import.meta.url), {
      type: "module",
    });
    const loaded = Promise.withResolvers<{ input: string; output: string }>();
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      if (reply.kind === "loaded") loaded.resolve(reply);
      else if (reply.kind === "error") loaded.reject(new Error(reply.message));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      loaded.reject(new Error(event.message));
    };
    worker.postMessage({ kind: "load", path, threads } satisfies WorkerRequest);
    let names;
    try {
      names = await loaded.promise;
    } catch (error) {
      worker.terminate();
      throw new Error(`Cannot load ${path} into ONNX Runtime: ${(error as Error).message}`);
    }

    const classifier = new Classifier(worker, identity, threads, names);
    let scores: Float32Array;
    try {
      scores = await classifier.score(new Float32Array(TENSOR_LENGTH));
    } catch (error) {
      await classifier.close();
      throw new Error(
        `Cannot serve ${path}: it does not take one [N, 3, 224, 224] float image ` +
          `(${(error as Error).message})`,
      );
    }
    if (scores.length !== CLASSES) {
      await classifier.close();
      throw new Error(
        `Cannot serve ${path}: it outputs ${scores.length} scores per image, expected ` +
          `${CLASSES} (an ImageNet classifier taking [N, 3, 224, 224])`,
      );
    }
    return classifier;
  }

  /**
   * Scores one preprocessed image (float32 CHW, 3 x 224 x 224) and returns the
   * logits. The tensor's buffer is handed to the worker: do not reuse it.
   */
  score(tensor: Float32Array): Promise<Float32Array> {
    return this.scoreBatch(tensor, 1);
  }

  /**
   * Scores `count` preprocessed images laid end to end in `tensors` and
   * returns their logits end to end (`count` x 1000). The buffer is handed
   * to the worker.
   */
  scoreBatch(tensors: Float32Array, count: number): Promise<Float32Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const result = Promise.withResolvers<Float32Array>();
    this.#pending.set(id, result);
    const request: WorkerRequest = { kind: "run", id, tensors, count };
    this.#worker.postMessage(request, [tensors.buffer as ArrayBuffer]);
    return result.promise;
  }

  /** Images handed to the worker and not answered yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Releases the session and ends the worker. */
  async close(): Promise<void> {
    if (this.#failure) return this.#worker.terminate();
    this.#closed ??= Promise.withResolvers<void>();
    this.#worker.postMessage({ kind: "close" } satisfies WorkerRequest);
    await this.#closed.promise;
    this.#worker.terminate();
  }

  #receive(reply: WorkerReply): void {
    switch (reply.kind) {
      case "result":
        this.#pending.get(reply.id)?.resolve(reply.logits);
        this.#pending.delete(reply.id);
        break;
      case "error":
        if (reply.id === undefined) {
          this.#fail(new Error(reply.message));
        } else {
          this.#pending.get(reply.id)?.reject(new Error(reply.message));
          this.#pending.delete(reply.id);
        }
        break;
      case "closed":
        this.#closed?.resolve();
        break;
    }
  }

  // A dead worker fails every image in it and every later one; the process
  // keeps serving errors (and /healthz) rather than hanging requests.
  #fail(error: Error): void {
    this.#failure = error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#closed?.resolve();
  }
}
