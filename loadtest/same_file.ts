/**
 * Whether two paths name one file, so that an output never overwrites an
 * input: a symbolic link or another spelling resolves to the same real path,
 * and a hard link has its own path but shares the device and inode.
 *
 * @module
 */

import { basename, dirname, resolve } from "node:path";

/**
 * True when `a` and `b` both exist and are the same file (same real path, or
 * same device and inode); false when either is missing.
 */
export async function sameFile(a: string, b: string): Promise<boolean> {
  let realA, realB;
  try {
    [realA, realB] = await Promise.all([Deno.realPath(a), Deno.realPath(b)]);
  } catch {
    return false;
  }
  if (realA === realB) return true;
  const [statA, statB] = await Promise.all([Deno.stat(realA), Deno.stat(realB)]);
  // dev and ino are null on Windows; there only the real path can tell.
  return statA.ino !== null && statA.dev === statB.dev && statA.ino === statB.ino;
}

/**
 * True when `a` and `b` would write one file: the same file by
 * {@linkcode sameFile}, or, when neither exists yet, the same absolute path
 * in the same real folder.
 */
export async function sameTarget(a: string, b: string): Promise<boolean> {
  if (await sameFile(a, b)) return true;
  const folder = async (path: string) => {
    try {
      return await Deno.realPath(dirname(resolve(path)));
    } catch {
      return dirname(resolve(path));
    }
  };
  return basename(a) === basename(b) && (await folder(a)) === (await folder(b));
}
