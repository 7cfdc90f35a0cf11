/**
 * Messages between the service and its inference worker.
 *
 * @module
 */

/** From the service to the worker. */
export type WorkerRequest =
  | { kind: "load"; path: string; threads: number }
  | { kind: "run"; id: number; tensors: Float32Array; count: number }
  | { kind: "collect" }
  | { kind: "close" };

/** From the worker to the service. */
export type WorkerReply =
  | { kind: "loaded"; input: string; output: string }
  | { kind: "result"; id: number; logits: Float32Array }
  | { kind: "error"; id?: number; message: string }
  | { kind: "closed" };
