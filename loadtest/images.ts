/**
 * The images a load test sends: every JPEG and PNG file of a folder, typed by
 * their first bytes rather than their names, in a stable order.
 *
 * @module
 */

import { join } from "node:path";

/** An image ready to send. */
export interface ImageFile {
  /** File name within its folder. */
  name: string;
  /** `image/jpeg` or `image/png`. */
  contentType: string;
  bytes: Uint8Array<ArrayBuffer>;
}

/** A file of the folder that is not sent, and why. */
export interface SkippedFile {
  name: string;
  /** E.g. `"GIF image: only JPEG and PNG are sent"` or `"empty file"`. */
  reason: string;
}

/** What {@linkcode loadImages} found. */
export interface LoadedImages {
  /** The images, sorted by name. */
  images: ImageFile[];
  /** Files that are neither JPEG nor PNG, sorted by name. */
  skipped: SkippedFile[];
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The content type that the magic bytes of `bytes` announce, or undefined. */
export function sniffContentType(bytes: Uint8Array): "image/jpeg" | "image/png" | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return "image/jpeg";
  }
  if (PNG_SIGNATURE.every((byte, index) => bytes[index] === byte)) return "image/png";
  return undefined;
}

// Formats people may expect to be sent, named so the skip reason is plain.
const OTHER_FORMATS: [string, (bytes: Uint8Array) => boolean][] = [
  ["GIF", (b) => ascii(b, 0, 4) === "GIF8"],
  ["WebP", (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP"],
  ["BMP", (b) => ascii(b, 0, 2) === "BM"],
  ["TIFF", (b) => ["II*\0", "MM\0*"].includes(ascii(b, 0, 4))],
];

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

function skipReason(bytes: Uint8Array): string {
  if (bytes.length === 0) return "empty file";
  const format = OTHER_FORMATS.find(([, test]) => test(bytes))?.[0];
  if (format) return `${format} image: only JPEG and PNG are sent`;
  return "neither JPEG nor PNG by its first bytes";
}

/**
 * Reads every regular file of `dir` (not its subfolders, but symbolic links
 * to files) and keeps the JPEG and PNG ones, whatever their names say. Names
 * are used as they are, so spaces, quotes and non-ASCII letters need no care.
 *
 * @throws {Deno.errors.NotFound} when `dir` does not exist
 * @throws {RangeError} when `dir` holds no JPEG or PNG file
 */
export async function loadImages(dir: string): Promise<LoadedImages> {
  const names: string[] = [];
  const skipped: SkippedFile[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) names.push(entry.name);
    if (!entry.isSymlink) continue;
    try {
      if ((await Deno.stat(join(dir, entry.name))).isFile) names.push(entry.name);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      skipped.push({ name: entry.name, reason: "symbolic link to nothing" });
    }
  }
  // Code-point order, so the cycle is the same on every machine and locale.
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  names.sort(byName);

  const images: ImageFile[] = [];
  for (const name of names) {
    const bytes = await Deno.readFile(join(dir, name));
    const contentType = sniffContentType(bytes);
    if (contentType) images.push({ name, contentType, bytes });
    else skipped.push({ name, reason: skipReason(bytes) });
  }
  skipped.sort((a, b) => byName(a.name, b.name));

  if (images.length === 0) {
    const listed = skipped.slice(0, 5).map((file) => `"${file.name}" (${file.reason})`);
    if (skipped.length > listed.length) listed.push(`${skipped.length - listed.length} more`);
    const seen = skipped.length === 0
      ? "it holds no files (subfolders are not read)"
      : `skipped ${listed.join(", ")}`;
    throw new RangeError(
      `Cannot load images from ${dir}: expected at least one JPEG or PNG file in it; ${seen}`,
    );
  }
  return { images, skipped };
}
