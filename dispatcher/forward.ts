/**
 * Sends one classification request to a replica, and to another one when the
 * first cannot take it. Replicas come and go while the autoscaler works, so a
 * request can meet a replica that has just stopped (connection refused), one
 * that closed a kept-alive connection, or one that is draining or full (503).
 * None of these has processed the request, and the dispatcher holds the whole
 * body, so it sends the same bytes to a different replica, up to `retries`
 * times. What a replica did answer (2xx, 4xx, other 5xx) goes back as it is:
 * retrying a bad image elsewhere only repeats the refusal.
 *
 * @module
 */

import { HttpError } from "@common/http_error.ts";
import type { Logger } from "@common/log.ts";
import type { Replica, ReplicaPool } from "./replica_pool.ts";

/** Options of {@linkcode forward}. */
export interface ForwardOptions {
  pool: ReplicaPool;
  /** Extra attempts on other replicas after the first. */
  retries: number;
  /** How long one attempt may take, answer body included, in milliseconds. */
  timeoutMs: number;
  logger: Logger;
}

/** Seconds a client should wait before retrying when no replica could take a request. */
const RETRY_AFTER_SECONDS = 1;

type Attempt =
  | { kind: "answer"; response: Response }
  | { kind: "overloaded"; retryAfter?: number }
  | { kind: "unreachable"; detail: string }
  | { kind: "timeout" };

/**
 * Forwards `body` to `POST /infer` of a replica chosen by the pool, retrying on
 * a different replica after a connection failure or a 503.
 *
 * @returns the replica's answer with an `x-replica: host:port` header, or the
 *   dispatcher's own: 503 with Retry-After when no replica could take it, 504
 *   when a replica did not answer within the timeout
 */
export async function forward(
  body: Uint8Array<ArrayBuffer>,
  contentType: string | null,
  options: ForwardOptions,
): Promise<Response> {
  const { pool, retries, logger } = options;
  const tried = new Set<string>();
  const failures: string[] = [];
  let retryAfter = RETRY_AFTER_SECONDS;

  for (let attempt = 0; attempt <= retries; attempt++) {
    const replica = pool.acquire(tried);
    if (!replica) break;
    tried.add(replica.address);
    let result: Attempt;
    try {
      result = await attemptOnce(replica, body, contentType, options);
    } finally {
      pool.release(replica);
    }

    if (result.kind === "answer") return result.response;
    if (result.kind === "timeout") {
      logger.warn("replica did not answer in time", {
        replica: replica.address,
        timeoutMs: options.timeoutMs,
      });
      // No retry: a replica that needed this long is overloaded, and so are
      // likely the others; a second wait would double the client's.
      return new HttpError(
        504,
        "upstream_timeout",
        `Cannot classify: replica ${replica.address} gave no answer within ` +
          `${options.timeoutMs} ms`,
      ).response();
    }

    pool.penalize(replica);
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

  const headers = { "retry-after": String(Math.ceil(retryAfter)) };
  if (failures.length === 0) {
    throw new HttpError(503, "no_replica", "Cannot classify: no model replica is known yet", {
      headers,
    });
  }
  const allOverloaded = failures.every((failure) => failure.endsWith("overloaded"));
  if (!allOverloaded) logger.warn("every attempt failed", { failures });
  throw new HttpError(
    503,
    allOverloaded ? "overloaded" : "unavailable",
    `Cannot classify: ${failures.length} attempt(s) failed: ${failures.join("; ")}`,
    { headers },
  );
}

async function attemptOnce(
  replica: Replica,
  body: Uint8Array<ArrayBuffer>,
  contentType: string | null,
  options: ForwardOptions,
): Promise<Attempt> {
  const { timeoutMs } = options;
  const timeout = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = {};
  if (contentType !== null) headers["content-type"] = contentType;
  try {
    const upstream = await fetch(`http://${replica.address}/infer`, {
      method: "POST",
      body,
      headers,
      signal: timeout,
    });
    // Read the whole answer here, inside the timeout, so a connection that
    // breaks halfway through counts as a failed attempt and can be retried.
    const answer = await upstream.arrayBuffer();
    if (upstream.status === 503) {
      const retryAfter = Number(upstream.headers.get("retry-after"));
      return {
        kind: "overloaded",
        retryAfter: Number.isFinite(retryAfter) ? retryAfter : undefined,
      };
    }
    const passed = new Headers({
      "content-type": upstream.headers.get("content-type") ?? "application/json",
      "x-replica": replica.address,
    });
    const upstreamRetryAfter = upstream.headers.get("retry-after");
    if (upstreamRetryAfter !== null) passed.set("retry-after", upstreamRetryAfter);
    return {
      kind: "answer",
      response: new Response(answer, { status: upstream.status, headers: passed }),
    };
  } catch (error) {
    if (timeout.aborted) return { kind: "timeout" };
    return { kind: "unreachable", detail: (error as Error).message };
  }
}
