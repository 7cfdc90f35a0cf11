/**
 * Names, labels and buckets of every metric the system exposes. Components build
 * their metrics from these constants and the PromQL in `promql.ts` uses the same
 * ones, so renaming a metric here renames it everywhere.
 *
 * @module
 */

/** Metrics of a model replica. */
export const MODEL = {
  requests: "inference_requests_total",
  duration: "inference_duration_seconds",
  preprocessDuration: "inference_preprocess_duration_seconds",
  inFlight: "inference_in_flight",
  queueDepth: "inference_queue_depth",
  batchSize: "inference_batch_size",
  info: "model_info",
} as const;

/** Metrics of the dispatcher. */
export const DISPATCHER = {
  requests: "dispatcher_requests_total",
  duration: "dispatcher_request_duration_seconds",
  inFlight: "dispatcher_in_flight",
  replicaInFlight: "dispatcher_replica_in_flight",
  queueDepth: "dispatcher_queue_depth",
  queueDuration: "dispatcher_queue_duration_seconds",
  upstreamDuration: "dispatcher_upstream_duration_seconds",
  retries: "dispatcher_retries_total",
  ejections: "dispatcher_ejections_total",
  replicas: "dispatcher_replicas",
  asyncJobs: "dispatcher_async_jobs",
} as const;

/** Values of the `status` label on the dispatcher's async job gauge. */
export const ASYNC_JOB_STATUSES = ["pending", "done", "failed"] as const;

/** Metrics of the autoscaler itself. */
export const AUTOSCALER = {
  desired: "autoscaler_desired_replicas",
  current: "autoscaler_current_replicas",
  decisions: "autoscaler_decisions_total",
  metricValue: "autoscaler_metric_value",
  errors: "autoscaler_errors_total",
} as const;

/** Standard process metric that prom-client's default collectors export. */
export const PROCESS_CPU = "process_cpu_seconds_total";

/** Prometheus job names, as the generated scrape configuration spells them. */
export const JOBS = { model: "model", dispatcher: "dispatcher", autoscaler: "autoscaler" } as const;

/** Values of the `outcome` label on request counters. */
export const OUTCOMES = ["ok", "bad_input", "overloaded", "error"] as const;

/** One request outcome. */
export type Outcome = typeof OUTCOMES[number];

/**
 * Outcomes only the dispatcher reports on top of {@linkcode OUTCOMES}: its
 * deadline passed (504), or the client went away before the answer was ready.
 */
export const DISPATCHER_OUTCOMES = [...OUTCOMES, "timeout", "client_closed"] as const;

/** One outcome of a request at the dispatcher. */
export type DispatcherOutcome = typeof DISPATCHER_OUTCOMES[number];

/**
 * Latency buckets in seconds, from 5 ms to 10 s: fine where a healthy replica
 * answers (20-100 ms), coarse where only overload lands.
 */
export const LATENCY_BUCKETS = [
  0.005,
  0.01,
  0.02,
  0.03,
  0.05,
  0.075,
  0.1,
  0.15,
  0.2,
  0.3,
  0.5,
  0.75,
  1,
  2,
  5,
  10,
];
