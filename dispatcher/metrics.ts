/**
 * The dispatcher's metrics, in a registry of its own: the request counter the
 * autoscaler's rate policy reads, latency, the queue and the requests at
 * replicas (which its concurrency policy reads), retries, ejections, the
 * replica count and the async jobs held.
 *
 * @module
 */

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import {
  ASYNC_JOB_STATUSES,
  DISPATCHER,
  DISPATCHER_OUTCOMES,
  type DispatcherOutcome,
  LATENCY_BUCKETS,
} from "@common/metrics.ts";

/** The dispatcher's metrics and the registry that exposes them. */
export interface DispatcherMetrics {
  registry: Registry;
  /** Answered classification requests by outcome. */
  requests: Counter<"outcome">;
  /** Time from receiving a classification request to answering it, in seconds. */
  duration: Histogram<"outcome">;
  /** Requests sent to replicas and not yet answered. */
  inFlight: Gauge;
  /** Seconds each request waited for a free replica (0 when one was free). */
  queueDuration: Histogram;
  /** Seconds of each attempt at a replica, answer body included. */
  upstreamDuration: Histogram;
  /** Retries by decision: `sent`, or `refused` by the retry budget. */
  retries: Counter<"decision">;
  /** Replicas set aside after failures in a row. */
  ejections: Counter;
  /** Replicas known now, from the target file or the Service's EndpointSlices. */
  replicas: Gauge;
  /** Async jobs held in the result store, by status: pending, done, failed. */
  asyncJobs: Gauge<"status">;
}

/** The live state the gauges read at each scrape. */
export interface LoadSource {
  /** Requests waiting in the queue now. */
  queueDepth(): number;
  /** Each known replica and its requests in flight. */
  replicas(): readonly { address: string; outstanding: number }[];
}

/** Options of {@linkcode createDispatcherMetrics}. */
export interface DispatcherMetricsOptions {
  /** Also export prom-client's process metrics (CPU, memory, ...). @default true */
  processMetrics?: boolean;
  /** Where the queue depth and per-replica gauges read; without it they stay empty. */
  load?: LoadSource;
}

/** Creates the metrics in a fresh registry (never the global one). */
export function createDispatcherMetrics(options: DispatcherMetricsOptions = {}): DispatcherMetrics {
  const registry = new Registry();
  const registers = [registry];
  const { load } = options;
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: DISPATCHER.requests,
    help: "Classification requests answered, by outcome " +
      "(ok, bad_input, overloaded, error, timeout, client_closed)",
    labelNames: ["outcome"],
    registers,
  });
  // Zero-valued series from the start, so rate() sees the first request.
  for (const outcome of DISPATCHER_OUTCOMES) {
    requests.inc({ outcome } satisfies { outcome: DispatcherOutcome }, 0);
  }
  const retries = new Counter({
    name: DISPATCHER.retries,
    help: "Retries on another replica, by decision (sent, refused by the retry budget)",
    labelNames: ["decision"],
    registers,
  });
  for (const decision of ["sent", "refused"]) retries.inc({ decision }, 0);
  const asyncJobs = new Gauge({
    name: DISPATCHER.asyncJobs,
    help: "Async jobs held in the result store, by status (pending, done, failed)",
    labelNames: ["status"],
    registers,
  });
  for (const status of ASYNC_JOB_STATUSES) asyncJobs.set({ status }, 0);

  new Gauge({
    name: DISPATCHER.queueDepth,
    help: "Requests waiting for a free replica now",
    registers,
    collect() {
      this.set(load?.queueDepth() ?? 0);
    },
  });
  // Rebuilt at each scrape from the pool, so a replica that left loses its series.
  new Gauge({
    name: DISPATCHER.replicaInFlight,
    help: "Requests the dispatcher has at each replica now",
    labelNames: ["replica"],
    registers,
    collect() {
      this.reset();
      for (const replica of load?.replicas() ?? []) {
        this.set({ replica: replica.address }, replica.outstanding);
      }
    },
  });

  return {
    registry,
    requests,
    duration: new Histogram({
      name: DISPATCHER.duration,
      help: "Seconds from receiving a classification request to answering it, by outcome",
      labelNames: ["outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    inFlight: new Gauge({
      name: DISPATCHER.inFlight,
      help: "Requests sent to replicas and not yet answered",
      registers,
    }),
    queueDuration: new Histogram({
      name: DISPATCHER.queueDuration,
      help: "Seconds each request waited for a free replica (0 when one was free at once)",
      buckets: [0, ...LATENCY_BUCKETS],
      registers,
    }),
    upstreamDuration: new Histogram({
      name: DISPATCHER.upstreamDuration,
      help: "Seconds of each attempt at a replica, answer body included",
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    retries,
    ejections: new Counter({
      name: DISPATCHER.ejections,
      help: "Replicas set aside after failures in a row",
      registers,
    }),
    replicas: new Gauge({
      name: DISPATCHER.replicas,
      help: "Model replicas the dispatcher knows now (target file or EndpointSlices)",
      registers,
    }),
    asyncJobs,
  };
}

/** The outcome label for an HTTP status answered to a client. */
export function outcomeOf(status: number): DispatcherOutcome {
  if (status === 499) return "client_closed";
  if (status === 504) return "timeout";
  if (status >= 200 && status < 400) return "ok";
  if (status === 503) return "overloaded";
  if (status >= 400 && status < 500) return "bad_input";
  return "error";
}
