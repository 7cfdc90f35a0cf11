import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadImages, sniffContentType } from "./images.ts";

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46]);
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]);
const text = (value: string) => new TextEncoder().encode(value);

async function withTempDir(use: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "loadtest_images_" });
  try {
    await use(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sniffContentType() goes by magic bytes", () => {
  assert.equal(sniffContentType(JPEG), "image/jpeg");
  assert.equal(sniffContentType(PNG), "image/png");
  assert.equal(sniffContentType(JPEG.subarray(0, 3)), "image/jpeg");
  assert.equal(sniffContentType(JPEG.subarray(0, 2)), undefined);
  assert.equal(sniffContentType(PNG.subarray(0, 7)), undefined);
  assert.equal(sniffContentType(new Uint8Array()), undefined);
  assert.equal(sniffContentType(text("GIF89a")), undefined);
  assert.equal(sniffContentType(text("<html>")), undefined);
});

Deno.test("loadImages() takes odd names as they are and sorts by code point", async () => {
  await withTempDir(async (dir) => {
    const files: Record<string, Uint8Array> = {
      "b with spaces.jpg": JPEG,
      'it\'s a "quoted" one.png': PNG,
      "café é 图像.jpeg": JPEG,
      "Zebra.png": PNG,
      // The name lies; the bytes decide.
      "really a png.txt": PNG,
    };
    for (const [name, bytes] of Object.entries(files)) {
      await Deno.writeFile(join(dir, name), bytes);
    }
    const { images, skipped } = await loadImages(dir);

    assert.deepEqual(images.map((image) => image.name), [
      "Zebra.png",
      "b with spaces.jpg",
      "café é 图像.jpeg",
      `it's a "quoted" one.png`,
      "really a png.txt",
    ]);
    assert.deepEqual(images.map((image) => image.contentType), [
      "image/png",
      "image/jpeg",
      "image/jpeg",
      "image/png",
      "image/png",
    ]);
    for (const image of images) assert.deepEqual(image.bytes, files[image.name]);
    assert.deepEqual(skipped, []);
  });
});

Deno.test("loadImages() skips other files with a reason and ignores subfolders", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(join(dir, "photo.jpg"), JPEG);
    await Deno.writeFile(join(dir, "README.md"), text("# notes\n"));
    await Deno.writeFile(join(dir, "fake.jpg"), text("not an image"));
    await Deno.writeFile(join(dir, "empty.png"), new Uint8Array());
    await Deno.writeFile(join(dir, "anim.gif"), text("GIF89a...."));
    await Deno.writeFile(join(dir, "pic.webp"), text("RIFF\0\0\0\0WEBPVP8 "));
    await Deno.mkdir(join(dir, "nested.jpg"));
    await Deno.writeFile(join(dir, "nested.jpg", "inner.jpg"), JPEG);
    await Deno.symlink(join(dir, "photo.jpg"), join(dir, "link to photo.jpg"));
    await Deno.symlink(join(dir, "gone.jpg"), join(dir, "dangling.jpg"));

    const { images, skipped } = await loadImages(dir);

    assert.deepEqual(images.map((image) => image.name), ["link to photo.jpg", "photo.jpg"]);
    assert.deepEqual(skipped, [
      { name: "README.md", reason: "neither JPEG nor PNG by its first bytes" },
      { name: "anim.gif", reason: "GIF image: only JPEG and PNG are sent" },
      { name: "dangling.jpg", reason: "symbolic link to nothing" },
      { name: "empty.png", reason: "empty file" },
      { name: "fake.jpg", reason: "neither JPEG nor PNG by its first bytes" },
      { name: "pic.webp", reason: "WebP image: only JPEG and PNG are sent" },
    ]);
  });
});

Deno.test("loadImages() says clearly when a folder has nothing to send", async (t) => {
  await t.step("empty folder", async () => {
    await withTempDir(async (dir) => {
      await Deno.mkdir(join(dir, "sub"));
      await assert.rejects(loadImages(dir), {
        name: "RangeError",
        message: `Cannot load images from ${dir}: expected at least one JPEG or PNG file in it; ` +
          "it holds no files (subfolders are not read)",
      });
    });
  });

  await t.step("only other files", async () => {
    await withTempDir(async (dir) => {
      await Deno.writeFile(join(dir, "a.bmp"), text("BM......"));
      await Deno.writeFile(join(dir, "b.txt"), text("hello"));
      await assert.rejects(loadImages(dir), {
        name: "RangeError",
        message: `Cannot load images from ${dir}: expected at least one JPEG or PNG file in it; ` +
          `skipped "a.bmp" (BMP image: only JPEG and PNG are sent), ` +
          `"b.txt" (neither JPEG nor PNG by its first bytes)`,
      });
    });
  });

  await t.step("missing folder", async () => {
    await withTempDir(async (dir) => {
      await assert.rejects(loadImages(join(dir, "missing")), Deno.errors.NotFound);
    });
  });
});

Deno.test("loadImages() loads every sample of the default images/ folder", async () => {
  const dir = fileURLToPath(new URL("../images", import.meta.url));
  const names = [...Deno.readDirSync(dir)]
    .filter((entry) => entry.isFile && /\.(jpe?g|png)$/i.test(entry.name))
    .map((entry) => entry.name);
  assert.ok(names.length > 0, `expected sample images in ${dir}`);

  const { images, skipped } = await loadImages(dir);

  assert.deepEqual(images.map((image) => image.name).sort(), names.sort());
  for (const image of images) {
    const expected = /\.png$/i.test(image.name) ? "image/png" : "image/jpeg";
    assert.equal(image.contentType, expected, image.name);
  }
  assert.deepEqual(skipped.map((file) => file.name), ["README.md"]);
});
