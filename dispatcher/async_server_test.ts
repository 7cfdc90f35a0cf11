import assert from "node:assert/strict";
import { createLogger, type Logger } from "@common/log.ts";
import { type Dispatcher } from "./server.ts";
import { type FakeReplica, startFakeReplica, startTestDispatcher } from "./_test_support.ts";

/** A logger whose lines can be awaited: each line resolves the waiters. */
function watchedLogger(): { logger: Logger; nextLine(): Promise<void> } {
  let waiters: (() => void)[] = [];
  const logger = createLogger({
    component: "test",
    level: "debug",
    write: () => {
      for (const resolve of waiters.splice(0)) resolve();
      waiters = [];
    },
  });
  return { logger, nextLine: () => new Promise((resolve) => waiters.push(resolve)) };
}

interface Harness {
  dispatcher: Dispatcher;
  nextLine(): Promise<void>;
  enqueue(image: Uint8Array): Promise<string>;
  result(id: string): Promise<Record<string, unknown>>;
  gauge(status: string): Promise<number>;
  close(): Promise<void>;
}

async function harness(replica: FakeReplica, args: string[] = []): Promise<Harness> {
  const { logger, nextLine } = watchedLogger();
  const { dispatcher, close } = await startTestDispatcher([replica], { args, logger });
  return {
    dispatcher,
    nextLine,
    async enqueue(image) {
      const response = await fetch(`${dispatcher.url}/enqueue`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ data: image.toBase64() }),
      });
      const body = await response.json();
      assert.equal(response.status, 202, JSON.stringify(body));
      assert.equal(body.status, "pending");
      assert.equal(response.headers.get("location"), `/result/${body.id}`);
      return body.id;
    },
    async result(id) {
      const response = await fetch(`${dispatcher.url}/result/${id}`);
      assert.equal(response.status, 200);
      return await response.json();
    },
    async gauge(status) {
      const text = await (await fetch(`${dispatcher.url}/metrics`)).text();
      const found = text.match(
        new RegExp(`^dispatcher_async_jobs\\{status="${status}"\\} (\\S+)$`, "m"),
      );
      assert.ok(found, `dispatcher_async_jobs{status="${status}"} is exported`);
      return Number(found[1]);
    },
    close,
  };
}

/** Polls `GET /result/:id`; the wait between polls is the job's own progress (a log line). */
async function pollUntilSettled(h: Harness, id: string): Promise<Record<string, unknown>> {
  for (let polls = 0; polls < 100; polls++) {
    const next = h.nextLine();
    const view = await h.result(id);
    if (view.status !== "pending") return view;
    // The job logs "async job finished" at debug level when it settles.
    await Promise.race([next, h.dispatcher.asyncJobs.settled()]);
  }
  throw new Error(`Job ${id} still pending after 100 polls`);
}

Deno.test("POST /enqueue then GET /result answer what POST /classify answers", async () => {
  let open = Promise.withResolvers<void>();
  const gate = () => open.promise;
  const replica = await startFakeReplica({ gate });
  const h = await harness(replica);
  try {
    const image = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 7, 7, 7, 7, 9]);
    assert.deepEqual(
      [await h.gauge("pending"), await h.gauge("done"), await h.gauge("failed")],
      [0, 0, 0],
    );

    const id = await h.enqueue(image);
    // The replica holds the job, so it is pending for certain.
    assert.deepEqual(await h.result(id), { id, status: "pending" });
    assert.equal(await h.gauge("pending"), 1);
    open.resolve();
    const view = await pollUntilSettled(h, id);
    assert.equal(view.status, "done", JSON.stringify(view));
    assert.deepEqual([await h.gauge("pending"), await h.gauge("done")], [0, 1]);

    // The same bytes through the synchronous route give the same answer.
    open = Promise.withResolvers<void>();
    open.resolve();
    const direct = await fetch(`${h.dispatcher.url}/classify`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: image,
    });
    assert.equal(direct.status, 200);
    assert.deepEqual(view.result, await direct.json());
    assert.deepEqual(replica.seen.map((seen) => seen.bytes), [image.length, image.length]);
  } finally {
    open.resolve();
    await h.close();
  }
});

Deno.test("an async job that fails at the replica reports the replica's refusal", async () => {
  const replica = await startFakeReplica({ status: 415 });
  const h = await harness(replica);
  try {
    const id = await h.enqueue(new Uint8Array([1, 2, 3]));
    const view = await pollUntilSettled(h, id);
    assert.equal(view.status, "failed");
    assert.deepEqual(view.error, { status: 415, code: "status_415", message: "Fake refusal" });
    assert.equal(await h.gauge("failed"), 1);
  } finally {
    await h.close();
  }
});

Deno.test("an async job waits past --deadline, up to --pending-timeout", async () => {
  // --deadline 0.05 s would end a synchronous request before the replica answers.
  const released = Promise.withResolvers<void>();
  const replica = await startFakeReplica({ gate: () => released.promise });
  const h = await harness(replica, ["--deadline", "0.05", "--upstream-timeout", "30"]);
  try {
    const id = await h.enqueue(new Uint8Array([5, 6, 7]));
    const sync = await fetch(`${h.dispatcher.url}/classify`, {
      method: "POST",
      body: new Uint8Array([5, 6, 7]),
    });
    assert.equal(sync.status, 504);
    await sync.body?.cancel();
    // The synchronous request's deadline has passed; the async job is still on.
    assert.deepEqual(await h.result(id), { id, status: "pending" });
    released.resolve();
    assert.equal((await pollUntilSettled(h, id)).status, "done");
  } finally {
    released.resolve();
    await h.close();
  }
});

Deno.test("shutdown fails pending async jobs and waits for them", async () => {
  const replica = await startFakeReplica({ gate: () => new Promise(() => {}) });
  const h = await harness(replica);
  let closed = false;
  try {
    const id = await h.enqueue(new Uint8Array([9, 9, 9]));
    assert.equal(h.dispatcher.asyncJobs.running, 1);
    await h.dispatcher.shutdown();
    closed = true;
    assert.equal(h.dispatcher.asyncJobs.running, 0);
    const view = h.dispatcher.results.get(id);
    assert.equal(view?.status, "failed");
    assert.equal(view.status === "failed" && view.error.code, "shutting_down");
    assert.equal(h.dispatcher.results.counts().pending, 0);
  } finally {
    if (!closed) await h.dispatcher.shutdown();
    await h.close();
  }
});

Deno.test("the 404 answer lists the async routes", async () => {
  const replica = await startFakeReplica();
  const h = await harness(replica);
  try {
    const response = await fetch(`${h.dispatcher.url}/nowhere`);
    assert.equal(response.status, 404);
    const body = await response.json();
    for (const route of ["POST /classify", "POST /enqueue", "GET /result/:id"]) {
      assert.ok(body.accepted.includes(route), `${route} in ${JSON.stringify(body.accepted)}`);
    }
  } finally {
    await h.close();
  }
});

Deno.test("POST /enqueue shares the upload budget of POST /classify", async () => {
  const released = Promise.withResolvers<void>();
  const replica = await startFakeReplica({ gate: () => released.promise });
  // Room for one envelope of about 4 KiB, not for a 2 KB image on top.
  const h = await harness(replica, ["--max-buffered-bytes", "5000"]);
  try {
    // A job keeps its upload's reservation while the replica holds it.
    const id = await h.enqueue(new Uint8Array(3000));
    const refused = await fetch(`${h.dispatcher.url}/classify`, {
      method: "POST",
      body: new Uint8Array(2000),
    });
    assert.equal(refused.status, 503);
    assert.equal((await refused.json()).error, "busy");

    released.resolve();
    assert.equal((await pollUntilSettled(h, id)).status, "done");
    const accepted = await fetch(`${h.dispatcher.url}/classify`, {
      method: "POST",
      body: new Uint8Array(2000),
    });
    assert.equal(accepted.status, 200);
    await accepted.body?.cancel();
  } finally {
    released.resolve();
    await h.close();
  }
});
