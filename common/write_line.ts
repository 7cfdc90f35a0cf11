/**
 * Writes one line to a terminal stream, whole: `writeSync` may write only part
 * of a buffer, so it is called until every byte is out.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Writes `text` and a newline to `stream` (e.g. `Deno.stdout`). */
export function writeLine(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text + "\n");
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}
