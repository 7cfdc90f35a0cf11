/**
 * Reads what an image file claims about itself (format, size, EXIF
 * orientation) from its first bytes, without decoding any pixel. The service
 * refuses an oversized image from this header before a decoder allocates a
 * buffer for it: a 65000x65000 JPEG header is a few hundred bytes, its pixels
 * would be 16 GB.
 *
 * @module
 */

/** Formats the service recognises by their signature. */
export type ImageFormat = "jpeg" | "png" | "gif" | "bmp" | "webp" | "tiff";

/** What a header says. */
export interface ImageHeader {
  format: ImageFormat;
  /** Width in pixels; undefined when the header is cut before it says. */
  width?: number;
  /** Height in pixels; undefined when the header is cut before it says. */
  height?: number;
  /** EXIF orientation 1-8 of a JPEG; 1 (as stored) when absent. */
  orientation: number;
  /** Colour components of a JPEG frame: 1 gray, 3 YCbCr or RGB, 4 CMYK or YCCK. */
  components?: number;
}

/** The format of `bytes` from its signature; undefined when it is none of the known ones. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const starts = (...signature: number[]) => signature.every((b, i) => bytes[i] === b);
  if (starts(0xff, 0xd8, 0xff)) return "jpeg";
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "png";
  if (starts(0x47, 0x49, 0x46, 0x38)) return "gif";
  if (starts(0x42, 0x4d)) return "bmp";
  if (starts(0x52, 0x49, 0x46, 0x46) && ascii(bytes, 8, 4) === "WEBP") return "webp";
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return "tiff";
  return undefined;
}

/** Reads the header of `bytes`; undefined when the format is not recognised. */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  const format = sniffFormat(bytes);
  if (format === undefined) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header: ImageHeader = { format, orientation: 1 };
  const fits = (end: number) => end <= bytes.length;
  switch (format) {
    case "jpeg":
      return readJpeg(bytes, view, header);
    case "png":
      // IHDR is always the first chunk: width and height are big-endian at 16 and 20.
      if (fits(24)) {
        header.width = view.getUint32(16);
        header.height = view.getUint32(20);
      }
      return header;
    case "gif":
      if (fits(10)) {
        header.width = view.getUint16(6, true);
        header.height = view.getUint16(8, true);
      }
      return header;
    case "bmp":
      if (fits(26)) {
        header.width = Math.abs(view.getInt32(18, true));
        header.height = Math.abs(view.getInt32(22, true));
      }
      return header;
    case "webp":
      return readWebp(bytes, view, header);
    case "tiff":
      return readTiff(bytes, view, header);
  }
}

// The first chunk after "RIFF....WEBP" says which of the three bitstreams follows.
function readWebp(bytes: Uint8Array, view: DataView, header: ImageHeader): ImageHeader {
  const chunk = ascii(bytes, 12, 4);
  if (chunk === "VP8 " && bytes.length >= 30) {
    // Lossy: a key frame's start code 9d 01 2a, then 14-bit width and height.
    if (bytes[23] === 0x9d && bytes[24] === 0x01 && bytes[25] === 0x2a) {
      header.width = view.getUint16(26, true) & 0x3fff;
      header.height = view.getUint16(28, true) & 0x3fff;
    }
  } else if (chunk === "VP8L" && bytes.length >= 25 && bytes[20] === 0x2f) {
    // Lossless: width - 1 and height - 1 packed in 14 bits each.
    const bits = view.getUint32(21, true);
    header.width = (bits & 0x3fff) + 1;
    header.height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (chunk === "VP8X" && bytes.length >= 30) {
    // Extended: canvas width - 1 and height - 1 in 24 bits each.
    header.width = (view.getUint32(24, true) & 0xffffff) + 1;
    header.height = (view.getUint32(27, true) & 0xffffff) + 1;
  }
  return header;
}

// The first image file directory holds ImageWidth (256) and ImageLength (257).
function readTiff(bytes: Uint8Array, view: DataView, header: ImageHeader): ImageHeader {
  if (bytes.length < 8) return header;
  const little = bytes[0] === 0x49;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > bytes.length) return header;
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > bytes.length) break;
    const tag = view.getUint16(entry, little);
    if (tag !== 256 && tag !== 257) continue;
    const type = view.getUint16(entry + 2, little);
    const value = type === 3
      ? view.getUint16(entry + 8, little)
      : view.getUint32(entry + 8, little);
    if (tag === 256) header.width = value;
    else header.height = value;
  }
  return header;
}

// Start-of-frame markers carry the size; C4 (DHT), C8 (reserved) and CC (DAC)
// sit in the same range and do not.
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
    marker !== 0xcc;
}

function readJpeg(bytes: Uint8Array, view: DataView, header: ImageHeader): ImageHeader {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return header;
    const marker = bytes[offset + 1];
    // Fill bytes and markers without a length (RSTn, TEM) carry no segment.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return header;
    const length = view.getUint16(offset + 2);
    const segment = offset + 4;
    if (marker === 0xe1 && segment + length - 2 <= bytes.length) {
      const orientation = exifOrientation(bytes.subarray(segment, segment + length - 2));
      if (orientation !== undefined) header.orientation = orientation;
    }
    if (isStartOfFrame(marker) && segment + 5 <= bytes.length) {
      header.height = view.getUint16(segment + 1);
      header.width = view.getUint16(segment + 3);
      if (segment + 6 <= bytes.length) header.components = bytes[segment + 5];
      return header;
    }
    offset = segment + length - 2;
  }
  return header;
}

/** The orientation tag (0x0112) of an APP1 Exif payload; undefined when absent or invalid. */
export function exifOrientation(payload: Uint8Array): number | undefined {
  if (ascii(payload, 0, 6) !== "Exif\0\0") return undefined;
  const tiff = payload.subarray(6);
  if (tiff.length < 8) return undefined;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = ascii(tiff, 0, 2);
  if (order !== "II" && order !== "MM") return undefined;
  const little = order === "II";
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return undefined;
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return undefined;
    if (view.getUint16(entry, little) !== 0x0112) continue;
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? value : undefined;
  }
  return undefined;
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  if (start + length > bytes.length) return "";
  return String.fromCharCode(...bytes.subarray(start, start + length));
}
