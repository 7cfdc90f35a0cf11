/**
 * Which weights a model file holds, told from the file itself: the synthetic
 * builder marks its files in the ONNX metadata, and the real weights are known
 * by their SHA-256. Anything else is reported as `custom`.
 *
 * @module
 */

import { basename } from "node:path";
import { readOnnxMetadataFile } from "./onnx_metadata_file.ts";
import { SYNTHETIC_MARK } from "./synthetic_model.ts";
import { RESNET18_V1 } from "./known_models.ts";
import { sha256File } from "./sha256.ts";

/** What the service reports about the model it serves. */
export interface ModelIdentity {
  /** File name without `.onnx`, e.g. `resnet18-v1-7`. */
  name: string;
  /** `pretrained` (a known published file), `synthetic` (meaningless) or `custom`. */
  weights: "pretrained" | "synthetic" | "custom";
  sha256: string;
  path: string;
  bytes: number;
}

/**
 * Tells what the model file at `path` holds, reading it as a stream (the
 * service never keeps a copy of the weights besides ONNX Runtime's).
 */
export async function identifyModel(path: string): Promise<ModelIdentity> {
  const { sha256, bytes } = await sha256File(path);
  const name = basename(path).replace(/\.onnx$/i, "");
  let weights: ModelIdentity["weights"] = "custom";
  if ((await readOnnxMetadataFile(path))[SYNTHETIC_MARK.key] === SYNTHETIC_MARK.value) {
    weights = "synthetic";
  } else if (sha256 === RESNET18_V1.sha256) {
    weights = "pretrained";
  }
  return { name, weights, sha256, path, bytes };
}
