/**
 * Reads a request body into memory with a size limit and a time limit. Both
 * the model service (the decoder needs every byte) and the dispatcher (a retry
 * on another replica sends the body again) need the whole body before they
 * can act.
 *
 * @module
 */

import { HttpError } from "@common/http_error.ts";

/** Limits of {@linkcode readBody}. */
export interface BodyLimits {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** How long the whole body may take to arrive, in ms. @default 30000 */
  timeoutMs?: number;
}

/**
 * Reads the body of `request`, refusing it as soon as it is known to exceed
 * the size limit: at once from a too large Content-Length, otherwise while
 * counting the bytes as they arrive (chunked uploads declare no length).
 *
 * @returns the body; empty when the request has none
 * @throws {HttpError} 413 `body_too_large` when the body exceeds the limit,
 *   408 `body_timeout` when it arrives too slowly, 400 `incomplete_body` when
 *   the client stops sending before the end it announced
 */
export async function readBody(
  request: Request,
  limits: BodyLimits,
): Promise<Uint8Array<ArrayBuffer>> {
  const { maxBytes, timeoutMs = 30_000 } = limits;
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes, Number(declared));
  if (!request.body) return new Uint8Array(0);

  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  const reader = request.body.getReader();
  let timedOut = false;
  // A client that trickles its upload would otherwise hold its slot forever.
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, timeoutMs);
  try {
    while (true) {
      let result;
      try {
        result = await reader.read();
      } catch (error) {
        throw incomplete(total, error);
      }
      if (timedOut) throw slow(timeoutMs, total);
      const { done, value } = result;
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw slow(timeoutMs, total);

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
    { accepted: [`a body of at most ${maxBytes} bytes`] },
  );
}

function slow(timeoutMs: number, received: number): HttpError {
  return new HttpError(
    408,
    "body_timeout",
    `Cannot wait longer for the body: ${received} bytes arrived in ${timeoutMs} ms; ` +
      "send the whole image at once",
  );
}

function incomplete(received: number, cause: unknown): HttpError {
  return new HttpError(
    400,
    "incomplete_body",
    `Cannot read the whole body: the connection ended after ${received} bytes, before the ` +
      "end the request announced",
    { cause },
  );
}
