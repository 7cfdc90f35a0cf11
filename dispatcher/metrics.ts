/**
 * The dispatcher's metrics, in a registry of its own: the request counter the
 * autoscaler's rate policy reads, latency, concurrency and the replica count.
 *
 * @module
 */

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { DISPATCHER, LATENCY_BUCKETS, type Outcome, OUTCOMES } from "@common/metrics.ts";

/** The dispatcher's metrics and the registry that exposes them. */
export interface DispatcherMetrics {
  registry: Registry;
  /** Answered `/classify` requests by outcome. */
  requests: Counter<"outcome">;
  /** Time from receiving a `/classify` request to answering it, in seconds. */
  duration: Histogram<"outcome">;
  /** `/classify` requests being handled now. */
  inFlight: Gauge;
  /** Replicas in the target file now. */
  replicas: Gauge;
}

/** Options of {@linkcode createDispatcherMetrics}. */
export interface DispatcherMetricsOptions {
  /** Also export prom-client's process metrics (CPU, memory, ...). @default true */
  processMetrics?: boolean;
}

/** Creates the metrics in a fresh registry (never the global one). */
export function createDispatcherMetrics(options: DispatcherMetricsOptions = {}): DispatcherMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: DISPATCHER.requests,
    help: "Requests to /classify answered, by outcome (ok, bad_input, overloaded, error)",
    labelNames: ["outcome"],
    registers,
  });
  // Zero-valued series from the start, so rate() sees the first request.
  for (const outcome of OUTCOMES) requests.inc({ outcome } satisfies { outcome: Outcome }, 0);
  return {
    registry,
    requests,
    duration: new Histogram({
      name: DISPATCHER.duration,
      help: "Seconds from receiving a /classify request to answering it, by outcome",
      labelNames: ["outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    inFlight: new Gauge({
      name: DISPATCHER.inFlight,
      help: "Requests to /classify being handled now",
      registers,
    }),
    replicas: new Gauge({
      name: DISPATCHER.replicas,
      help: "Model replicas the dispatcher knows from the target file",
      registers,
    }),
  };
}

/** The outcome label for an HTTP status answered to a client. */
export function outcomeOf(status: number): Outcome {
  if (status >= 200 && status < 400) return "ok";
  if (status === 503) return "overloaded";
  if (status >= 400 && status < 500) return "bad_input";
  return "error";
}
