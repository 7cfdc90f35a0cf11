import assert from "node:assert/strict";
import { type JobStage, newProgress, pendingTimeoutError } from "./pending_timeout.ts";

Deno.test("pendingTimeoutError() says where the job was and what to change", async (t) => {
  const places: [JobStage, RegExp][] = [
    ["starting", /it was waiting to be dispatched;/],
    ["room", /it was waiting for room: the queue places async jobs may take were all taken;/],
    ["queue", /it was in the queue, waiting for a replica with a free slot;/],
    ["replica", /it was at replica 10\.0\.0\.9:8000, which had not answered yet;/],
    ["backoff", /it was waiting to try again after a refusal;/],
  ];
  for (const [stage, where] of places) {
    await t.step(stage, () => {
      const progress = { ...newProgress(), stage, replica: "10.0.0.9:8000" };
      const error = pendingTimeoutError(3000, progress);
      assert.equal(error.status, 504);
      assert.equal(error.code, "pending_timeout");
      assert.match(error.message, /^Cannot finish the job within --pending-timeout \(3000 ms\): /);
      assert.match(error.message, where);
      assert.doesNotMatch(error.message, /found no room/);
      // Advice for a client that enqueued, not for one holding a connection.
      assert.match(error.message, /enqueue fewer jobs at once, add replicas, or start the /);
      assert.doesNotMatch(error.message, /x-deadline-ms/);
    });
  }
});

Deno.test("pendingTimeoutError() names the last refusal when there was one", () => {
  const progress = newProgress();
  progress.stage = "backoff";
  progress.refusals = 4;
  progress.lastRefusal = "503 no_replica: none known";
  assert.match(
    pendingTimeoutError(500, progress).message,
    /after a refusal; 4 attempt\(s\) found no room, the last got 503 no_replica: none known; /,
  );
});
