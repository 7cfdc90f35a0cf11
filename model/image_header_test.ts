import assert from "node:assert/strict";
import { exifOrientation, readImageHeader, sniffFormat } from "./image_header.ts";
import { sharedImage } from "./_test_model.ts";

Deno.test("readImageHeader reads sizes without decoding", async (t) => {
  const cases: Array<[string, string, number, number]> = [
    ["edge-cases/progressive.jpg", "jpeg", 500, 354],
    ["edge-cases/wide-2000x20.jpg", "jpeg", 2000, 20],
    ["edge-cases/gray16.png", "png", 500, 354],
    ["edge-cases/tiny-1x1.png", "png", 1, 1],
    ["edge-cases/animated.gif", "gif", 500, 354],
    ["edge-cases/photo.webp", "webp", 500, 354],
    ["edge-cases/photo.tiff", "tiff", 500, 354],
    ["edge-cases/photo.bmp", "bmp", 500, 354],
    ["edge-cases/huge-dims-header.jpg", "jpeg", 65000, 65000],
    ["edge-cases/bomb-header-60000x60000.png", "png", 60000, 60000],
  ];
  for (const [name, format, width, height] of cases) {
    await t.step(name, async () => {
      const header = readImageHeader(await sharedImage(name));
      assert.deepEqual(
        [header?.format, header?.width, header?.height],
        [format, width, height],
      );
    });
  }
});

Deno.test("readImageHeader finds the EXIF orientation of a JPEG", async () => {
  const rotated = await sharedImage("imagenet-sample/n02951585_can_opener.JPEG");
  assert.equal(readImageHeader(rotated)?.orientation, 6);
  const upright = await sharedImage("imagenet-sample/n01440764_tench.JPEG");
  assert.equal(readImageHeader(upright)?.orientation, 1);
});

Deno.test("sniffFormat knows the formats it refuses too", async () => {
  assert.equal(sniffFormat(await sharedImage("edge-cases/photo.bmp")), "bmp");
  assert.equal(sniffFormat(await sharedImage("edge-cases/photo.webp")), "webp");
  assert.equal(sniffFormat(await sharedImage("edge-cases/photo.tiff")), "tiff");
  assert.equal(sniffFormat(new TextEncoder().encode("hello")), undefined);
  assert.equal(sniffFormat(new Uint8Array(0)), undefined);
});

Deno.test("readImageHeader survives headers cut anywhere", async () => {
  const photo = await sharedImage("imagenet-sample/n02951585_can_opener.JPEG");
  for (let length = 0; length < 2000; length += 7) {
    const header = readImageHeader(photo.subarray(0, length));
    if (header?.width !== undefined) assert.equal(header.width, 392);
  }
});

Deno.test("exifOrientation reads both byte orders and rejects nonsense", () => {
  const entry = (little: boolean, value: number) => {
    const bytes = new Uint8Array(6 + 8 + 2 + 12);
    bytes.set(new TextEncoder().encode("Exif\0\0"));
    const view = new DataView(bytes.buffer, 6);
    bytes.set(new TextEncoder().encode(little ? "II" : "MM"), 6);
    view.setUint16(2, 42, little);
    view.setUint32(4, 8, little);
    view.setUint16(8, 1, little);
    view.setUint16(10, 0x0112, little);
    view.setUint16(12, 3, little);
    view.setUint32(14, 1, little);
    view.setUint16(18, value, little);
    return bytes;
  };
  assert.equal(exifOrientation(entry(true, 6)), 6);
  assert.equal(exifOrientation(entry(false, 8)), 8);
  assert.equal(exifOrientation(entry(true, 9)), undefined);
  assert.equal(exifOrientation(new TextEncoder().encode("Exif\0\0II")), undefined);
});

Deno.test("readImageHeader reads all three WebP bitstreams and TIFF sizes", async () => {
  const sharp = (await import("sharp")).default;
  const opaque = { width: 300, height: 7, channels: 3 as const, background: "#808080" };
  const clear = { width: 123, height: 45, channels: 4 as const, background: "#80808080" };
  const encoded: Array<[string, Uint8Array, number, number]> = [
    ["lossy", await sharp({ create: opaque }).webp().toBuffer(), 300, 7],
    ["lossless", await sharp({ create: opaque }).webp({ lossless: true }).toBuffer(), 300, 7],
    ["extended", await sharp({ create: clear }).webp().toBuffer(), 123, 45],
    ["tiff", await sharp({ create: clear }).tiff().toBuffer(), 123, 45],
  ];
  for (const [kind, bytes, width, height] of encoded) {
    const header = readImageHeader(bytes);
    assert.deepEqual([header?.width, header?.height], [width, height], kind);
  }
  const chunk = String.fromCharCode(...encoded[2][1].subarray(12, 16));
  assert.equal(chunk, "VP8X", "the alpha WebP uses the extended format");
});
