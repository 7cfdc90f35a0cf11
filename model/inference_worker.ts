/**
 * The Web Worker that owns the ONNX Runtime session. onnxruntime-node runs a
 * session synchronously on the calling thread; on the main thread every image
 * would freeze the event loop for the whole inference (20-40 ms), and
 * `/healthz` would queue behind the images. Here it blocks only this worker,
 * which also runs one image at a time, so the intra-op threads never compete
 * with a second inference for the cores.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import * as ort from "onnxruntime-node";
import type { WorkerReply, WorkerRequest } from "./inference_protocol.ts";
import { bindCollectGarbage } from "./memory_trim.ts";

let session: ort.InferenceSession | undefined;
const collectGarbage = bindCollectGarbage();

function reply(message: WorkerReply, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  try {
    switch (request.kind) {
      case "load": {
        session = await ort.InferenceSession.create(request.path, {
          intraOpNumThreads: request.threads,
          // One image at a time runs its operators in order; a second pool
          // would only compete with the intra-op threads for the same cores.
          interOpNumThreads: 1,
          executionMode: "sequential",
          graphOptimizationLevel: "all",
        });
        reply({ kind: "loaded", input: session.inputNames[0], output: session.outputNames[0] });
        break;
      }
      case "run": {
        if (!session) throw new Error("no model is loaded");
        const [input, output] = [session.inputNames[0], session.outputNames[0]];
        const tensor = new ort.Tensor("float32", request.tensors, [request.count, 3, 224, 224]);
        const logits = (await session.run({ [input]: tensor }))[output].data as Float32Array;
        reply({ kind: "result", id: request.id, logits }, [logits.buffer as ArrayBuffer]);
        break;
      }
      case "collect":
        collectGarbage?.();
        break;
      case "close":
        await session?.release();
        session = undefined;
        reply({ kind: "closed" });
        self.close();
        break;
    }
  } catch (error) {
    const id = request.kind === "run" ? request.id : undefined;
    reply({ kind: "error", id, message: (error as Error).message });
  }
};
