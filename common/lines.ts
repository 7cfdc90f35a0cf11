/**
 * Reads a child process's stdout line by line, handing each JSON log line to a
 * callback, while also copying every byte to a sink (a log file), so the pipe
 * never fills up and blocks the child.
 *
 * @module
 */

/** Where {@linkcode followLines} copies the bytes it reads. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<unknown>;
}

/**
 * A sink that puts every chunk in `file` at once. A file's `writable` stream
 * would hold up to 64 KiB until it is closed, leaving a running service's log
 * empty, and lost if this process is killed: exactly when someone reads it.
 */
export function fileSink(file: Deno.FsFile): ByteSink {
  return {
    async write(chunk) {
      for (let done = 0; done < chunk.length;) done += await file.write(chunk.subarray(done));
    },
  };
}

/** Copies all of `stream` into `file` as it arrives (see {@linkcode fileSink}). */
export async function copyToFile(
  stream: ReadableStream<Uint8Array>,
  file: Deno.FsFile,
): Promise<void> {
  const sink = fileSink(file);
  for await (const chunk of stream) await sink.write(chunk);
}

/** Calls `onLine` for each complete line of `stream`, copying all bytes to `sink`. */
export async function followLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
  sink?: ByteSink,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    if (sink) await sink.write(chunk).catch(() => {});
    pending += decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      onLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf("\n");
    }
  }
  if (pending) onLine(pending);
}

/** The `port` of a JSON log line whose `msg` is `listening`, or undefined. */
export function listeningPort(line: string): number | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const record = JSON.parse(line);
    if (record?.msg === "listening" && Number.isInteger(record.port)) return record.port;
  } catch {
    // Not a JSON line: children may print plain text before their logger starts.
  }
  return undefined;
}
