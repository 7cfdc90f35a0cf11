import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeModel } from "./onnx_encode.ts";
import { readOnnxMetadata } from "./onnx_metadata.ts";
import { readOnnxMetadataFile } from "./onnx_metadata_file.ts";
import { testModelPath } from "./_test_model.ts";

Deno.test("readOnnxMetadataFile agrees with the in-memory reader on a real model", async () => {
  const path = await testModelPath();
  const fromFile = await readOnnxMetadataFile(path);
  assert.deepEqual(fromFile, readOnnxMetadata(await Deno.readFile(path)));
  assert.equal(fromFile.weights, "synthetic");
});

Deno.test("readOnnxMetadataFile reads a model without metadata and refuses garbage", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bare = join(dir, "bare.onnx");
    await Deno.writeFile(
      bare,
      encodeModel({
        producerName: "test",
        producerVersion: "1",
        docString: "",
        graph: { name: "g", nodes: [], initializers: [], inputs: [], outputs: [] },
        metadata: {},
      }),
    );
    assert.deepEqual(await readOnnxMetadataFile(bare), {});
    const garbage = join(dir, "garbage.onnx");
    await Deno.writeTextFile(garbage, "this is not a model at all");
    await assert.rejects(readOnnxMetadataFile(garbage), SyntaxError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
