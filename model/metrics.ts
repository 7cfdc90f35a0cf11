/**
 * A replica's metrics, in a registry of its own: requests by outcome, time
 * spent decoding and in ONNX Runtime, requests in flight, process metrics, and
 * `model_info`, whose labels say which weights are served so that synthetic
 * predictions are never mistaken for real ones on a dashboard.
 *
 * @module
 */

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { LATENCY_BUCKETS, MODEL, type Outcome, OUTCOMES } from "@common/metrics.ts";
import type { ModelIdentity } from "./model_identity.ts";

/** The replica's metrics and the registry that exposes them. */
export interface ModelMetrics {
  registry: Registry;
  /** Answered `/infer` requests by outcome. */
  requests: Counter<"outcome">;
  /** Seconds in ONNX Runtime per image. */
  duration: Histogram;
  /** Seconds decoding and preprocessing per image. */
  preprocessDuration: Histogram;
  /** `/infer` requests being decoded or scored now. */
  inFlight: Gauge;
  /** `/infer` requests waiting for a slot now; read from `queueDepth` at each scrape. */
  queueDepth: Gauge;
  /** Images per ONNX Runtime run. */
  batchSize: Histogram;
}

/** Creates the metrics in a fresh registry and sets `model_info` once. */
export function createModelMetrics(
  model: ModelIdentity,
  threads: number,
  decoder: string,
  queueDepth: () => number,
): ModelMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: MODEL.requests,
    help: "Requests to /infer answered, by outcome (ok, bad_input, overloaded, error)",
    labelNames: ["outcome"],
    registers,
  });
  // Zero-valued series from the start, so rate() sees the first request.
  for (const outcome of OUTCOMES) requests.inc({ outcome } satisfies { outcome: Outcome }, 0);
  const info = new Gauge({
    name: MODEL.info,
    help: "Always 1; labels name the served model and whether its weights are synthetic",
    labelNames: ["model", "weights", "sha256", "threads", "decoder"],
    registers,
  });
  const { name, weights, sha256 } = model;
  info.set({ model: name, weights, sha256, threads, decoder }, 1);
  return {
    registry,
    requests,
    duration: new Histogram({
      name: MODEL.duration,
      help: "Seconds ONNX Runtime spent on one image",
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    preprocessDuration: new Histogram({
      name: MODEL.preprocessDuration,
      help: "Seconds spent decoding and preprocessing one image",
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    inFlight: new Gauge({
      name: MODEL.inFlight,
      help: "Requests to /infer being decoded or scored now",
      registers,
    }),
    batchSize: new Histogram({
      name: MODEL.batchSize,
      help: "Images scored together in one ONNX Runtime run",
      buckets: [1, 2, 3, 4, 6, 8, 16],
      registers,
    }),
    queueDepth: new Gauge({
      name: MODEL.queueDepth,
      help: "Requests to /infer waiting for a slot now",
      registers,
      collect() {
        this.set(queueDepth());
      },
    }),
  };
}
