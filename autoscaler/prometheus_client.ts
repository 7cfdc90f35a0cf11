/**
 * Reads one number from Prometheus through its HTTP query API. Every way the
 * answer can be unusable is a value, not an exception, because the control loop
 * must keep running and hold the replica count whatever Prometheus does.
 *
 * @module
 */

/** Why a query gave no usable number. */
export type NoValueReason =
  | "unreachable"
  | "timeout"
  | "http_error"
  | "query_error"
  | "empty"
  | "not_finite"
  | "stale"
  | "bad_response";

/** The outcome of one query: a finite number, or the reason there is none. */
export type QueryResult =
  | { ok: true; value: number; time: number }
  | { ok: false; reason: NoValueReason; detail: string };

/** Anything that answers PromQL with one number; the autoscaler depends only on this. */
export interface MetricSource {
  query(promql: string): Promise<QueryResult>;
}

/** Options of {@linkcode PrometheusClient}. */
export interface PrometheusClientOptions {
  /** Base URL of the Prometheus server, e.g. `http://127.0.0.1:9090`. */
  url: string;
  /** How long one query may take, in milliseconds. @default 2000 */
  timeoutMs?: number;
  /**
   * A sample older than this many seconds counts as stale. Instant queries
   * already drop series older than five minutes; this is stricter. @default 60
   */
  maxAgeSeconds?: number;
  /** Clock in milliseconds, injectable for tests. @default Date.now */
  now?: () => number;
}

/** A {@linkcode MetricSource} backed by Prometheus's `/api/v1/query`. */
export class PrometheusClient implements MetricSource {
  #url: string;
  #timeoutMs: number;
  #maxAgeSeconds: number;
  #now: () => number;

  constructor(options: PrometheusClientOptions) {
    this.#url = options.url.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#maxAgeSeconds = options.maxAgeSeconds ?? 60;
    this.#now = options.now ?? Date.now;
  }

  /** Evaluates `promql` now and reduces the answer to one number or a reason. */
  async query(promql: string): Promise<QueryResult> {
    const url = `${this.#url}/api/v1/query?query=${encodeURIComponent(promql)}`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (error) {
      const name = (error as Error).name;
      if (name === "TimeoutError" || name === "AbortError") {
        return { ok: false, reason: "timeout", detail: `no answer within ${this.#timeoutMs} ms` };
      }
      return { ok: false, reason: "unreachable", detail: (error as Error).message };
    }

    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return {
        ok: false,
        reason: response.ok ? "bad_response" : "http_error",
        detail: `HTTP ${response.status} with a body that is not JSON`,
      };
    }
    return parseQueryResponse(body, response.status, this.#now() / 1000, this.#maxAgeSeconds);
  }
}

/**
 * Reduces a decoded `/api/v1/query` body to one number. A vector must hold
 * exactly one sample (queries are written to aggregate with `sum` or `count`);
 * `nowSeconds` and `maxAgeSeconds` decide staleness.
 */
export function parseQueryResponse(
  body: unknown,
  status: number,
  nowSeconds: number,
  maxAgeSeconds: number,
): QueryResult {
  const answer = body as {
    status?: string;
    error?: string;
    errorType?: string;
    data?: { resultType?: string; result?: unknown };
  };
  if (answer?.status === "error") {
    const detail = `${answer.errorType ?? "error"}: ${answer.error ?? "no message"}`;
    return { ok: false, reason: status >= 500 ? "http_error" : "query_error", detail };
  }
  if (status !== 200 || answer?.status !== "success" || !answer.data) {
    return { ok: false, reason: "http_error", detail: `HTTP ${status}` };
  }

  const { resultType, result } = answer.data;
  let sample: unknown;
  if (resultType === "scalar") {
    sample = result;
  } else if (resultType === "vector" && Array.isArray(result)) {
    if (result.length === 0) return { ok: false, reason: "empty", detail: "empty vector" };
    if (result.length > 1) {
      return {
        ok: false,
        reason: "bad_response",
        detail: `expected one series, got ${result.length}: aggregate the query`,
      };
    }
    sample = (result[0] as { value?: unknown }).value;
  } else {
    return { ok: false, reason: "bad_response", detail: `unexpected result type ${resultType}` };
  }

  if (!Array.isArray(sample) || sample.length !== 2) {
    return { ok: false, reason: "bad_response", detail: "sample is not [time, value]" };
  }
  const time = Number(sample[0]);
  // Prometheus sends values as strings so that NaN and ±Inf survive JSON.
  const value = Number(sample[1]);
  if (!Number.isFinite(value)) {
    return { ok: false, reason: "not_finite", detail: `value is ${sample[1]}` };
  }
  if (!Number.isFinite(time) || nowSeconds - time > maxAgeSeconds) {
    return { ok: false, reason: "stale", detail: `sample is from ${sample[0]}` };
  }
  return { ok: true, value, time };
}
