/**
 * Reads the `metadata_props` of an `.onnx` file. ONNX Runtime for Node does not
 * expose them, yet they are how a synthetic model says what it is
 * (`weights=synthetic`). Only the top level of ModelProto is walked: the graph,
 * which holds tens of megabytes of weights, is skipped by its length prefix and
 * never decoded.
 *
 * @module
 */

/** ModelProto field 14: repeated StringStringEntryProto metadata_props. */
const METADATA_PROPS = 14;
/** StringStringEntryProto fields. */
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Returns the metadata key/value pairs of an ONNX model; `{}` when it has none.
 * A key written twice keeps its last value, as protobuf maps do.
 *
 * @throws {SyntaxError} when `bytes` is not a well-formed protobuf message
 * (truncated file, or not an ONNX model at all)
 */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const field of fields(bytes)) {
    if (field.number !== METADATA_PROPS) continue;
    if (field.payload === undefined) {
      throw new SyntaxError(
        `Cannot read ONNX metadata: field ${METADATA_PROPS} must be length-delimited, ` +
          `got wire type ${field.wireType}`,
      );
    }
    let key = "";
    let value = "";
    for (const entryField of fields(field.payload)) {
      if (entryField.payload === undefined) continue;
      if (entryField.number === ENTRY_KEY) key = text(entryField.payload);
      if (entryField.number === ENTRY_VALUE) value = text(entryField.payload);
    }
    metadata[key] = value;
  }
  return metadata;
}

interface Field {
  number: number;
  wireType: number;
  /** Contents of a length-delimited field (a view, not a copy). */
  payload?: Uint8Array;
}

function* fields(bytes: Uint8Array): Generator<Field> {
  const cursor = { offset: 0 };
  while (cursor.offset < bytes.length) {
    const tag = varint(bytes, cursor);
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (number === 0) fail(`field number 0 at byte ${cursor.offset}`);
    switch (wireType) {
      case WIRE_VARINT:
        varint(bytes, cursor);
        yield { number, wireType };
        break;
      case WIRE_FIXED64:
        skip(bytes, cursor, 8);
        yield { number, wireType };
        break;
      case WIRE_FIXED32:
        skip(bytes, cursor, 4);
        yield { number, wireType };
        break;
      case WIRE_LENGTH_DELIMITED: {
        const length = varint(bytes, cursor);
        const start = cursor.offset;
        skip(bytes, cursor, length);
        yield { number, wireType, payload: bytes.subarray(start, start + length) };
        break;
      }
      default:
        // Groups (3, 4) are deprecated and never appear in onnx.proto.
        fail(`unsupported wire type ${wireType} at byte ${cursor.offset}`);
    }
  }
}

function varint(bytes: Uint8Array, cursor: { offset: number }): number {
  let value = 0;
  let factor = 1;
  for (let index = 0; index < 10; index++) {
    if (cursor.offset >= bytes.length) fail("the data ends inside a varint");
    const byte = bytes[cursor.offset++];
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return value;
    factor *= 0x80;
  }
  fail(`a varint longer than 10 bytes ends at byte ${cursor.offset}`);
}

function skip(bytes: Uint8Array, cursor: { offset: number }, length: number): void {
  if (cursor.offset + length > bytes.length) {
    fail(
      `a field of ${length} bytes at byte ${cursor.offset} runs past the end ` +
        `(${bytes.length} bytes)`,
    );
  }
  cursor.offset += length;
}

function text(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    fail("a metadata string is not valid UTF-8");
  }
}

function fail(detail: string): never {
  throw new SyntaxError(`Cannot read ONNX metadata: not a well-formed model file: ${detail}`);
}
