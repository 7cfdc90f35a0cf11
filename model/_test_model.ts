/**
 * One synthetic model per test file, built into a temporary directory: tests
 * then run the real ONNX Runtime on the real ResNet18 topology without a
 * download and without depending on files a user may not have built.
 *
 * @module
 */

import { join } from "node:path";
import { sharedImages } from "@common/shared_images.ts";
import { buildSyntheticResNet18 } from "./synthetic_model.ts";

let built: Promise<string> | undefined;

/** Path of a synthetic model file, built on first use. */
export function testModelPath(): Promise<string> {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "resnet-test-" });
    const path = join(dir, "resnet18-synthetic.onnx");
    await Deno.writeFile(path, buildSyntheticResNet18().bytes);
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    return path;
  })();
  return built;
}

/** Reads a file from the shared images, e.g. `edge-cases/cmyk.jpg`. */
export function sharedImage(name: string): Promise<Uint8Array<ArrayBuffer>> {
  return Deno.readFile(join(sharedImages(), name));
}
