import { sharedImages } from "@common/shared_images.ts";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { decode, Image } from "imagescript";
import { readOnnxMetadata } from "./onnx_metadata.ts";
import { sha256Hex } from "./sha256.ts";
import {
  buildSyntheticResNet18,
  DEFAULT_SEED,
  RESNET18_PARAMETERS,
  SYNTHETIC_MARK,
} from "./synthetic_model.ts";

const PHOTOS = `${sharedImages()}/imagenet-sample`;
const SIZE = 224;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

// Built once (about 0.3 s) and shared by every step.
const progress: [number, number][] = [];
const model = buildSyntheticResNet18({ onProgress: (done, total) => progress.push([done, total]) });

/** Photos as one normalised NCHW batch; squashed to 224 x 224, which suits a test of spread. */
async function photoBatch(names: string[]): Promise<Float32Array> {
  const plane = SIZE * SIZE;
  const batch = new Float32Array(names.length * 3 * plane);
  for (const [n, name] of names.entries()) {
    const image = await decode(await Deno.readFile(`${PHOTOS}/${name}`));
    assert.ok(image instanceof Image, `${name} is not a still image`);
    image.resize(SIZE, SIZE);
    for (let pixel = 0; pixel < plane; pixel++) {
      for (let c = 0; c < 3; c++) {
        const value = image.bitmap[pixel * 4 + c] / 255;
        batch[(n * 3 + c) * plane + pixel] = (value - MEAN[c]) / STD[c];
      }
    }
  }
  return batch;
}

function spread(values: Float32Array): number {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  return Math.sqrt(variance);
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) {
    if (values[index] > values[best]) best = index;
  }
  return best;
}

Deno.test("buildSyntheticResNet18() bytes and parameters", async (t) => {
  await t.step("gives identical bytes for the same seed", () => {
    const again = buildSyntheticResNet18({ seed: DEFAULT_SEED });
    assert.equal(model.seed, DEFAULT_SEED);
    assert.equal(sha256Hex(again.bytes), sha256Hex(model.bytes));
  });

  await t.step("gives different weights for a different seed", () => {
    const other = buildSyntheticResNet18({ seed: DEFAULT_SEED + 1 });
    assert.notEqual(sha256Hex(other.bytes), sha256Hex(model.bytes));
    // The seed is also in the metadata at the end; the weights in the middle must differ too.
    const middle = model.bytes.length >> 1;
    const window = (bytes: Uint8Array) => sha256Hex(bytes.subarray(middle, middle + 1_000_000));
    assert.notEqual(window(other.bytes), window(model.bytes));
  });

  await t.step("holds ResNet18's parameters, batch norm folded into conv biases", () => {
    // torchvision's resnet18 has 11,689,512 parameters, two per batch-norm channel;
    // folding keeps one (the bias). Batch-norm channels: stem 64, then per stage
    // four convolutions, plus a downsample in stages 2-4.
    const bnChannels = 64 + 4 * 64 + 5 * 128 + 5 * 256 + 5 * 512;
    assert.equal(RESNET18_PARAMETERS, 11_689_512 - bnChannels);
    assert.equal(model.parameters, RESNET18_PARAMETERS);
    // Every parameter is a float32 in the file; the rest is a few kilobytes of graph.
    const overhead = model.bytes.length - 4 * RESNET18_PARAMETERS;
    assert.ok(overhead > 0 && overhead < 64 * 1024, `overhead ${overhead} bytes`);
  });

  await t.step("reports progress up to every parameter", () => {
    assert.ok(progress.length > 10, `${progress.length} progress calls`);
    assert.deepEqual(progress.at(-1), [RESNET18_PARAMETERS, RESNET18_PARAMETERS]);
    for (let index = 1; index < progress.length; index++) {
      assert.ok(progress[index][0] > progress[index - 1][0]);
    }
  });

  await t.step("marks itself synthetic in metadata_props", () => {
    assert.deepEqual(readOnnxMetadata(model.bytes), {
      [SYNTHETIC_MARK.key]: SYNTHETIC_MARK.value,
      seed: String(DEFAULT_SEED),
    });
  });
});

Deno.test("buildSyntheticResNet18() in onnxruntime-node", async (t) => {
  const session = await ort.InferenceSession.create(model.bytes, { intraOpNumThreads: 2 });
  try {
    await t.step("has one float input [N, 3, 224, 224] and one output [N, 1000]", () => {
      assert.equal(session.inputMetadata.length, 1);
      assert.equal(session.outputMetadata.length, 1);
      const [input] = session.inputMetadata;
      const [output] = session.outputMetadata;
      assert.ok(input.isTensor && output.isTensor);
      assert.equal(input.type, "float32");
      assert.equal(output.type, "float32");
      assert.equal(typeof input.shape[0], "string", "batch dimension should be symbolic");
      assert.deepEqual(input.shape.slice(1), [3, SIZE, SIZE]);
      assert.equal(output.shape[0], input.shape[0]);
      assert.deepEqual(output.shape.slice(1), [1000]);
    });

    await t.step("gives distinct logits for distinct photos", async () => {
      const all = await Array.fromAsync(Deno.readDir(PHOTOS), (entry) => entry.name).catch(
        (error) => assert.fail(`Cannot list the sample photos in ${PHOTOS}: ${error.message}`),
      );
      all.sort();
      const names = all.filter((_, index) => index % 14 === 0);
      assert.ok(names.length >= 6, `only ${names.length} photos in ${PHOTOS}`);
      const input = new ort.Tensor("float32", await photoBatch(names), [
        names.length,
        3,
        SIZE,
        SIZE,
      ]);
      const result = await session.run({ [session.inputNames[0]]: input });
      const logits = result[session.outputNames[0]];
      assert.deepEqual(logits.dims, [names.length, 1000]);

      const data = logits.data as Float32Array;
      const rows = names.map((_, n) => data.subarray(n * 1000, (n + 1) * 1000));
      for (const [n, row] of rows.entries()) {
        assert.ok(row.every(Number.isFinite), `${names[n]}: non-finite logits`);
        assert.ok(spread(row) > 0.1, `${names[n]}: logits nearly constant`);
      }
      // Measured with the default seed: pairs differ on average by 0.6 to 1.3 times their
      // logits' spread, so a tenth of it still separates photos from a collapsed model.
      for (let a = 0; a < rows.length; a++) {
        for (let b = a + 1; b < rows.length; b++) {
          let difference = 0;
          for (let i = 0; i < 1000; i++) difference += Math.abs(rows[a][i] - rows[b][i]);
          const scale = (spread(rows[a]) + spread(rows[b])) / 2;
          assert.ok(
            difference / 1000 > 0.1 * scale,
            `${names[a]} and ${names[b]} give nearly the same logits`,
          );
        }
      }
      const topClasses = new Set(rows.map(argmax));
      assert.ok(topClasses.size >= 3, `${rows.length} photos share ${topClasses.size} top classes`);
    });
  } finally {
    await session.release();
  }
});
