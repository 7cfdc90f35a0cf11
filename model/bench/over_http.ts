/**
 * One replica over HTTP, as clients meet it: a closed loop of concurrent
 * clients keeps it saturated while a probe times `/healthz` and `/metrics`;
 * an open loop at a low rate shows the latency of an idle replica.
 *
 * @module
 */

import { runLoad } from "../../loadtest/run_load.ts";
import { figures, type PhaseFigures } from "./stats.ts";

/** One image to send, with its type. */
export interface BenchImage {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/** Saturation figures plus what the operator endpoints did meanwhile. */
export interface SaturationFigures {
  load: PhaseFigures;
  healthz: PhaseFigures;
  metrics: PhaseFigures;
}

/**
 * `clients` loops each send an image and wait for the answer, for `seconds`;
 * meanwhile `/healthz` and `/metrics` are asked every 20 ms.
 */
export async function saturate(
  baseUrl: string,
  images: readonly BenchImage[],
  clients: number,
  seconds: number,
): Promise<SaturationFigures> {
  const end = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let next = 0;
  const client = async () => {
    while (performance.now() < end) {
      const image = images[next++ % images.length];
      const started = performance.now();
      try {
        const response = await fetch(`${baseUrl}/infer`, {
          method: "POST",
          body: image.bytes,
          headers: { "content-type": image.contentType },
        });
        await response.arrayBuffer();
        if (response.ok) latencies.push(performance.now() - started);
        else failures[response.status] = (failures[response.status] ?? 0) + 1;
      } catch {
        failures.network = (failures.network ?? 0) + 1;
      }
    }
  };
  const probe = async (path: string) => {
    const times: number[] = [];
    while (performance.now() < end) {
      const started = performance.now();
      await (await fetch(`${baseUrl}${path}`)).arrayBuffer();
      times.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return times;
  };
  const started = performance.now();
  const [, healthz, metrics] = await Promise.all([
    Promise.all(Array.from({ length: clients }, client)),
    probe("/healthz"),
    probe("/metrics"),
  ]);
  const elapsed = (performance.now() - started) / 1000;
  return {
    load: figures(latencies, elapsed, failures),
    healthz: figures(healthz, elapsed),
    metrics: figures(metrics, elapsed),
  };
}

/** An open loop at `rate` images per second for `seconds`. */
export async function lowLoad(
  baseUrl: string,
  images: readonly BenchImage[],
  rate: number,
  seconds: number,
): Promise<PhaseFigures> {
  const summary = await runLoad({
    url: `${baseUrl}/infer`,
    steps: [{ rate, seconds }],
    images: images.map((image, i) => ({ name: String(i), ...image })),
  });
  const latency = summary.latencyMs;
  return {
    images: summary.ok,
    seconds: summary.durationSeconds,
    imagesPerSecond: summary.achievedRate,
    p50Ms: latency?.p50 ?? NaN,
    p95Ms: latency?.p95 ?? NaN,
    p99Ms: latency?.p99 ?? NaN,
    failures: summary.errors,
  };
}
