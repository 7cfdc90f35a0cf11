/**
 * The one path every classification takes through the dispatcher, whether it
 * came in on `POST /classify` or through the asynchronous API: wait for room
 * at a replica (bounded queue, deadline), send, and on a connection failure
 * or a 503 send again to a replica not yet tried, as far as the retry budget
 * allows. Replica failures feed outlier ejection in the pool.
 *
 * @module
 */

import { HttpError } from "@common/http_error.ts";
import type { Logger } from "@common/log.ts";
import type { DispatchQueue } from "./dispatch_queue.ts";
import { attemptOnce } from "./forward.ts";
import { type DispatcherMetrics, outcomeOf } from "./metrics.ts";
import type { ReplicaPool } from "./replica_pool.ts";
import type { RetryBudget } from "./retry_budget.ts";

/** Per-call options of a {@linkcode Dispatch}. */
export interface DispatchOptions {
  /** Aborting it cancels the wait or the upstream request; the answer is then 499. */
  signal?: AbortSignal;
  /**
   * Milliseconds the caller grants this request, queue and replica included.
   * It can only shorten the configured deadline; a negative or NaN value is
   * ignored. @default the configured one
   */
  deadlineMs?: number;
  /**
   * When the request arrived (`performance.now()` ms), so the latency metric
   * includes what happened before the call, e.g. reading the body.
   * @default the time of the call
   */
  receivedAt?: number;
  /**
   * When set, the request joins the queue only while fewer than this many
   * wait; otherwise it waits outside the queue for room until its deadline
   * instead of getting 503 `queue_full` (async jobs, which must not take the
   * places synchronous requests need). @default unset: refused when full
   */
  queueShare?: number;
  /**
   * Told where the request is as it moves on: parked for room outside the
   * queue (`room`), in the queue (`queue`), or sent to a replica (`replica`,
   * with its address). Async jobs use it to say where a timeout caught them.
   */
  onStage?: (stage: "room" | "queue" | "replica", replica?: string) => void;
}

/**
 * Classifies `body` (sent as it is, with `contentType`) on some replica.
 *
 * Never rejects. It resolves to the replica's answer (2xx, 4xx, or a 5xx other
 * than 503, with `x-replica: host:port`) or to the dispatcher's own JSON
 * answer: 503 `queue_full` (queue full), `no_replica` (none known by the
 * deadline), `overloaded` or `unavailable` (every attempt failed), each with
 * Retry-After; 504 `deadline_exceeded` or `upstream_timeout`; 499
 * `client_closed` when `signal` aborted first. It counts the request in the
 * dispatcher's request and latency metrics.
 */
export type Dispatch = (
  body: Uint8Array<ArrayBuffer>,
  contentType: string | null,
  options?: DispatchOptions,
) => Promise<Response>;

/** What {@linkcode createDispatch} needs. */
export interface DispatchSetup {
  pool: ReplicaPool;
  queue: DispatchQueue;
  budget: RetryBudget;
  metrics: DispatcherMetrics;
  logger: Logger;
  /** Extra attempts on other replicas after the first. */
  retries: number;
  /** Time limit of one attempt, in milliseconds. */
  upstreamTimeoutMs: number;
  /** Longest a request may take in queue and at replicas, in milliseconds. */
  deadlineMs: number;
}

/** Seconds a client should wait before retrying when no replica could take a request. */
const RETRY_AFTER_SECONDS = 1;

/** Creates the dispatch function over the given pool, queue and budget. */
export function createDispatch(setup: DispatchSetup): Dispatch {
  const { metrics } = setup;
  return async (body, contentType, options = {}) => {
    const started = performance.now();
    const asked = options.deadlineMs;
    const deadlineMs = asked !== undefined && asked >= 0
      ? Math.min(asked, setup.deadlineMs)
      : setup.deadlineMs;
    const response = await run(setup, body, contentType, options, started + deadlineMs);
    const outcome = outcomeOf(response.status);
    metrics.requests.inc({ outcome });
    const since = options.receivedAt ?? started;
    metrics.duration.observe({ outcome }, (performance.now() - since) / 1000);
    return response;
  };
}

async function run(
  setup: DispatchSetup,
  body: Uint8Array<ArrayBuffer>,
  contentType: string | null,
  options: DispatchOptions,
  deadline: number,
): Promise<Response> {
  const { pool, queue, budget, metrics, logger, retries } = setup;
  const { signal } = options;
  const tried = new Set<string>();
  const failures: string[] = [];
  let retryAfter = RETRY_AFTER_SECONDS;
  let budgetSpent = false;
  budget.recordRequest();

  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) {
      if (!pool.hasCandidate(tried)) break;
      if (!budget.tryRetry()) {
        metrics.retries.inc({ decision: "refused" });
        budgetSpent = true;
        break;
      }
      metrics.retries.inc({ decision: "sent" });
    }

    const take = { deadline, exclude: tried, signal, admitted: attempt > 0 };
    const share = options.queueShare;
    const onStage = options.onStage ?? (() => {});
    onStage("queue");
    let slot = await queue.take({ ...take, maxDepth: share });
    // Time parked outside the queue is queueing too: the concurrency signal
    // (Little's law over this histogram's sum) must see the async backlog.
    let parkedMs = 0;
    // Only a first attempt can find the queue full (retries are admitted), so
    // nothing is excluded and the room it is woken for is room it can use.
    while (slot.kind === "full" && share !== undefined) {
      const parkedAt = performance.now();
      onStage("room");
      const room = await queue.waitForRoom({ maxDepth: share, deadline, signal });
      parkedMs += performance.now() - parkedAt;
      if (room !== "room") metrics.queueDuration.observe(parkedMs / 1000);
      if (room === "aborted") return clientClosed();
      if (room === "expired") {
        return deadlineExceeded(
          `waiting ${Math.round(parkedMs)} ms for one of the ${share} ` +
            "queue places async jobs may take",
        );
      }
      onStage("queue");
      slot = await queue.take({ ...take, maxDepth: share });
    }
    if (slot.kind === "none") break;
    if (slot.kind === "full") return queueFull(queue.depth);
    metrics.queueDuration.observe((slot.waitedMs + parkedMs) / 1000);
    if (slot.kind === "aborted") return clientClosed();
    if (slot.kind === "expired") {
      if (slot.noReplica && failures.length === 0) return noReplica();
      return deadlineExceeded(`waiting ${Math.round(slot.waitedMs)} ms for a free replica`);
    }

    const { replica } = slot;
    tried.add(replica.address);
    onStage("replica", replica.address);
    const sent = performance.now();
    metrics.inFlight.inc();
    const result = await attemptOnce(replica, body, contentType, {
      timeoutMs: setup.upstreamTimeoutMs,
      deadlineMs: deadline - sent,
      signal,
    }).finally(() => {
      metrics.inFlight.dec();
      queue.release(replica);
    });
    metrics.upstreamDuration.observe((performance.now() - sent) / 1000);

    if (result.kind === "aborted") return clientClosed();
    if (result.kind === "deadline") {
      return deadlineExceeded(`replica ${replica.address} worked on it`);
    }
    const failed = result.kind !== "answer" || result.response.status >= 500;
    if (!failed) {
      pool.recordSuccess(replica);
    } else {
      const ejectedMs = pool.recordFailure(replica);
      if (ejectedMs !== undefined) {
        metrics.ejections.inc();
        logger.warn("replica ejected after failures in a row", {
          replica: replica.address,
          ejectedMs,
        });
      }
    }

    if (result.kind === "answer") return result.response;
    if (result.kind === "timeout") {
      logger.warn("replica did not answer in time", {
        replica: replica.address,
        timeoutMs: setup.upstreamTimeoutMs,
      });
      // No retry: a replica that needed this long is overloaded, and so are
      // likely the others; a second wait would double the client's.
      return new HttpError(
        504,
        "upstream_timeout",
        `Cannot classify: replica ${replica.address} gave no answer within ` +
          `${setup.upstreamTimeoutMs} ms`,
      ).response();
    }
    if (result.kind === "overloaded") {
      retryAfter = Math.max(retryAfter, result.retryAfter ?? 0);
      failures.push(`${replica.address} overloaded`);
    } else {
      failures.push(`${replica.address} unreachable (${result.detail})`);
    }
    if (logger.debugEnabled) {
      logger.debug("attempt failed", { replica: replica.address, attempt, outcome: result.kind });
    }
  }

  return allFailed(failures, retryAfter, budgetSpent, logger);
}

function allFailed(
  failures: string[],
  retryAfter: number,
  budgetSpent: boolean,
  logger: Logger,
): Response {
  const allOverloaded = failures.every((failure) => failure.endsWith("overloaded"));
  if (!allOverloaded) logger.warn("every attempt failed", { failures, budgetSpent });
  const spent = budgetSpent ? "; no retry left in the retry budget" : "";
  return new HttpError(
    503,
    allOverloaded ? "overloaded" : "unavailable",
    `Cannot classify: ${failures.length} attempt(s) failed: ${failures.join("; ")}${spent}`,
    { headers: { "retry-after": String(Math.ceil(retryAfter)) } },
  ).response();
}

function queueFull(depth: number): Response {
  return new HttpError(
    503,
    "queue_full",
    `Cannot classify now: every replica is at its in-flight limit and ${depth} requests ` +
      "already wait; retry after the delay",
    { headers: { "retry-after": String(RETRY_AFTER_SECONDS) } },
  ).response();
}

function noReplica(): Response {
  return new HttpError(
    503,
    "no_replica",
    "Cannot classify: no model replica is known yet, and none appeared before the " +
      "request's deadline",
    { headers: { "retry-after": String(RETRY_AFTER_SECONDS) } },
  ).response();
}

function deadlineExceeded(where: string): Response {
  return new HttpError(
    504,
    "deadline_exceeded",
    `Cannot classify within the request's deadline: it passed while ${where}; ` +
      "send fewer requests at once or allow more time (x-deadline-ms)",
  ).response();
}

/** The status nginx made common for a client that left; nobody reads this answer. */
function clientClosed(): Response {
  return new HttpError(499, "client_closed", "The client closed the request before its answer")
    .response();
}
