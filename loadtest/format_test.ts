import assert from "node:assert/strict";
import { formatErrors, formatProgress, formatSummary } from "./format.ts";
import type { LoadProgress, LoadSummary } from "./run_load.ts";

Deno.test("formatErrors() lists the most frequent kind first, ties by name", () => {
  assert.equal(formatErrors({}), "-");
  assert.equal(formatErrors({ timeout: 1, "503": 4, "502": 1 }), "503 x4 502 x1 timeout x1");
});

Deno.test("formatProgress() fits one interval on one line", () => {
  const progress: LoadProgress = {
    elapsedSeconds: 3.02,
    totalSeconds: 30,
    intervalSeconds: 1,
    offered: 10,
    offeredRate: 10,
    ok: 9,
    achievedRate: 9,
    errors: { "503": 1 },
    p50Ms: 45.4,
    p95Ms: null,
    p99Ms: null,
    outstanding: 3,
    replicas: 2,
  };
  assert.equal(
    formatProgress(progress),
    "[  3/30 s]  offered   10.0/s  ok    9.0/s  p50    45 ms  p95     - ms  out 3  replicas 2" +
      "  errors 503 x1",
  );
  assert.doesNotMatch(formatProgress({ ...progress, replicas: null }), /replicas/);
});

Deno.test("formatSummary() says when a run stopped early and when nothing answered", () => {
  const summary: LoadSummary = {
    url: "http://127.0.0.1:1/classify",
    mode: "open",
    scheduledSeconds: 10,
    durationSeconds: 4.25,
    offered: 8,
    sent: 8,
    ok: 0,
    failed: 8,
    errors: { network: 8 },
    latencyMs: null,
    offeredRate: 0.8,
    achievedRate: 0,
    stoppedEarly: true,
  };
  assert.equal(
    formatSummary(summary),
    [
      "8 offered, 8 sent, 0 ok, 8 failed in 4.3 s (stopped early; profile was 10 s)",
      "rate: 0.00 ok/s achieved, 0.80/s offered",
      "latency of ok answers: none answered",
      "errors: network x8",
    ].join("\n"),
  );
});

Deno.test("formatSummary() gives every percentile of the ok answers", () => {
  const summary: LoadSummary = {
    url: "http://127.0.0.1:1/classify",
    mode: "closed",
    scheduledSeconds: 10,
    durationSeconds: 10.02,
    offered: 100,
    sent: 100,
    ok: 100,
    failed: 0,
    errors: {},
    latencyMs: { p50: 40.111, p90: 55, p95: 60.5, p99: 80, p999: 91.25, max: 92 },
    offeredRate: 10,
    achievedRate: 9.98,
    stoppedEarly: false,
  };
  assert.equal(
    formatSummary(summary).split("\n")[2],
    "latency of ok answers (ms): p50 40.1, p90 55.0, p95 60.5, p99 80.0, p99.9 91.3, max 92.0",
  );
});
