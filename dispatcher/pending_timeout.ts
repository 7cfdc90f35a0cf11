/**
 * The one failure an async job gets when `--pending-timeout` passes: 504
 * `pending_timeout`, saying where the job was at that moment and the last
 * refusal it met. Both the job's own dispatch and the result store's sweep
 * build it from the same {@linkcode JobProgress}, so whichever notices the
 * deadline first, the client reads the same kind of answer.
 *
 * @module
 */

import type { JobError } from "./result_store.ts";

/** Where an async job is on its way to a replica. */
export type JobStage = "starting" | "room" | "queue" | "replica" | "backoff";

/** What the dispatch of one async job has done so far; updated as it goes. */
export interface JobProgress {
  stage: JobStage;
  /** Address of the replica while `stage` is `replica`. */
  replica?: string;
  /** Dispatch attempts refused for lack of room so far. */
  refusals: number;
  /** The last such refusal, e.g. `503 queue_full: ...`. */
  lastRefusal?: string;
}

/** A fresh progress record for a job that has not been dispatched yet. */
export function newProgress(): JobProgress {
  return { stage: "starting", refusals: 0 };
}

function whereOf(progress: JobProgress): string {
  switch (progress.stage) {
    case "starting":
      return "waiting to be dispatched";
    case "room":
      return "waiting for room: the queue places async jobs may take were all taken";
    case "queue":
      return "in the queue, waiting for a replica with a free slot";
    case "replica":
      return `at replica ${progress.replica ?? "(unknown)"}, which had not answered yet`;
    case "backoff":
      return "waiting to try again after a refusal";
  }
}

/**
 * The error of a job that ran out of its `--pending-timeout` of `limitMs`.
 */
export function pendingTimeoutError(limitMs: number, progress: JobProgress): JobError {
  const refused = progress.lastRefusal
    ? `; ${progress.refusals} attempt(s) found no room, the last got ${progress.lastRefusal}`
    : "";
  return {
    status: 504,
    code: "pending_timeout",
    message: `Cannot finish the job within --pending-timeout (${limitMs} ms): it was ` +
      `${whereOf(progress)}${refused}; enqueue fewer jobs at once, add replicas, or start ` +
      "the dispatcher with a longer --pending-timeout, then enqueue the image again",
  };
}
