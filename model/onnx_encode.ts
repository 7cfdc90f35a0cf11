/**
 * Encodes the subset of ONNX's protobuf schema (onnx.proto, IR version 8) that a
 * float32 convolutional network needs: ModelProto, GraphProto, NodeProto,
 * AttributeProto (ints), TensorProto (raw_data) and ValueInfoProto. Field numbers
 * are those of onnx.proto; repeated scalars are written unpacked, as proto2 does.
 *
 * @module
 */

import { ProtoWriter } from "./protobuf_writer.ts";

/** ONNX TensorProto.DataType of float32. */
const FLOAT = 1;
/** ONNX AttributeProto.AttributeType of a list of integers. */
const ATTRIBUTE_INTS = 7;
/** ONNX AttributeProto.AttributeType of one integer. */
const ATTRIBUTE_INT = 2;

/** One operator of the graph. */
export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Integer and integer-list attributes, e.g. `{ strides: [2, 2], axis: 1 }`. */
  attributes?: Record<string, number | number[]>;
}

/** A float32 constant (weights or biases). */
export interface OnnxTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

/** A graph input or output; a string dimension is symbolic (e.g. the batch size). */
export interface OnnxValueInfo {
  name: string;
  shape: (number | string)[];
}

/** A whole computation graph. */
export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

/** A model file's contents. */
export interface OnnxModel {
  /** ONNX IR version. @default 8 */
  irVersion?: number;
  /** Version of the default operator set. @default 13 */
  opsetVersion?: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: OnnxGraph;
  /** Free-form key/value pairs stored as `metadata_props`. */
  metadata?: Record<string, string>;
}

/** Serialises `model` to the bytes of an `.onnx` file. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const { irVersion = 8, opsetVersion = 13 } = model;
  const out = new ProtoWriter()
    .uint(1, irVersion)
    .string(2, model.producerName)
    .string(3, model.producerVersion);
  if (model.docString) out.string(6, model.docString);
  out.message(7, encodeGraph(model.graph));
  out.message(8, new ProtoWriter().string(1, "").uint(2, opsetVersion));
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    out.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return out.finish();
}

function encodeGraph(graph: OnnxGraph): ProtoWriter {
  const out = new ProtoWriter();
  for (const node of graph.nodes) out.message(1, encodeNode(node));
  out.string(2, graph.name);
  for (const tensor of graph.initializers) out.message(5, encodeTensor(tensor));
  for (const input of graph.inputs) out.message(11, encodeValueInfo(input));
  for (const output of graph.outputs) out.message(12, encodeValueInfo(output));
  return out;
}

function encodeNode(node: OnnxNode): ProtoWriter {
  const out = new ProtoWriter();
  for (const input of node.inputs) out.string(1, input);
  for (const output of node.outputs) out.string(2, output);
  out.string(3, node.name).string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    const attribute = new ProtoWriter().string(1, name);
    if (Array.isArray(value)) {
      for (const item of value) attribute.uint(8, item);
      attribute.uint(20, ATTRIBUTE_INTS);
    } else {
      attribute.uint(3, value).uint(20, ATTRIBUTE_INT);
    }
    out.message(5, attribute);
  }
  return out;
}

function encodeTensor(tensor: OnnxTensor): ProtoWriter {
  const count = tensor.dims.reduce((product, dim) => product * dim, 1);
  if (count !== tensor.data.length) {
    throw new RangeError(
      `Cannot encode tensor ${tensor.name}: dims ${tensor.dims.join("x")} hold ${count} ` +
        `values, got ${tensor.data.length}`,
    );
  }
  const out = new ProtoWriter();
  for (const dim of tensor.dims) out.uint(1, dim);
  out.uint(2, FLOAT).string(8, tensor.name).bytes(9, littleEndianBytes(tensor.data));
  return out;
}

function encodeValueInfo(info: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const dim of info.shape) {
    const dimension = new ProtoWriter();
    if (typeof dim === "string") dimension.string(2, dim);
    else dimension.uint(1, dim);
    shape.message(1, dimension);
  }
  const tensorType = new ProtoWriter().uint(1, FLOAT).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, info.name).message(2, type);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ONNX raw_data is little-endian whatever the machine; only a big-endian host
// pays for a copy.
function littleEndianBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  data.forEach((value, index) => view.setFloat32(index * 4, value, true));
  return bytes;
}
