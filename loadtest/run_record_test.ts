import assert from "node:assert/strict";
import { checkRunRecord, parseRunRecord } from "./run_record.ts";
import { sampleRecord } from "./_sample_run.ts";

Deno.test("parseRunRecord() reads back what JSON.stringify wrote", () => {
  const record = sampleRecord();
  assert.deepEqual(parseRunRecord(JSON.stringify(record)), record);
});

Deno.test("parseRunRecord() reads a record with and without its replica source", () => {
  const record = sampleRecord();
  record.settings.replicaSource = "target file";
  assert.equal(parseRunRecord(JSON.stringify(record)).settings.replicaSource, "target file");
  // Records written before the field existed are still version 1 and still read.
  assert.equal(parseRunRecord(JSON.stringify(sampleRecord())).settings.replicaSource, undefined);
});

Deno.test("parseRunRecord() names the first field that does not fit", async (t) => {
  const cases: [string, (r: Record<string, unknown>) => void, string][] = [
    ["wrong version", (r) => r.version = 2, "version: expected 1 (this reader's version), got 2"],
    [
      "bad percentile",
      (r) => ((r.timeline as Record<string, unknown>[])[1].p50Ms = "fast"),
      'timeline[1].p50Ms: expected a number of ms from 0 or null, got "fast"',
    ],
    [
      "bad error count",
      (r) => ((r.summary as Record<string, unknown>).errors = { "503": -1 }),
      "summary.errors.503: expected a count, got -1",
    ],
    [
      "missing mode",
      (r) => delete (r.settings as Record<string, unknown>).mode,
      'settings.mode: expected "open" or "closed", got nothing',
    ],
    [
      "replica source not text",
      (r) => ((r.settings as Record<string, unknown>).replicaSource = 3),
      "settings.replicaSource: expected a string, got 3",
    ],
    [
      "negative count",
      (r) => ((r.timeline as Record<string, unknown>[])[0].offered = -2),
      "timeline[0].offered: expected a whole number from 0, got -2",
    ],
    [
      "negative rate",
      (r) => ((r.summary as Record<string, unknown>).achievedRate = -0.5),
      "summary.achievedRate: expected a number from 0, got -0.5",
    ],
    [
      "negative latency",
      (r) => ((r.timeline as Record<string, unknown>[])[0].p95Ms = -1),
      "timeline[0].p95Ms: expected a number of ms from 0 or null, got -1",
    ],
    [
      "fractional replica count",
      (r) => ((r.timeline as Record<string, unknown>[])[2].replicas = 1.5),
      "timeline[2].replicas: expected a whole number from 0 or null, got 1.5",
    ],
    [
      "non-finite number",
      (r) => ((r.settings as Record<string, unknown>).requestTimeoutMs = Infinity),
      "settings.requestTimeoutMs: expected a number from 0, got Infinity",
    ],
    [
      "t out of order",
      (r) => ((r.timeline as Record<string, unknown>[])[2].t = 2),
      "timeline[2].t: expected more than timeline[1].t (2), got 2",
    ],
    [
      "more ok than sent",
      (r) => ((r.summary as Record<string, unknown>).ok = 11),
      "summary.ok: expected at most summary.sent (10), got 11",
    ],
    [
      "more sent than offered",
      (r) => ((r.summary as Record<string, unknown>).sent = 12),
      "summary.sent: expected at most summary.offered (10), got 12",
    ],
    [
      "more answers than arrivals",
      (r) => ((r.summary as Record<string, unknown>).failed = 3),
      "summary.failed: expected at most summary.offered - summary.ok (10 - 8), got 3",
    ],
    [
      "percentiles out of order",
      (r) => {
        const latency = (r.summary as Record<string, Record<string, number>>).latencyMs;
        latency.p99 = 20;
      },
      "summary.latencyMs.p99: expected at least summary.latencyMs.p95 (61), got 20",
    ],
    [
      "timeline not a list",
      (r) => r.timeline = {},
      "timeline: expected an array, got {}",
    ],
  ];
  for (const [label, spoil, message] of cases) {
    await t.step(label, () => {
      const record = sampleRecord() as unknown as Record<string, unknown>;
      spoil(record);
      assert.throws(() => checkRunRecord(record), {
        name: "TypeError",
        message: `Cannot read run.json: ${message}`,
      });
    });
  }
  assert.throws(() => parseRunRecord("{"), { name: "SyntaxError" });
  // A damaged file whose types are right is refused by parseRunRecord too.
  const damaged = JSON.stringify(sampleRecord()).replace('"ok":8', '"ok":-8');
  assert.throws(() => parseRunRecord(damaged), /summary\.ok: expected a whole number from 0/);
});
