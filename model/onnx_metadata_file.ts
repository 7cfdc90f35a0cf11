/**
 * Reads an ONNX file's metadata without loading the file: only the few bytes
 * of each top-level field header are read and the weights are skipped by
 * seeking, so a replica never holds a second copy of its model in memory.
 *
 * @module
 */

import { readOnnxMetadata } from "./onnx_metadata.ts";

const METADATA_PROPS = 14;
const WIRE_LENGTH_DELIMITED = 2;

/**
 * Returns the metadata key/value pairs of the ONNX model at `path`.
 *
 * @throws {SyntaxError} when the file is not a well-formed ONNX model
 */
export async function readOnnxMetadataFile(path: string): Promise<Record<string, string>> {
  using file = await Deno.open(path, { read: true });
  const size = (await file.stat()).size;
  const head = new Uint8Array(20);
  const entries: Uint8Array[] = [];
  let offset = 0;
  while (offset < size) {
    await file.seek(offset, Deno.SeekMode.Start);
    const got = await readFully(file, head.subarray(0, Math.min(head.length, size - offset)));
    const cursor = { offset: 0 };
    const tag = varint(head.subarray(0, got), cursor);
    const [number, wireType] = [Math.floor(tag / 8), tag % 8];
    let length: number;
    if (wireType === WIRE_LENGTH_DELIMITED) length = varint(head.subarray(0, got), cursor);
    else if (wireType === 0) length = (varint(head.subarray(0, got), cursor), 0);
    else if (wireType === 1) length = 8;
    else if (wireType === 5) length = 4;
    else throw new SyntaxError(`Cannot read ONNX metadata: wire type ${wireType} at ${offset}`);
    const end = offset + cursor.offset + length;
    if (end > size) throw new SyntaxError(`Cannot read ONNX metadata: a field runs past the end`);
    if (number === METADATA_PROPS && wireType === WIRE_LENGTH_DELIMITED) {
      const field = new Uint8Array(end - offset);
      await file.seek(offset, Deno.SeekMode.Start);
      await readFully(file, field);
      entries.push(field);
    }
    offset = end;
  }
  // The metadata fields alone form a valid message for the in-memory reader.
  const joined = new Uint8Array(entries.reduce((total, entry) => total + entry.length, 0));
  let at = 0;
  for (const entry of entries) {
    joined.set(entry, at);
    at += entry.length;
  }
  return readOnnxMetadata(joined);
}

async function readFully(file: Deno.FsFile, into: Uint8Array): Promise<number> {
  let filled = 0;
  while (filled < into.length) {
    const read = await file.read(into.subarray(filled));
    if (read === null) break;
    filled += read;
  }
  return filled;
}

function varint(bytes: Uint8Array, cursor: { offset: number }): number {
  let value = 0;
  let factor = 1;
  while (cursor.offset < bytes.length) {
    const byte = bytes[cursor.offset++];
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return value;
    factor *= 0x80;
  }
  throw new SyntaxError("Cannot read ONNX metadata: the file ends inside a field header");
}
