/**
 * The dispatch of async jobs. A client of `POST /enqueue` already has its 202
 * and expects the job to be queued, so a job the dispatch path refuses for
 * lack of room (`queue_full`, `no_replica`, `overloaded`, `unavailable`,
 * `busy`) keeps trying until its own deadline (`--pending-timeout`), and only
 * then fails, with 504 `pending_timeout` naming where it was and the last
 * refusal. The dispatch under it runs with the same deadline, so its own 504
 * `deadline_exceeded` means the job's time is up too, and becomes
 * `pending_timeout` as well.
 *
 * Waiting for queue room happens inside the dispatch (`queueShare`: woken by
 * the queue, no polling); refusals after attempts at replicas are tried again
 * after a backoff doubling from 250 ms to 4 s.
 *
 * @module
 */

import { HttpError } from "@common/http_error.ts";
import type { Dispatch } from "./dispatch.ts";
import { type JobProgress, newProgress, pendingTimeoutError } from "./pending_timeout.ts";

/** Refusals that mean "no room now", worth trying again while time is left. */
export const WAITABLE_CODES: ReadonlySet<string> = new Set([
  "queue_full",
  "no_replica",
  "overloaded",
  "unavailable",
  "busy",
]);

/** How long before its deadline a job that found no room gives up, in ms. */
const FINAL_MARGIN_MS = 100;

/** Options of {@linkcode createPatientDispatch}. */
export interface PatientOptions {
  /** The job's whole budget, in ms, from the call. */
  deadlineMs: number;
  /** Queue places async jobs may take (see `DispatchOptions.queueShare`). */
  queueShare: number;
  /** First wait after a refusal, in ms; doubled each time. @default 250 */
  backoffMs?: number;
  /** Longest wait after a refusal, in ms. @default 4000 */
  maxBackoffMs?: number;
}

/**
 * Classifies one job's image; resolves to the answer or the final refusal.
 * It records in `progress` where the job is, for the result store's timeout.
 */
export type PatientDispatch = (
  body: Uint8Array<ArrayBuffer>,
  contentType: string | null,
  signal: AbortSignal,
  progress?: JobProgress,
) => Promise<Response>;

/** Wraps `dispatch` so that refusals for lack of room are tried again until the deadline. */
export function createPatientDispatch(
  dispatch: Dispatch,
  options: PatientOptions,
): PatientDispatch {
  const { deadlineMs, queueShare, backoffMs = 250, maxBackoffMs = 4000 } = options;
  return async (body, contentType, signal, progress = newProgress()) => {
    const deadline = performance.now() + deadlineMs;
    const timedOut = () => {
      const { status, code, message } = pendingTimeoutError(deadlineMs, progress);
      return new HttpError(status, code, message).response();
    };
    const onStage = (stage: JobProgress["stage"], replica?: string) => {
      progress.stage = stage;
      progress.replica = replica;
    };
    let wait = backoffMs;
    while (true) {
      const response = await dispatch(body, contentType, {
        signal,
        deadlineMs: Math.max(0, deadline - performance.now()),
        queueShare,
        onStage,
      });
      if (await isDeadlineExceeded(response)) return timedOut();
      const refusal = await waitableRefusal(response);
      if (!refusal) return response;
      progress.refusals++;
      progress.lastRefusal = `${response.status} ${refusal.code}: ${refusal.message}`;
      onStage("backoff");
      const remaining = deadline - performance.now();
      // No new attempt once the time left would not cover the wait before it.
      if (remaining <= wait || signal.aborted) {
        await sleep(remaining - FINAL_MARGIN_MS, signal);
        return timedOut();
      }
      await sleep(wait, signal);
      wait = Math.min(wait * 2, maxBackoffMs);
    }
  };
}

/** True for the dispatch's own 504 `deadline_exceeded` (its body is then consumed). */
async function isDeadlineExceeded(response: Response): Promise<boolean> {
  if (response.status !== 504) return false;
  let parsed: { error?: unknown } = {};
  try {
    parsed = await response.clone().json();
  } catch {
    return false;
  }
  if (parsed.error !== "deadline_exceeded") return false;
  await response.body?.cancel();
  return true;
}

/** The code and message of a 503 meaning "no room now"; undefined for any other answer. */
async function waitableRefusal(
  response: Response,
): Promise<{ code: string; message: string } | undefined> {
  if (response.status !== 503) return undefined;
  let parsed: { error?: unknown; message?: unknown } = {};
  try {
    parsed = await response.clone().json();
  } catch {
    return undefined;
  }
  if (typeof parsed.error !== "string" || !WAITABLE_CODES.has(parsed.error)) return undefined;
  await response.body?.cancel();
  return { code: parsed.error, message: String(parsed.message ?? "") };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  // An abort before the call fires no event: check it, or the job lingers for `ms`.
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer: ReturnType<typeof setTimeout> = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
