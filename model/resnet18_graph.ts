/**
 * The ResNet18 topology (He et al. 2015, torchvision layout) as an ONNX graph,
 * with each batch norm folded into the bias of the convolution before it:
 * conv 7x7/2 (64) + ReLU, max pool 3x3/2, four stages of two basic blocks at
 * 64, 128, 256 and 512 channels (stages 2-4 open with a stride-2 block whose
 * shortcut is a 1x1/2 convolution), global average pool, flatten and a
 * 512 -> 1000 fully connected layer. The values of the parameters come from the
 * caller, so the same graph serves synthetic and, in principle, real weights.
 *
 * @module
 */

import type { OnnxGraph, OnnxNode, OnnxTensor } from "./onnx_encode.ts";

/** Where a parameter sits, which decides how a weight initialiser scales it. */
export type ParameterRole =
  | "stem"
  | "block_first"
  | "block_second"
  | "shortcut"
  | "classifier";

/** What an initialiser is asked to fill. */
export interface ParameterSpec {
  /** Tensor name, e.g. `layer2.0.conv1.weight`. */
  name: string;
  dims: number[];
  kind: "weight" | "bias";
  role: ParameterRole;
  /** Inputs feeding one output value (in channels x kernel area, or features). */
  fanIn: number;
}

/** Returns the values of one parameter, `dims` multiplied out in length. */
export type ParameterInit = (spec: ParameterSpec) => Float32Array;

/** Names of the graph's input and output and their layout. */
export const RESNET18_IO = {
  input: "image",
  output: "logits",
  /** Symbolic batch dimension. */
  batch: "batch",
  channels: 3,
  size: 224,
  classes: 1000,
} as const;

const STAGES = [
  { channels: 64, stride: 1 },
  { channels: 128, stride: 2 },
  { channels: 256, stride: 2 },
  { channels: 512, stride: 2 },
];

/** Builds the ResNet18 graph, asking `init` for every parameter in graph order. */
export function buildResNet18Graph(init: ParameterInit): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const parameter = (spec: ParameterSpec): string => {
    const data = init(spec);
    initializers.push({ name: spec.name, dims: spec.dims, data });
    return spec.name;
  };
  const conv = (
    name: string,
    input: string,
    shape: { inC: number; outC: number; kernel: number; stride: number; role: ParameterRole },
  ): string => {
    const { inC, outC, kernel, stride, role } = shape;
    const fanIn = inC * kernel * kernel;
    const weight = parameter({
      name: `${name}.weight`,
      dims: [outC, inC, kernel, kernel],
      kind: "weight",
      role,
      fanIn,
    });
    const bias = parameter({ name: `${name}.bias`, dims: [outC], kind: "bias", role, fanIn });
    const pad = Math.floor(kernel / 2);
    nodes.push({
      opType: "Conv",
      name,
      inputs: [input, weight, bias],
      outputs: [name],
      attributes: {
        kernel_shape: [kernel, kernel],
        strides: [stride, stride],
        pads: [pad, pad, pad, pad],
      },
    });
    return name;
  };
  const relu = (name: string, input: string): string => {
    nodes.push({ opType: "Relu", name, inputs: [input], outputs: [name] });
    return name;
  };

  const stem = conv("conv1", RESNET18_IO.input, {
    inC: 3,
    outC: 64,
    kernel: 7,
    stride: 2,
    role: "stem",
  });
  let x = relu("relu", stem);
  nodes.push({
    opType: "MaxPool",
    name: "maxpool",
    inputs: [x],
    outputs: ["maxpool"],
    attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  });
  x = "maxpool";

  let inC = 64;
  STAGES.forEach(({ channels, stride }, stageIndex) => {
    for (let block = 0; block < 2; block++) {
      const prefix = `layer${stageIndex + 1}.${block}`;
      const blockStride = block === 0 ? stride : 1;
      const first = conv(`${prefix}.conv1`, x, {
        inC,
        outC: channels,
        kernel: 3,
        stride: blockStride,
        role: "block_first",
      });
      const second = conv(`${prefix}.conv2`, relu(`${prefix}.relu1`, first), {
        inC: channels,
        outC: channels,
        kernel: 3,
        stride: 1,
        role: "block_second",
      });
      const shortcut = blockStride !== 1 || inC !== channels
        ? conv(`${prefix}.downsample`, x, {
          inC,
          outC: channels,
          kernel: 1,
          stride: blockStride,
          role: "shortcut",
        })
        : x;
      nodes.push({
        opType: "Add",
        name: `${prefix}.add`,
        inputs: [second, shortcut],
        outputs: [`${prefix}.add`],
      });
      x = relu(`${prefix}.relu2`, `${prefix}.add`);
      inC = channels;
    }
  });

  nodes.push({ opType: "GlobalAveragePool", name: "avgpool", inputs: [x], outputs: ["avgpool"] });
  nodes.push({
    opType: "Flatten",
    name: "flatten",
    inputs: ["avgpool"],
    outputs: ["flatten"],
    attributes: { axis: 1 },
  });
  const fcWeight = parameter({
    name: "fc.weight",
    dims: [RESNET18_IO.classes, 512],
    kind: "weight",
    role: "classifier",
    fanIn: 512,
  });
  const fcBias = parameter({
    name: "fc.bias",
    dims: [RESNET18_IO.classes],
    kind: "bias",
    role: "classifier",
    fanIn: 512,
  });
  nodes.push({
    opType: "Gemm",
    name: "fc",
    inputs: ["flatten", fcWeight, fcBias],
    outputs: [RESNET18_IO.output],
    attributes: { transB: 1 },
  });

  const { batch, channels, size, classes } = RESNET18_IO;
  return {
    name: "resnet18",
    nodes,
    initializers,
    inputs: [{ name: RESNET18_IO.input, shape: [batch, channels, size, size] }],
    outputs: [{ name: RESNET18_IO.output, shape: [batch, classes] }],
  };
}
