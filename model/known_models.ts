/**
 * Model files whose exact bytes are published, so a download can be verified
 * before it is used. Figures from the ONNX Model Zoo (see shared/models.md).
 *
 * @module
 */

/** A published model file. */
export interface KnownModel {
  /** Name used in logs. */
  name: string;
  /** File name the tasks save it under, inside `models/`. */
  fileName: string;
  url: string;
  /** Exact size in bytes. */
  bytes: number;
  /** SHA-256 of the file, 64 lowercase hex digits. */
  sha256: string;
}

// Split only to respect the 100-column limit.
const ZOO_RESNET = "https://github.com/onnx/models/raw/main/" +
  "validated/vision/classification/resnet/model/";

/** ResNet18 v1, opset 7, trained on ImageNet-1k (top-1 69.93 %): the weights the service wants. */
export const RESNET18_V1: KnownModel = {
  name: "resnet18-v1-7",
  fileName: "resnet18-v1-7.onnx",
  url: `${ZOO_RESNET}resnet18-v1-7.onnx`,
  bytes: 46_820_737,
  sha256: "4e8f8653e7a2222b3904cc3fe8e304cd8b339ce1d05fd24688162f86fb6df52c",
};
