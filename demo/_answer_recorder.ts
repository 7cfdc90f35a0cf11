/**
 * A loopback pass-through in front of the dispatcher that records, for every
 * `POST /classify`, when it was forwarded, when the answer was back, its status
 * and the replica the dispatcher named in `x-replica`. The load generator only
 * counts outcomes; a scale-down test also needs to know which replica served
 * what, and when.
 *
 * @module
 */

import { RecordBook } from "./_record_book.ts";

/** One request that passed through the recorder. */
export interface RecordedAnswer {
  /** `host:port` from the dispatcher's `x-replica` header; null when absent. */
  replica: string | null;
  /** HTTP status passed back; 0 when the dispatcher could not be reached. */
  status: number;
  /** `Date.now()` just before the request went to the dispatcher. */
  forwardedAt: number;
  /** `Date.now()` once the whole answer was back. */
  answeredAt: number;
}

/** A running recorder. */
export interface AnswerRecorder {
  /** Base URL to send load to, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every finished request, in order of completion. */
  readonly answers: RecordBook<RecordedAnswer>;
  /** Requests forwarded and not yet answered now. */
  inFlight(): number;
  /** Resolves at a moment when at least one request is in flight. */
  busy(timeoutMs: number): Promise<void>;
  /** Stops listening once the requests in flight are answered. */
  close(): Promise<void>;
}

/** Starts a recorder on a free loopback port that forwards to `dispatcherUrl`. */
export function startAnswerRecorder(dispatcherUrl: string): AnswerRecorder {
  const answers = new RecordBook<RecordedAnswer>();
  let inFlight = 0;

  const handle = async (request: Request): Promise<Response> => {
    const body = new Uint8Array(await request.arrayBuffer());
    const contentType = request.headers.get("content-type") ?? "application/octet-stream";
    const forwardedAt = Date.now();
    inFlight++;
    answers.poke();
    try {
      const upstream = await fetch(`${dispatcherUrl}/classify`, {
        method: "POST",
        body,
        headers: { "content-type": contentType },
      });
      const answer = await upstream.arrayBuffer();
      inFlight--;
      answers.add({
        replica: upstream.headers.get("x-replica"),
        status: upstream.status,
        forwardedAt,
        answeredAt: Date.now(),
      });
      return new Response(answer, {
        status: upstream.status,
        headers: { "content-type": upstream.headers.get("content-type") ?? "text/plain" },
      });
    } catch (error) {
      inFlight--;
      answers.add({ replica: null, status: 0, forwardedAt, answeredAt: Date.now() });
      return new Response(`Cannot reach the dispatcher: ${(error as Error).message}`, {
        status: 502,
      });
    }
  };

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handle);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    answers,
    inFlight: () => inFlight,
    busy: (timeoutMs) => answers.until("a request in flight", () => inFlight > 0, timeoutMs),
    close: () => server.shutdown(),
  };
}
