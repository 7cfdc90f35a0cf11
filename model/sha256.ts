/**
 * SHA-256 digests as lowercase hex, the form in which model checksums are
 * published. Files are hashed as a stream so a large model is never held twice.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** SHA-256 of `bytes` as 64 lowercase hex digits. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** SHA-256 and size of the file at `path`, read as a stream. */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  // The readable closes the file when it ends or fails.
  const file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}
