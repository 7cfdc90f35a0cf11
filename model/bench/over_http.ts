/**
 * One replica over HTTP, as clients meet it: a closed loop of concurrent
 * clients keeps it saturated while a probe times `/healthz` and `/metrics`;
 * an open loop at a low rate shows the latency of an idle replica.
 *
 * @module
 */

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
 * meanwhile `/healthz` is asked every 20 ms and `/metrics` every 200 ms (five
 * times as often as Prometheus scrapes it in the local setup: rendering the
 * metrics costs the replica CPU that asking at 50/s would take from images).
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
  const probe = async (path: string, everyMs: number) => {
    const times: number[] = [];
    while (performance.now() < end) {
      const started = performance.now();
      await (await fetch(`${baseUrl}${path}`)).arrayBuffer();
      times.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
    return times;
  };
  const started = performance.now();
  const [, healthz, metrics] = await Promise.all([
    Promise.all(Array.from({ length: clients }, client)),
    probe("/healthz", 20),
    probe("/metrics", 200),
  ]);
  const elapsed = (performance.now() - started) / 1000;
  return {
    load: figures(latencies, elapsed, failures),
    healthz: figures(healthz, elapsed),
    metrics: figures(metrics, elapsed),
  };
}

/**
 * One client that sends an image every 1/`rate` seconds and waits for each
 * answer before the next: the latency of a replica that is never queued.
 * Latency counts from the moment the request is sent, so the pacing timer's
 * own lateness does not count against the replica.
 */
export async function lowLoad(
  baseUrl: string,
  images: readonly BenchImage[],
  rate: number,
  seconds: number,
): Promise<PhaseFigures> {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const started = performance.now();
  for (let i = 0; performance.now() - started < seconds * 1000; i++) {
    const dueAt = started + (i * 1000) / rate;
    const wait = dueAt - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const image = images[i % images.length];
    const sent = performance.now();
    const response = await fetch(`${baseUrl}/infer`, {
      method: "POST",
      body: image.bytes,
      headers: { "content-type": image.contentType },
    });
    await response.arrayBuffer();
    if (response.ok) latencies.push(performance.now() - sent);
    else failures[response.status] = (failures[response.status] ?? 0) + 1;
  }
  return figures(latencies, (performance.now() - started) / 1000, failures);
}
