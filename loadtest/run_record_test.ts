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
      'timeline[1].p50Ms: expected a number or null, got "fast"',
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
});
