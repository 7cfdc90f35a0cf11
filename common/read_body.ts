/**
 * Reads a request body into memory with a size limit. Both the model service
 * (the decoder needs every byte) and the dispatcher (a retry on another replica
 * sends the body again) need the whole body before they can act.
 *
 * @module
 */

import { HttpError } from "@common/http_error.ts";

/**
 * Reads the body of `request`, refusing it as soon as it is known to exceed
 * `maxBytes`: at once from a too large Content-Length, otherwise while
 * counting the bytes as they arrive (chunked uploads declare no length).
 *
 * @returns the body; empty when the request has none
 * @throws {HttpError} 413 `body_too_large` when the body exceeds `maxBytes`
 */
export async function readBody(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes, Number(declared));
  if (!request.body) return new Uint8Array(0);

  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  const reader = request.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }

  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

function tooLarge(maxBytes: number, declared?: number): HttpError {
  const seen = declared === undefined ? `more than ${maxBytes}` : String(declared);
  return new HttpError(
    413,
    "body_too_large",
    `Cannot accept the image: expected a body of at most ${maxBytes} bytes, got ${seen}`,
  );
}
