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

/** How images are grouped into one ONNX Runtime run. */
export interface BatchOptions {
  /**
   * Most images in one run. Images that arrive while a run is going are
   * scored together in the next one; 1 scores each image alone. @default 1
   */
  maxBatch?: number;
  /** Called with the size of every run, for metrics. */
  onBatch?: (size: number) => void;
}

interface Waiting {
  tensor: Float32Array;
  result: PromiseWithResolvers<Float32Array>;
}

/** A loaded model, ready to score preprocessed images. */
export class Classifier {
  readonly identity: ModelIdentity;
  readonly inputName: string;
  readonly outputName: string;
  readonly threads: number;
  readonly #worker: Worker;
  readonly #pending = new Map<number, PromiseWithResolvers<Float32Array>>();
  #nextId = 0;
  readonly #maxBatch: number;
  readonly #onBatch?: (size: number) => void;
  #waiting: Waiting[] = [];
  #running = false;
  #failure: Error | undefined;
  #closed: PromiseWithResolvers<void> | undefined;

  private constructor(
    worker: Worker,
    identity: ModelIdentity,
    threads: number,
    names: { input: string; output: string },
    batch: BatchOptions,
  ) {
    this.#worker = worker;
    this.#maxBatch = batch.maxBatch ?? 1;
    this.#onBatch = batch.onBatch;
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
  static async load(
    path: string,
    threads: number,
    batch: BatchOptions = {},
  ): Promise<Classifier> {
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

    const classifier = new Classifier(worker, identity, threads, names, batch);
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
   * logits. The tensor's buffer may be handed to the worker: do not reuse it.
   *
   * Images never wait for company: one that finds the model idle runs at once,
   * alone. Under load, those that arrive during a run go together into the
   * next one, which costs ONNX Runtime less per image.
   */
  score(tensor: Float32Array): Promise<Float32Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    const result = Promise.withResolvers<Float32Array>();
    this.#waiting.push({ tensor, result });
    this.#pump();
    return result.promise;
  }

  /**
   * Scores `count` preprocessed images laid end to end in `tensors` in one
   * run, outside the batching of {@linkcode score} (for benchmarks), and
   * returns their logits end to end. The buffer is handed to the worker.
   */
  scoreBatch(tensors: Float32Array, count: number): Promise<Float32Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    return this.#run(tensors, count);
  }

  async #pump(): Promise<void> {
    if (this.#running || this.#waiting.length === 0) return;
    this.#running = true;
    const batch = this.#waiting.splice(0, this.#maxBatch);
    try {
      let tensors = batch[0].tensor;
      if (batch.length > 1) {
        tensors = new Float32Array(TENSOR_LENGTH * batch.length);
        batch.forEach((item, i) => tensors.set(item.tensor, i * TENSOR_LENGTH));
      }
      this.#onBatch?.(batch.length);
      const logits = await this.#run(tensors, batch.length);
      const each = logits.length / batch.length;
      batch.forEach((item, i) => item.result.resolve(logits.slice(i * each, (i + 1) * each)));
    } catch (error) {
      for (const item of batch) item.result.reject(error);
    } finally {
      this.#running = false;
      this.#pump();
    }
  }

  #run(tensors: Float32Array, count: number): Promise<Float32Array> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const result = Promise.withResolvers<Float32Array>();
    this.#pending.set(id, result);
    const request: WorkerRequest = { kind: "run", id, tensors, count };
    this.#worker.postMessage(request, [tensors.buffer as ArrayBuffer]);
    return result.promise;
  }

  /** Asks the worker's isolate for a garbage collection (see `memory_trim.ts`). */
  collectGarbage(): void {
    if (!this.#failure) this.#worker.postMessage({ kind: "collect" } satisfies WorkerRequest);
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
    for (const item of this.#waiting.splice(0)) item.result.reject(error);
    this.#closed?.resolve();
  }
}
