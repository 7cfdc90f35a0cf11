/**
 * Waits for an HTTP endpoint to answer 2xx: how a parent learns that a child it
 * started is ready, instead of sleeping for a guessed time.
 *
 * @module
 */

/** Options of {@linkcode waitForHttp}. */
export interface WaitForHttpOptions {
  /** Give up after this many milliseconds. @default 60000 */
  timeoutMs?: number;
  /** Pause between attempts in milliseconds. @default 100 */
  intervalMs?: number;
  /** Stop early, e.g. when the process behind the URL has exited. */
  signal?: AbortSignal;
}

/**
 * Resolves when `url` answers with a 2xx status.
 *
 * @throws {Error} when the time runs out or `signal` aborts, naming the last answer seen
 */
export async function waitForHttp(url: string, options: WaitForHttpOptions = {}): Promise<void> {
  const { timeoutMs = 60_000, intervalMs = 100, signal } = options;
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (signal?.aborted) break;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const why = signal?.aborted ? "it was abandoned" : `${timeoutMs} ms passed`;
  throw new Error(`Cannot reach ${url} with a 2xx answer: ${why}; last: ${last}`);
}
