/**
 * Builds a ResNet18 ONNX file with deterministic pseudo-random weights: it
 * costs exactly what the real model costs to run, and its predictions mean
 * nothing. The file says so in its `metadata_props` (`weights=synthetic`).
 *
 * @module
 */

import { encodeModel } from "./onnx_encode.ts";
import { buildResNet18Graph, type ParameterSpec } from "./resnet18_graph.ts";
import { SeededRandom } from "./seeded_random.ts";

/** Seed used when none is given. @default 20240607 */
export const DEFAULT_SEED = 20240607;

/** Metadata key and value that mark a synthetic model file. */
export const SYNTHETIC_MARK = { key: "weights", value: "synthetic" } as const;

/** Options of {@linkcode buildSyntheticResNet18}. */
export interface SyntheticOptions {
  /** Seed of the weights; any 32-bit integer. @default DEFAULT_SEED */
  seed?: number;
  /** Called after each parameter tensor with counts of values done and in total. */
  onProgress?: (done: number, total: number) => void;
}

/** The built model. */
export interface SyntheticModel {
  bytes: Uint8Array;
  /** Number of parameters (weights and biases). */
  parameters: number;
  seed: number;
}

/** Total parameters of ResNet18 with batch norm folded into conv biases. */
export const RESNET18_PARAMETERS = 11_684_712;

// Why these scales: without batch norm nothing re-centres the activations, so
// the weights must. Convolutions feeding a ReLU get He scaling (std
// sqrt(2 / fan_in)), which keeps the signal's magnitude through the ReLU. The
// second convolution of each block is damped so that eight residual additions
// do not compound the variance (each adds only DAMPING^2 of it). The shortcut
// convolutions are linear (std sqrt(1 / fan_in)).
const DAMPING = 0.7;
const BIAS_STD = 0.0;
const CLASSIFIER_GAIN = 8;

function scale(spec: ParameterSpec): number {
  if (spec.kind === "bias") return BIAS_STD;
  const he = Math.sqrt(2 / spec.fanIn);
  switch (spec.role) {
    case "stem":
    case "block_first":
      return he;
    case "block_second":
      return he * DAMPING;
    case "shortcut":
      return Math.sqrt(1 / spec.fanIn);
    case "classifier":
      return CLASSIFIER_GAIN * Math.sqrt(1 / spec.fanIn);
  }
}

/** Builds the synthetic ResNet18 and serialises it. Same seed, same bytes. */
export function buildSyntheticResNet18(options: SyntheticOptions = {}): SyntheticModel {
  const { seed = DEFAULT_SEED, onProgress } = options;
  const random = new SeededRandom(seed);
  let done = 0;
  const graph = buildResNet18Graph((spec) => {
    const count = spec.dims.reduce((product, dim) => product * dim, 1);
    const values = random.fillUniform(new Float32Array(count), scale(spec) * Math.sqrt(3));
    if (spec.kind === "weight" && spec.role !== "stem") centreOverInputs(values, spec.dims);
    done += count;
    onProgress?.(done, RESNET18_PARAMETERS);
    return values;
  });
  const bytes = encodeModel({
    producerName: "resnet18-synthetic",
    producerVersion: "1",
    docString: "ResNet18 topology with seeded random weights: its predictions mean nothing",
    graph,
    metadata: { [SYNTHETIC_MARK.key]: SYNTHETIC_MARK.value, seed: String(seed) },
  });
  return { bytes, parameters: done, seed };
}

// Subtracts, for every output and kernel position, the mean over input channels.
function centreOverInputs(values: Float32Array, dims: number[]): void {
  const [outputs, inputs] = dims;
  const area = dims.length === 4 ? dims[2] * dims[3] : 1;
  for (let o = 0; o < outputs; o++) {
    for (let k = 0; k < area; k++) {
      let sum = 0;
      for (let i = 0; i < inputs; i++) sum += values[(o * inputs + i) * area + k];
      const mean = sum / inputs;
      for (let i = 0; i < inputs; i++) values[(o * inputs + i) * area + k] -= mean;
    }
  }
}
