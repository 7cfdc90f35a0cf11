import assert from "node:assert/strict";
import { join } from "node:path";
import { chooseDecoder } from "./choose_decoder.ts";
import { decodeImage } from "./decode.ts";
import {
  CROP,
  cropOffset,
  MEAN,
  preprocess,
  resizedSize,
  STD,
  TENSOR_LENGTH,
} from "./preprocess.ts";
import { sharedImages } from "@common/shared_images.ts";

function solid(width: number, height: number, rgb: [number, number, number]) {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([...rgb, 255], i * 4);
  return { width, height, channels: 4 as const, data: rgba };
}

Deno.test("resizedSize makes the shorter side 256 and truncates the longer", () => {
  assert.deepEqual(resizedSize(500, 375), { width: 341, height: 256 });
  assert.deepEqual(resizedSize(375, 500), { width: 256, height: 341 });
  assert.deepEqual(resizedSize(2000, 20), { width: 25600, height: 256 });
  assert.deepEqual(resizedSize(1, 1), { width: 256, height: 256 });
});

Deno.test("cropOffset rounds half to even, as Python's round does", () => {
  assert.equal(cropOffset(256), 16);
  assert.equal(cropOffset(341), 58); // 58.5 -> 58
  assert.equal(cropOffset(343), 60); // 59.5 -> 60
  assert.equal(cropOffset(224), 0);
});

Deno.test("preprocess maps a solid colour to its normalised value everywhere", () => {
  const tensor = preprocess(solid(300, 200, [255, 128, 0]));
  assert.equal(tensor.length, TENSOR_LENGTH);
  const plane = CROP * CROP;
  const expected = [255, 128, 0].map((v, c) => (v / 255 - MEAN[c]) / STD[c]);
  for (const c of [0, 1, 2]) {
    for (const i of [0, 1234, plane - 1]) {
      assert.ok(Math.abs(tensor[c * plane + i] - expected[c]) < 1e-6, `channel ${c} at ${i}`);
    }
  }
});

Deno.test("preprocess keeps the left half left and the top half top (CHW, no flips)", () => {
  // Left half white, right half black; top rows red, bottom rows not.
  const pixels = solid(400, 400, [0, 0, 0]);
  for (let y = 0; y < 400; y++) {
    for (let x = 0; x < 200; x++) pixels.data.set([255, 255, 255], (y * 400 + x) * 4 + 0);
  }
  const tensor = preprocess(pixels);
  const green = CROP * CROP;
  assert.ok(tensor[green + 10 * CROP + 5] > 2, "left is white");
  assert.ok(tensor[green + 10 * CROP + 220] < -1.5, "right is black");
});

Deno.test("preprocess of an upscaled 1x1 image is that pixel everywhere", () => {
  const tensor = preprocess(solid(1, 1, [10, 20, 30]));
  assert.ok(Math.abs(tensor[0] - (10 / 255 - MEAN[0]) / STD[0]) < 1e-6);
  assert.ok(Math.abs(tensor[TENSOR_LENGTH - 1] - (30 / 255 - MEAN[2]) / STD[2]) < 1e-6);
});

const PYTHON = "/usr/bin/python3";
// One Python process for every photo: importing torch takes seconds.
const REFERENCE = `
import sys
from PIL import Image, ImageOps
import torchvision.transforms as T
transform = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
out = sys.argv[1]
for i, path in enumerate(sys.argv[2:]):
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    transform(image).numpy().astype("<f4").tofile(f"{out}/{i}.bin")
`;

async function referenceAvailable(): Promise<boolean> {
  try {
    const probe = await new Deno.Command(PYTHON, {
      args: ["-c", "import PIL, torchvision"],
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.success;
  } catch {
    return false;
  }
}

const available = await referenceAvailable();
for (const engine of ["sharp", "imagescript"] as const) {
  Deno.test({
    name: `preprocess with ${engine} matches Pillow + torchvision on the sample photos`,
    ignore: !available,
    async fn() {
      const { decoder } = await chooseDecoder(engine);
      const dir = await Deno.makeTempDir({ prefix: "preprocess-ref-" });
      const photos = join(sharedImages(), "imagenet-sample");
      const names = [...Deno.readDirSync(photos)].map((e) => e.name).sort();
      // Every third photo keeps the test short; the photo with EXIF orientation 6 is included.
      const chosen = names.filter((name, i) => i % 3 === 0 || name.includes("can_opener"));
      try {
        const run = await new Deno.Command(PYTHON, {
          args: ["-c", REFERENCE, dir, ...chosen.map((name) => join(photos, name))],
        }).output();
        assert.ok(run.success, new TextDecoder().decode(run.stderr));
        for (const [i, name] of chosen.entries()) {
          const reference = new Float32Array((await Deno.readFile(join(dir, `${i}.bin`))).buffer);
          const ours = preprocess(
            await decodeImage(await Deno.readFile(join(photos, name)), 4e7, decoder),
          );
          let sum = 0;
          let max = 0;
          for (let i = 0; i < TENSOR_LENGTH; i++) {
            const difference = Math.abs(ours[i] - reference[i]);
            sum += difference;
            max = Math.max(max, difference);
          }
          assert.ok(sum / TENSOR_LENGTH < 0.01, `${name}: mean difference ${sum / TENSOR_LENGTH}`);
          assert.ok(max < 0.1, `${name}: largest difference ${max}`);
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
