/**
 * A small, complete run record for the tests of run.json and of the reports:
 * three seconds of a spike with a 503 and a timeout, replicas 1 then 2.
 *
 * @module
 */

import type { RunRecord } from "./run_record.ts";

/** A fresh copy of the sample record, as --out writes it. */
export function sampleRecord(): RunRecord {
  return {
    version: 1,
    startedAt: "2026-12-04T18:00:00.000Z",
    settings: {
      url: "http://127.0.0.1:9000/classify",
      mode: "open",
      profile: { kind: "spike", rate: 2, peak: 6, at: 1, for: 1, seconds: 3 },
      users: null,
      thinkTimeMs: null,
      maxOutstanding: 1000,
      requestTimeoutMs: 30_000,
      drainTimeoutMs: 30_000,
      prometheusUrl: null,
      images: { dir: "images", count: 2 },
    },
    timeline: [
      point(1, 2, 2, {}, 40, 1),
      point(2, 6, 5, { "503": 1 }, 55, 1),
      point(3, 2, 1, { "503": 1, timeout: 1 }, null, 2),
    ],
    summary: {
      url: "http://127.0.0.1:9000/classify",
      mode: "open",
      scheduledSeconds: 3,
      durationSeconds: 3.2,
      offered: 10,
      sent: 10,
      ok: 8,
      failed: 2,
      errors: { "503": 1, timeout: 1 },
      latencyMs: { p50: 41.5, p90: 60.1, p95: 61, p99: 70.25, p999: 70.25, max: 70.3 },
      offeredRate: 3.33,
      achievedRate: 2.5,
      stoppedEarly: false,
    },
  };
}

function point(
  t: number,
  offered: number,
  ok: number,
  errors: Record<string, number>,
  p50: number | null,
  replicas: number | null,
) {
  return {
    t,
    seconds: 1,
    offered,
    offeredRate: offered,
    ok,
    achievedRate: ok,
    errors,
    p50Ms: p50,
    p95Ms: p50 === null ? null : p50 * 1.5,
    p99Ms: p50 === null ? null : p50 * 2,
    outstanding: 0,
    replicas,
  };
}
