/**
 * Downloads a model file and puts it in place only once its size and SHA-256
 * match what was published. The bytes stream into a temporary file beside the
 * target while being hashed; any failure (network, timeout, HTTP status, wrong
 * size, wrong checksum, cancellation) deletes the temporary file and leaves
 * whatever was at the target untouched.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { createTempBeside } from "./atomic_file.ts";

/** Why a download failed. */
export type FetchFailure = "network" | "timeout" | "http" | "size" | "checksum" | "aborted";

/** A failed download; `reason` tells a caller which advice to give. */
export class FetchModelError extends Error {
  readonly reason: FetchFailure;
  /** HTTP status, for `http`. */
  readonly status?: number;
  /** What was published and what arrived, for `size` (bytes) and `checksum` (hex). */
  readonly expected?: string;
  readonly actual?: string;

  constructor(
    reason: FetchFailure,
    message: string,
    details: { cause?: unknown; status?: number; expected?: string; actual?: string } = {},
  ) {
    super(message, { cause: details.cause });
    this.name = "FetchModelError";
    this.reason = reason;
    this.status = details.status;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

/** How far a download has come. */
export interface FetchProgress {
  receivedBytes: number;
  /** Expected size when known (published, or announced by the server). */
  totalBytes?: number;
  /** Time since the download started, in milliseconds. */
  elapsedMs: number;
}

/** Options of {@linkcode fetchModel}. */
export interface FetchModelOptions {
  /** An `http:` or `https:` URL; redirects are followed. */
  url: string;
  /** Where the verified file goes; its directory is created when missing. */
  outPath: string;
  /** Published SHA-256 of the file, 64 hex digits (either case). */
  sha256: string;
  /** Published size in bytes; unchecked when absent. */
  bytes?: number;
  /**
   * Longest wait for the connection, the answer's headers or the next piece of
   * the body, in milliseconds: a stalled download fails after this much silence,
   * however long the whole transfer takes.
   */
  timeoutMs: number;
  /** Called at most once per `progressIntervalMs` while bytes arrive. */
  onProgress?: (progress: FetchProgress) => void;
  /** Milliseconds between progress calls. @default 1000 */
  progressIntervalMs?: number;
  /** Clock in milliseconds, injectable for tests. @default performance.now */
  now?: () => number;
  /** Cancels the download. */
  signal?: AbortSignal;
}

/** A verified file in place. */
export interface FetchModelResult {
  path: string;
  bytes: number;
  sha256: string;
  elapsedMs: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/**
 * Downloads `url` to `outPath`, verifying size and SHA-256 before the file
 * replaces anything.
 *
 * @throws {TypeError} when `url` or `sha256` is malformed
 * @throws {RangeError} when `timeoutMs`, `bytes` or `progressIntervalMs` is out of range
 * @throws {FetchModelError} when the download fails or the file does not match
 */
export async function fetchModel(options: FetchModelOptions): Promise<FetchModelResult> {
  const { url, outPath, bytes: expectedBytes, timeoutMs, onProgress, signal } = options;
  const { progressIntervalMs = 1000, now = () => performance.now() } = options;
  validate(options);
  const expectedSha = options.sha256.toLowerCase();

  const started = now();
  const controller = new AbortController();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const rearmWatchdog = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
  };
  const forwardAbort = () => controller.abort();
  signal?.addEventListener("abort", forwardAbort, { once: true });

  // Turns whatever a network step throws into one FetchModelError saying why.
  const guard = async <T>(step: () => Promise<T>): Promise<T> => {
    if (signal?.aborted) throw cancelled(url);
    try {
      return await step();
    } catch (error) {
      if (timedOut) {
        throw new FetchModelError(
          "timeout",
          `Cannot download ${url}: nothing arrived for ${timeoutMs / 1000} s ` +
            "(connection, answer or next piece of data)",
          { cause: error },
        );
      }
      if (signal?.aborted) throw cancelled(url);
      throw new FetchModelError("network", `Cannot download ${url}: ${rootCause(error)}`, {
        cause: error,
      });
    }
  };

  const temp = await createTempBeside(outPath);
  let file: Deno.FsFile | undefined;
  try {
    rearmWatchdog();
    const response = await guard(() =>
      fetch(url, {
        signal: controller.signal,
        // The published size is of the file itself, not of a compressed transfer.
        headers: { "accept-encoding": "identity" },
      })
    );
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new FetchModelError(
        "http",
        `Cannot download ${url}: the server answered ${response.status} ${response.statusText}`,
        { status: response.status },
      );
    }

    const announced = announcedLength(response);
    if (expectedBytes !== undefined && announced !== undefined && announced !== expectedBytes) {
      await response.body?.cancel().catch(() => {});
      throw wrongSize(url, expectedBytes, announced, "the server announces");
    }
    const totalBytes = expectedBytes ?? announced;

    file = await Deno.open(temp, { write: true, truncate: true });
    const hash = createHash("sha256");
    let received = 0;
    let lastReport = started;
    const reader = response.body?.getReader();
    while (reader) {
      rearmWatchdog();
      const { done, value } = await guard(() => reader.read());
      if (done) break;
      received += value.length;
      if (expectedBytes !== undefined && received > expectedBytes) {
        await reader.cancel().catch(() => {});
        throw wrongSize(url, expectedBytes, received, "received at least");
      }
      hash.update(value);
      await writeAll(file, value);
      const time = now();
      if (onProgress && time - lastReport >= progressIntervalMs) {
        lastReport = time;
        onProgress({ receivedBytes: received, totalBytes, elapsedMs: time - started });
      }
    }
    clearTimeout(timer);
    await file.sync();
    file.close();
    file = undefined;

    if (expectedBytes !== undefined && received !== expectedBytes) {
      throw wrongSize(url, expectedBytes, received, "received");
    }
    const sha256 = hash.digest("hex");
    if (sha256 !== expectedSha) {
      throw new FetchModelError(
        "checksum",
        `Downloaded file from ${url} has the wrong SHA-256: expected ${expectedSha}, ` +
          `got ${sha256}; nothing was saved`,
        { expected: expectedSha, actual: sha256 },
      );
    }
    await Deno.rename(temp, outPath);
    return { path: outPath, bytes: received, sha256, elapsedMs: now() - started };
  } catch (error) {
    file?.close();
    await Deno.remove(temp).catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", forwardAbort);
  }
}

function validate(options: FetchModelOptions): void {
  const { url, sha256, bytes, timeoutMs, progressIntervalMs } = options;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // Reported below with the rule.
  }
  if (parsed?.protocol !== "http:" && parsed?.protocol !== "https:") {
    throw new TypeError(`Cannot download model: expected an http or https URL, got "${url}"`);
  }
  if (!SHA256_HEX.test(sha256)) {
    throw new TypeError(
      `Cannot verify model: expected a SHA-256 of 64 hex digits, got "${sha256}"`,
    );
  }
  if (bytes !== undefined && (!Number.isSafeInteger(bytes) || bytes < 0)) {
    throw new RangeError(`Cannot verify model: expected a size in bytes >= 0, got ${bytes}`);
  }
  if (!(timeoutMs > 0 && timeoutMs <= 2_147_483_647)) {
    throw new RangeError(
      `Cannot download model: timeoutMs must be from 1 to 2147483647, got ${timeoutMs}`,
    );
  }
  if (progressIntervalMs !== undefined && !(progressIntervalMs >= 0)) {
    throw new RangeError(
      `Cannot download model: progressIntervalMs must be >= 0, got ${progressIntervalMs}`,
    );
  }
}

// Content-Length counts transferred bytes: with a content encoding it is not the file size.
function announcedLength(response: Response): number | undefined {
  const header = response.headers.get("content-length");
  if (header === null || response.headers.has("content-encoding")) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

function wrongSize(url: string, expected: number, actual: number, how: string): FetchModelError {
  return new FetchModelError(
    "size",
    `Downloaded file from ${url} has the wrong size: expected ${expected} bytes, ${how} ` +
      `${actual}; nothing was saved`,
    { expected: String(expected), actual: String(actual) },
  );
}

// fetch() throws a bare "fetch failed"; what went wrong (refused, DNS, TLS) is in its cause.
function rootCause(error: unknown): string {
  let deepest = error;
  for (let depth = 0; depth < 10 && deepest instanceof Error && deepest.cause; depth++) {
    deepest = deepest.cause;
  }
  return deepest instanceof Error ? deepest.message : String(deepest);
}

function cancelled(url: string): FetchModelError {
  return new FetchModelError("aborted", `Download of ${url} was cancelled; nothing was saved`);
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}
