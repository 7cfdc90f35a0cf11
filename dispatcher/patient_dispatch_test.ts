import assert from "node:assert/strict";
import { HttpError } from "@common/http_error.ts";
import type { Dispatch, DispatchOptions } from "./dispatch.ts";
import { createPatientDispatch, WAITABLE_CODES } from "./patient_dispatch.ts";
import { newProgress } from "./pending_timeout.ts";

/** A dispatch that answers from a script and records what it was asked. */
function scripted(answers: (() => Response)[]) {
  const asked: DispatchOptions[] = [];
  const dispatch: Dispatch = (_body, _type, options = {}) => {
    asked.push(options);
    const next = answers.shift();
    assert.ok(next, "no more answers scripted");
    return Promise.resolve(next());
  };
  return { dispatch, asked };
}

const refusal = (status: number, code: string) => () =>
  new HttpError(status, code, `refused: ${code}`).response();
const ok = () => Response.json({ predictions: [] });

Deno.test("createPatientDispatch() tries again after each refusal for lack of room", async () => {
  for (const code of WAITABLE_CODES) {
    const { dispatch, asked } = scripted([refusal(503, code), ok]);
    const patient = createPatientDispatch(dispatch, {
      deadlineMs: 10_000,
      queueShare: 3,
      backoffMs: 1,
    });
    const response = await patient(new Uint8Array(1), null, new AbortController().signal);
    assert.equal(response.status, 200, code);
    assert.equal(asked.length, 2);
    assert.ok(asked.every((options) => options.queueShare === 3));
    // The second attempt gets only what is left of the job's deadline.
    assert.ok(asked[1].deadlineMs! <= asked[0].deadlineMs!);
  }
});

Deno.test("createPatientDispatch() passes every other answer through at once", async () => {
  const others = [refusal(503, "shutting_down"), refusal(504, "upstream_timeout")];
  for (const answer of [ok, refusal(400, "bad_image"), ...others]) {
    const { dispatch, asked } = scripted([answer]);
    const patient = createPatientDispatch(dispatch, { deadlineMs: 10_000, queueShare: 1 });
    const response = await patient(new Uint8Array(1), null, new AbortController().signal);
    assert.equal(response.status, answer().status);
    assert.equal(asked.length, 1);
  }
});

Deno.test("createPatientDispatch() fails with 504 naming the last refusal", async () => {
  const { dispatch, asked } = scripted([refusal(503, "no_replica"), refusal(503, "overloaded")]);
  const patient = createPatientDispatch(dispatch, {
    deadlineMs: 400,
    queueShare: 1,
    backoffMs: 250,
    maxBackoffMs: 1000,
  });
  const response = await patient(new Uint8Array(1), null, new AbortController().signal);
  assert.equal(response.status, 504);
  const body = await response.json();
  assert.equal(body.error, "pending_timeout");
  assert.match(body.message, /2 attempt\(s\).*503 overloaded: refused: overloaded/);
  assert.match(body.message, /enqueue fewer jobs at once, add replicas, .*--pending-timeout/);
  assert.equal(asked.length, 2);
});

Deno.test("createPatientDispatch() turns the dispatch deadline into pending_timeout", async () => {
  // The dispatch runs with the job's deadline, so its 504 means the job ran out of time.
  const dispatch: Dispatch = (_body, _type, options = {}) => {
    options.onStage?.("room");
    options.onStage?.("queue");
    options.onStage?.("replica", "127.0.0.1:7");
    return Promise.resolve(refusal(504, "deadline_exceeded")());
  };
  const patient = createPatientDispatch(dispatch, { deadlineMs: 3_000, queueShare: 1 });
  const progress = newProgress();
  const response = await patient(new Uint8Array(1), null, new AbortController().signal, progress);
  assert.equal(response.status, 504);
  const body = await response.json();
  assert.equal(body.error, "pending_timeout");
  assert.match(body.message, /\(3000 ms\): it was at replica 127\.0\.0\.1:7/);
  assert.doesNotMatch(body.message, /x-deadline-ms|last got/);
  assert.deepEqual(progress, { stage: "replica", replica: "127.0.0.1:7", refusals: 0 });
});

Deno.test("createPatientDispatch() keeps the last refusal for a later timeout", async () => {
  const stop = new AbortController();
  let calls = 0;
  const dispatch: Dispatch = (_body, _type, options = {}) => {
    options.onStage?.("room");
    // The second refusal comes as the job is stopped: no third attempt.
    if (++calls === 2) stop.abort();
    return Promise.resolve(refusal(503, calls === 1 ? "no_replica" : "queue_full")());
  };
  const patient = createPatientDispatch(dispatch, {
    deadlineMs: 5_000,
    queueShare: 1,
    backoffMs: 1,
  });
  const progress = newProgress();
  const response = await patient(new Uint8Array(1), null, stop.signal, progress);
  const body = await response.json();
  assert.equal(body.error, "pending_timeout");
  assert.match(body.message, /it was waiting to try again after a refusal/);
  assert.match(body.message, /2 attempt\(s\) found no room, the last got 503 queue_full: /);
  assert.equal(calls, 2);
});
