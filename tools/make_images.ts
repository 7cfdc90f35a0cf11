/**
 * Draws the sample images in `images/`: gradients, shapes and seeded noise, as
 * JPEG and PNG, in the sizes clients send. They exercise decoding, resizing and
 * cropping; they are not photos, so their predictions mean nothing. Output is
 * deterministic, so rerunning the tool leaves git with nothing to commit.
 *
 * Usage: `deno task images:make [--out DIR]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Image } from "imagescript";
import { createLogger } from "@common/log.ts";
import { seededUniform } from "../common/seeded.ts";

/** Largest file the tool accepts, in bytes: the samples must stay light in git. */
const MAX_BYTES = 60 * 1024;

type Rgb = [number, number, number];

/** One sample: its file name, size, format and how its pixels are drawn. */
interface Sample {
  name: string;
  width: number;
  height: number;
  format: "jpeg" | "png";
  paint: (image: Image) => void;
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)) as Rgb;
}

function putPixel(image: Image, x: number, y: number, [r, g, b]: Rgb): void {
  const at = (y * image.width + x) * 4;
  image.bitmap[at] = r;
  image.bitmap[at + 1] = g;
  image.bitmap[at + 2] = b;
  image.bitmap[at + 3] = 255;
}

/** Fills the image with a gradient from `from` to `to` along the angle in degrees. */
function gradient(image: Image, from: Rgb, to: Rgb, degrees: number): void {
  const dx = Math.cos((degrees * Math.PI) / 180);
  const dy = Math.sin((degrees * Math.PI) / 180);
  const span = Math.abs(dx) * image.width + Math.abs(dy) * image.height;
  const origin = Math.min(0, dx * image.width) + Math.min(0, dy * image.height);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      putPixel(image, x, y, mix(from, to, (x * dx + y * dy - origin) / span));
    }
  }
}

/** Adds uniform noise of +-`amount` to every channel. */
function noise(image: Image, amount: number, seed: number): void {
  const random = seededUniform(seed);
  const { bitmap } = image;
  for (let i = 0; i < bitmap.length; i += 4) {
    for (let c = 0; c < 3; c++) bitmap[i + c] += (random() * 2 - 1) * amount;
  }
}

function color([r, g, b]: Rgb): number {
  return Image.rgbaToColor(r, g, b, 255);
}

const SAMPLES: Sample[] = [
  {
    name: "gradient-circles-640x480.jpg",
    width: 640,
    height: 480,
    format: "jpeg",
    paint: (image) => {
      gradient(image, [20, 40, 120], [240, 180, 60], 30);
      image.drawCircle(200, 240, 110, color([250, 250, 245]));
      image.drawCircle(430, 200, 70, color([200, 30, 40]));
    },
  },
  {
    name: "noise-portrait-300x500.jpg",
    width: 300,
    height: 500,
    format: "jpeg",
    paint: (image) => {
      gradient(image, [30, 110, 60], [200, 220, 240], 90);
      noise(image, 14, 7);
    },
  },
  {
    name: "shapes-224x224.png",
    width: 224,
    height: 224,
    format: "png",
    paint: (image) => {
      image.fill(color([235, 235, 225]));
      image.drawBox(20, 30, 90, 60, color([40, 90, 200]));
      image.drawBox(120, 120, 80, 80, color([230, 140, 20]));
      image.drawCircle(70, 160, 40, color([30, 150, 70]));
    },
  },
  {
    name: `it's a "test" image.png`,
    width: 320,
    height: 240,
    format: "png",
    paint: (image) => {
      image.fill(color([250, 245, 230]));
      for (let i = 0; i < 8; i++) {
        image.drawBox(i * 40, 0, 20, 240, color(mix([200, 20, 60], [20, 60, 200], i / 7)));
      }
      image.drawCircle(160, 120, 60, color([255, 215, 0]));
    },
  },
  {
    name: "stripes and noise 500x300.jpg",
    width: 500,
    height: 300,
    format: "jpeg",
    paint: (image) => {
      gradient(image, [90, 20, 110], [250, 120, 80], 0);
      for (let y = 0; y < 300; y += 50) image.drawBox(0, y, 500, 18, color([15, 15, 25]));
      noise(image, 12, 42);
    },
  },
  {
    name: "café-rings-256.png",
    width: 256,
    height: 256,
    format: "png",
    paint: (image) => {
      image.fill(color([245, 240, 235]));
      const rings: Rgb[] = [[110, 60, 30], [200, 150, 100], [90, 50, 20], [240, 220, 190]];
      rings.forEach((ring, i) => image.drawCircle(128, 128, 110 - i * 25, color(ring)));
    },
  },
];

/**
 * Draws every sample into `dir`, replacing files of the same name.
 *
 * @returns the written files with their sizes in bytes
 * @throws {RangeError} when a sample encodes larger than 60 KB
 */
export async function makeImages(dir: string): Promise<{ name: string; bytes: number }[]> {
  await Deno.mkdir(dir, { recursive: true });
  const written = [];
  for (const sample of SAMPLES) {
    const image = new Image(sample.width, sample.height);
    sample.paint(image);
    // A fixed creation time: imagescript stamps PNGs with the current time otherwise.
    const data = sample.format === "jpeg"
      ? await image.encodeJPEG(80)
      : await image.encode(9, { creationTime: 0, software: "tools/make_images.ts" });
    if (data.length > MAX_BYTES) {
      throw new RangeError(
        `Cannot keep sample ${sample.name}: expected at most ${MAX_BYTES} bytes, ` +
          `got ${data.length}`,
      );
    }
    await Deno.writeFile(`${dir}/${sample.name}`, data);
    written.push({ name: sample.name, bytes: data.length });
  }
  return written;
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { out: { type: "string" } } });
  const logger = createLogger({ component: "make_images" });
  const dir = values.out ?? new URL("../images", import.meta.url).pathname;
  for (const file of await makeImages(dir)) logger.info("wrote", { dir, ...file });
}
