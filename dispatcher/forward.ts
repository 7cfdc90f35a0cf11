/**
 * One attempt at one replica: sends the body to its `POST /infer` and sorts
 * what came back into what the dispatcher can act on. A connection failure
 * or a 503 means the replica did not process the request (it had stopped,
 * closed a kept-alive connection, or was draining or full), so the caller
 * may send the same bytes elsewhere; any other answer (2xx, 4xx, other 5xx)
 * goes back to the client as it is.
 *
 * @module
 */

import type { Replica } from "./replica_pool.ts";

/** What one attempt gave. */
export type Attempt =
  | { kind: "answer"; response: Response }
  | { kind: "overloaded"; retryAfter?: number }
  | { kind: "unreachable"; detail: string }
  /** The attempt's own time limit passed. */
  | { kind: "timeout" }
  /** The request's deadline passed while the replica worked on it. */
  | { kind: "deadline" }
  /** The caller gave up (its client disconnected). */
  | { kind: "aborted" };

/** Limits of {@linkcode attemptOnce}. */
export interface AttemptLimits {
  /** How long the attempt may take, answer body included, in milliseconds. */
  timeoutMs: number;
  /** Milliseconds left before the request's deadline. */
  deadlineMs: number;
  /** The caller's signal; aborting it aborts the upstream request. */
  signal?: AbortSignal;
}

/**
 * Sends `body` to `replica` once.
 *
 * @returns the answer with an `x-replica: host:port` header, or why there is none
 */
export async function attemptOnce(
  replica: Replica,
  body: Uint8Array<ArrayBuffer>,
  contentType: string | null,
  limits: AttemptLimits,
): Promise<Attempt> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const deadline = AbortSignal.timeout(Math.max(0, limits.deadlineMs));
  const signals = [timeout, deadline];
  if (limits.signal) signals.push(limits.signal);
  const headers: Record<string, string> = {};
  if (contentType !== null) headers["content-type"] = contentType;
  try {
    const upstream = await fetch(`http://${replica.address}/infer`, {
      method: "POST",
      body,
      headers,
      signal: AbortSignal.any(signals),
    });
    // Read the whole answer here, inside the limits, so a connection that
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
    if (limits.signal?.aborted) return { kind: "aborted" };
    if (timeout.aborted) return { kind: "timeout" };
    if (deadline.aborted) return { kind: "deadline" };
    return { kind: "unreachable", detail: (error as Error).message };
  }
}
