/**
 * Where the real photos and the edge-case files live. They are not part of the
 * repository (photos are not ours to commit); the project expects them in
 * `../shared/images` beside the checkout, and `SHARED_IMAGES` names another
 * place. Tests and the demo find them through this one function.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BESIDE_CHECKOUT = fileURLToPath(new URL("../../shared/images", import.meta.url));
// Where this project's build machines keep them; used when the checkout was
// cloned somewhere else, as CI does.
const WORKPLACE = "/work/shared/images";

/** The folder holding `imagenet-sample/` and `edge-cases/`; undefined when none is found. */
export function findSharedImages(env = Deno.env.get("SHARED_IMAGES")): string | undefined {
  for (const candidate of [env, BESIDE_CHECKOUT, WORKPLACE]) {
    if (candidate && existsSync(`${candidate}/imagenet-sample`)) return candidate;
  }
  return undefined;
}

/**
 * Like {@linkcode findSharedImages}, but throws an error that says where the
 * images were looked for and how to point at them.
 */
export function sharedImages(): string {
  const found = findSharedImages();
  if (found !== undefined) return found;
  throw new Error(
    `Cannot find the shared images (imagenet-sample/, edge-cases/): looked in ` +
      `$SHARED_IMAGES, ${BESIDE_CHECKOUT} and ${WORKPLACE}; ` +
      "set SHARED_IMAGES to the folder that holds them",
  );
}
