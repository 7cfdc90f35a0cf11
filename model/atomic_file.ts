/**
 * Replaces a file all at once: the bytes go to a temporary file in the same
 * directory, which is flushed and then renamed over the target. A rename within
 * one file system is atomic, so a reader (a model server starting up) sees the
 * old file or the complete new one, never half a model; and an interrupted
 * write leaves the target untouched.
 *
 * @module
 */

import { basename, dirname } from "node:path";

/** Suffix of the temporary files, so a stray one is easy to recognise. */
export const TEMP_SUFFIX = ".part";

/**
 * Creates an empty temporary file beside `path` (creating its directory first)
 * and returns the temporary file's path. Its name starts with a dot and the
 * target's name, and ends in {@linkcode TEMP_SUFFIX}.
 */
export async function createTempBeside(path: string): Promise<string> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  const temp = `${dir}/.${basename(path)}.${crypto.randomUUID().slice(0, 8)}${TEMP_SUFFIX}`;
  // Not Deno.makeTempFile: its files are private (0600), and the renamed model
  // must stay readable by other users, as any new file is (mode 0666 less umask).
  const file = await Deno.open(temp, { write: true, createNew: true, mode: 0o666 });
  file.close();
  return temp;
}

/** Writes `bytes` to `path` atomically: a temporary file beside it, flushed, then renamed. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = await createTempBeside(path);
  try {
    const file = await Deno.open(temp, { write: true, truncate: true });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}
