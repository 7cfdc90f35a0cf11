/**
 * Records that arrive while a system test runs (log lines of child processes,
 * answers of a proxy) and lets the test wait for a condition on them: each new
 * record re-checks the condition, so the test waits on a real event instead of
 * a guessed sleep.
 *
 * @module
 */

/** One parsed JSON log line. */
export type LogRecord = Record<string, unknown>;

/** A growing list of records with waits on it. */
export class RecordBook<T> {
  /** Every record so far, oldest first. */
  readonly records: T[] = [];
  #checks = new Set<() => void>();

  /** Appends a record and re-checks every pending wait. */
  add(record: T): void {
    this.records.push(record);
    for (const check of [...this.#checks]) check();
  }

  /** Re-checks every pending wait without a new record (state outside the book changed). */
  poke(): void {
    for (const check of [...this.#checks]) check();
  }

  /**
   * Resolves once `ready()` returns true; it is checked now and after every
   * {@linkcode add} or {@linkcode poke}.
   *
   * @throws {Error} after `timeoutMs`, naming `what` was awaited
   */
  until(what: string, ready: () => boolean, timeoutMs: number): Promise<void> {
    if (ready()) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const check = () => {
      if (!ready()) return;
      clearTimeout(timer);
      this.#checks.delete(check);
      resolve();
    };
    const timer = setTimeout(() => {
      this.#checks.delete(check);
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    this.#checks.add(check);
    return promise;
  }
}

/** The JSON lines of a log file, skipping lines that are not JSON objects. */
export function parseJsonLines(text: string): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      records.push(JSON.parse(line));
    } catch {
      // A line cut short when the process died; the checks report what is missing.
    }
  }
  return records;
}

/**
 * The `time` of a log line from common/log.ts in ms since the epoch: the same
 * clock as `Date.now()` in any process on this machine.
 *
 * @throws {TypeError} when the record carries no parsable `time`
 */
export function timeOf(record: LogRecord): number {
  const time = Date.parse(String(record.time));
  if (!Number.isFinite(time)) {
    throw new TypeError(`Cannot read the time of a log line: ${JSON.stringify(record)}`);
  }
  return time;
}
