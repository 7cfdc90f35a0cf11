import assert from "node:assert/strict";
import { HttpError } from "@common/http_error.ts";
import { Admission } from "./admission.ts";

Deno.test("Admission runs up to the limit, queues the next ones in order", async () => {
  const admission = new Admission(2, 2);
  const first = await admission.enter();
  const second = await admission.enter();
  assert.equal(admission.running, 2);
  const order: string[] = [];
  const third = admission.enter().then((release) => (order.push("third"), release));
  const fourth = admission.enter().then((release) => (order.push("fourth"), release));
  assert.equal(admission.waiting, 2);
  first();
  (await third)();
  second();
  (await fourth)();
  assert.deepEqual(order, ["third", "fourth"]);
  assert.equal(admission.running, 0);
  assert.equal(admission.waiting, 0);
});

Deno.test("Admission refuses with 503 and Retry-After when the queue is full", async () => {
  const admission = new Admission(1, 1);
  const first = await admission.enter();
  const queued = admission.enter();
  await assert.rejects(admission.enter(), (error: unknown) => {
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 503);
    assert.equal(error.code, "overloaded");
    assert.equal(error.headers["retry-after"], "1");
    return true;
  });
  first();
  (await queued)();
  assert.equal(admission.running, 0);
});

Deno.test("Admission ignores a second release of the same slot", async () => {
  const admission = new Admission(1, 0);
  const release = await admission.enter();
  release();
  release();
  assert.equal(admission.running, 0);
  (await admission.enter())();
});

Deno.test("Admission refuses everything once closed, while admitted work goes on", async () => {
  const admission = new Admission(1, 4);
  const release = await admission.enter();
  admission.close();
  await assert.rejects(admission.enter(), /shutting down/);
  release();
  assert.equal(admission.running, 0);
});
