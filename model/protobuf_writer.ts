/**
 * A minimal Protocol Buffers encoder: just the wire types an ONNX file needs
 * (varints, 32-bit floats and length-delimited fields). Large byte fields are
 * kept as references, not copied, until {@linkcode ProtoWriter.finish}, so a
 * 47 MB model is assembled with a single copy.
 *
 * @module
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const encoder = new TextEncoder();

/** Accumulates the fields of one message in the order they are written. */
export class ProtoWriter {
  #chunks: Uint8Array[] = [];
  #length = 0;
  #scratch: number[] = [];

  /** Encoded size in bytes of everything written so far. */
  get length(): number {
    return this.#length + this.#scratch.length;
  }

  /**
   * Writes an unsigned integer field (int32, int64, uint64 or enum on the wire).
   *
   * @throws {RangeError} when `value` is negative, fractional or above 2^53 - 1
   */
  uint(field: number, value: number): this {
    this.#tag(field, WIRE_VARINT);
    this.#varint(value);
    return this;
  }

  /** Writes a float field as 4 little-endian bytes. */
  float(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#push(bytes);
    return this;
  }

  /** Writes a UTF-8 string field. */
  string(field: number, value: string): this {
    return this.bytes(field, encoder.encode(value));
  }

  /** Writes a bytes field; `value` is referenced, not copied, so do not change it later. */
  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, WIRE_LENGTH_DELIMITED);
    this.#varint(value.length);
    this.#push(value);
    return this;
  }

  /** Writes a nested message field; `message` must not be written to afterwards. */
  message(field: number, message: ProtoWriter): this {
    this.#tag(field, WIRE_LENGTH_DELIMITED);
    message.#flushScratch();
    this.#varint(message.#length);
    this.#flushScratch();
    for (const chunk of message.#chunks) this.#chunks.push(chunk);
    this.#length += message.#length;
    return this;
  }

  /** The encoded message as one contiguous buffer. */
  finish(): Uint8Array {
    this.#flushScratch();
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  #tag(field: number, wireType: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 536_870_911) {
      throw new RangeError(
        `Cannot write field: expected a number from 1 to 2^29 - 1, got ${field}`,
      );
    }
    this.#varint(field * 8 + wireType);
  }

  // Small values go to a scratch list so that a tensor's dims do not become
  // dozens of one-byte arrays.
  #varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`Cannot write varint: expected a safe integer >= 0, got ${value}`);
    }
    let rest = value;
    while (rest >= 0x80) {
      this.#scratch.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.#scratch.push(rest);
  }

  #push(bytes: Uint8Array): void {
    this.#flushScratch();
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  #flushScratch(): void {
    if (this.#scratch.length === 0) return;
    this.#chunks.push(Uint8Array.from(this.#scratch));
    this.#length += this.#scratch.length;
    this.#scratch = [];
  }
}
