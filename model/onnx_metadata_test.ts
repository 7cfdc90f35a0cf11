import assert from "node:assert/strict";
import { encodeModel, type OnnxGraph } from "./onnx_encode.ts";
import { ProtoWriter } from "./protobuf_writer.ts";
import { readOnnxMetadata } from "./onnx_metadata.ts";

const TINY_GRAPH: OnnxGraph = {
  name: "tiny",
  nodes: [{ opType: "Relu", name: "relu", inputs: ["x"], outputs: ["y"] }],
  initializers: [{ name: "w", dims: [4], data: new Float32Array([1, 2, 3, 4]) }],
  inputs: [{ name: "x", shape: ["batch", 4] }],
  outputs: [{ name: "y", shape: ["batch", 4] }],
};

function tinyModel(metadata?: Record<string, string>): Uint8Array {
  return encodeModel({ producerName: "test", producerVersion: "0", graph: TINY_GRAPH, metadata });
}

Deno.test("readOnnxMetadata() returns every key/value pair written by encodeModel()", () => {
  const metadata = { weights: "synthetic", seed: "42", "note ü": "välue with spaces" };
  assert.deepEqual(readOnnxMetadata(tinyModel(metadata)), metadata);
});

Deno.test("readOnnxMetadata() returns an empty record for a model without metadata", () => {
  assert.deepEqual(readOnnxMetadata(tinyModel()), {});
});

Deno.test("readOnnxMetadata() skips top-level fields of every wire type", () => {
  const entry = new ProtoWriter().string(1, "weights").string(2, "real");
  const head = new ProtoWriter().uint(1, 8).float(99, 1.5).message(14, entry).finish();
  // ProtoWriter has no fixed64 writer: tag 98 * 8 + 1 as a two-byte varint, then 8 bytes.
  const tag = 98 * 8 + 1;
  const fixed64 = Uint8Array.from([0x80 | (tag & 0x7f), tag >> 7, 1, 2, 3, 4, 5, 6, 7, 8]);
  const bytes = new Uint8Array([...fixed64, ...head]);
  assert.deepEqual(readOnnxMetadata(bytes), { weights: "real" });
});

Deno.test("readOnnxMetadata() keeps the last value of a key written twice", () => {
  const first = new ProtoWriter().string(1, "weights").string(2, "real");
  const second = new ProtoWriter().string(1, "weights").string(2, "synthetic");
  const bytes = new ProtoWriter().message(14, first).message(14, second).finish();
  assert.deepEqual(readOnnxMetadata(bytes), { weights: "synthetic" });
});

Deno.test("readOnnxMetadata() rejects a truncated file with a SyntaxError", () => {
  const bytes = tinyModel({ weights: "synthetic" });
  assert.throws(
    () => readOnnxMetadata(bytes.subarray(0, bytes.length - 3)),
    (error: unknown) => {
      assert.ok(error instanceof SyntaxError);
      assert.match(error.message, /^Cannot read ONNX metadata: not a well-formed model file: /);
      assert.match(error.message, /runs past the end/);
      return true;
    },
  );
});

Deno.test("readOnnxMetadata() rejects a varint that never ends", () => {
  assert.throws(
    () => readOnnxMetadata(new Uint8Array([0x08, 0xff, 0xff])),
    /the data ends inside a varint/,
  );
});
