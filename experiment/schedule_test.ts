import assert from "node:assert/strict";
import type { PlannedRun } from "./config.ts";
import { runName, scheduleRuns } from "./schedule.ts";

const RUNS = ["rate", "hpa:0.7"].map((label): PlannedRun => ({
  label,
  policy: label === "rate" ? "rate" : "hpa",
  args: [],
  autoscalerArgs: [],
}));

Deno.test("scheduleRuns() interleaves the policies and numbers every folder", () => {
  const schedule = scheduleRuns(RUNS, 3);
  assert.deepEqual(
    schedule.map((run) => `${run.run.label}/${run.repeat}/${run.repeats}`),
    ["rate/1/3", "hpa:0.7/1/3", "rate/2/3", "hpa:0.7/2/3", "rate/3/3", "hpa:0.7/3/3"],
  );
  assert.deepEqual(schedule.map((run) => run.folder), [
    "1-rate-r1",
    "2-hpa-0.7-r1",
    "3-rate-r2",
    "4-hpa-0.7-r2",
    "5-rate-r3",
    "6-hpa-0.7-r3",
  ]);
});

Deno.test("scheduleRuns() without repeats names the folders as before", () => {
  assert.deepEqual(scheduleRuns(RUNS, 1).map((run) => run.folder), ["1-rate", "2-hpa-0.7"]);
  assert.equal(runName("hpa:0.7", 1, 1), "hpa:0.7");
  assert.equal(runName("hpa:0.7", 2, 3), "hpa:0.7 #2");
});
